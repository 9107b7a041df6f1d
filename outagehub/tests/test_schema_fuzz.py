"""Schema-driven fuzzing: schemathesis sends generated requests to every operation of the live schema.

In process, through the WSGI application (and so every middleware), on the test database. Each
generated request is sent as generated (random path parameters: mostly 404s) and again aimed at
seeded rows (a service, a probe with results and state changes, an outage with a timeline), so
query parameters and bodies reach the code behind the lookups. Checks: no 5xx, and every status
code, content type, header and body is one the schema documents, and what the schema forbids
is refused with a 4xx (less the leniencies listed in LENIENT_PARAMETERS and rejects_invalid_input).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from catalog.tests.factories import make_service
from outagehub.wsgi import application
from probes.tests.test_services import DOWN, UP, feed, make_probe
from reports.models import Confidence, EventKind, Outage, OutageEvent
from reports.tests.factories import ALICE, BOB, file_report

# Examples per operation: enough to reach every parameter and body field, bounded for CI.
MAX_EXAMPLES = 25

# An empty optional query parameter is read as absent, as HTML forms send them (documented in
# the README): GET .../timeline/?until= is the default window, not a 400. Nothing else is lenient.
LENIENT_PARAMETERS: dict[str, frozenset[str]] = {}


def rejects_invalid_input(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's negative_data_rejection (a 4xx for what the schema forbids), less the leniencies above."""
    data = case.meta.phase.data
    # Only the parts still invalid: a path parameter replaced by a seeded id was re-judged valid.
    invalid = {location for location, info in case.meta.components.items() if info.mode == GenerationMode.NEGATIVE}
    mutations = [mutation for mutation in data.mutations if mutation.parameter_location in invalid]
    negated = {data.parameter, *(mutation.parameter for mutation in mutations)} - {None}
    if negated & LENIENT_PARAMETERS.get(case.operation.label, frozenset()):
        return None
    if negated and all((case.query or {}).get(name) == "" for name in negated):
        return None
    # `?=`: a parameter without a name, which no view can read, like an unknown one.
    if not negated and [m.keywords for m in mutations] == [("additionalProperties",)] and set(case.query or {}) == {""}:
        return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    rejects_invalid_input,
]

# The socket peer a server would see: a public address, so reports get a reporter identity.
CLIENT = {"REMOTE_ADDR": str(ALICE)}

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)

# Schemathesis drives the app through WSGI in this thread, so the views share the test's
# connection; transaction=True makes each request commit as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seeded(settings) -> dict[str, Any]:
    """Rows for the operations to find, by path parameter name."""
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "100000/min"  # fuzz the intake, not the limiter
    service = make_service()
    file_report(service, "payment")
    file_report(service, "server", client=BOB)
    probe = make_probe(service=service, failure_threshold=1)
    feed(probe, [UP, DOWN, UP], start=timezone.now() - dt.timedelta(minutes=10))
    started = timezone.now() - dt.timedelta(hours=1)
    outage = Outage.objects.create(
        service=service,
        confidence=Confidence.CROWD,
        started_at=started,
        peak_at=started,
        peak_count=12,
        peak_expected=1.5,
        issue_types={"payment": 12},
        countries={"GB": 12},
    )
    OutageEvent.objects.create(outage=outage, at=started, kind=EventKind.OPENED, data={"actual": 12})
    return {"slug": service.slug, "probe_id": probe.pk, "outage_id": outage.pk}


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_api_answers_as_its_schema_says(case, seeded) -> None:
    case.call_and_validate(checks=CHECKS, environ_base=CLIENT)
    if case.path_parameters:
        # Assigning (not editing in place) makes schemathesis re-judge the case: a path
        # parameter that was the invalid part is now valid, so no 4xx is demanded for it.
        case.path_parameters = {name: seeded.get(name, value) for name, value in case.path_parameters.items()}
        case.call_and_validate(checks=CHECKS, environ_base=CLIENT)
