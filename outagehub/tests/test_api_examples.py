"""Every operation of the schema shows examples, each valid against its schema and shaped like the real answer.

The schema is walked, not listed: a new operation without examples fails here. Examples are
checked with OpenAPI 3.0 semantics (see `json_schema`), stricter than the schema itself: no field
the schema does not define, and in responses every field, since DRF writes every field of a serializer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from jsonschema import Draft4Validator, FormatChecker

from catalog.tests.factories import make_service
from probes.tests.test_services import DOWN, UP, feed, make_probe
from reports.api.auth import api_key_create
from reports.detection.tick import detection_tick
from reports.models import Confidence, EventKind, Outage, OutageEvent
from reports.tests.factories import ALICE, file_report

# The kinds of schema whose values are schemas themselves, and how they hold them.
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
SUBSCHEMAS = ("items", "not", "additionalProperties")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    response = Client().get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


# --- walking the schema ----------------------------------------------------------------------


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def bodies(operation: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(status or "request", media type, "request" or "response", media object) of every body of an operation."""
    for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
        yield "request", media_type, "request", media
    for status, response in operation["responses"].items():
        for media_type, media in response.get("content", {}).items():
            yield status, media_type, "response", media


def must_have_examples(status: str) -> bool:
    # Success bodies, the request body, and the 400 of every operation that takes input.
    return status in ("request", "400") or status.startswith("2")


# --- OpenAPI 3.0 schemas as JSON Schema ----------------------------------------------------


def json_schema(node: Any, direction: str) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema draft 4, its base, for checking a request or response example.

    Draft 4 has no `nullable`: a nullable schema becomes "that, or null", unless it has an `enum`
    without null (OpenAPI 3.0.3: other constraints still apply; drf-spectacular adds a NullEnum
    where null is allowed). `$ref`s stay, their siblings ignored as in 3.0, hence drf-spectacular's
    `allOf: [$ref]` with `nullable` beside it. Objects with properties get `additionalProperties:
    false` (a serializer writes no other field) and, in responses, every property required (DRF
    writes every field, optional or not; the schema only requires some).
    """
    if not isinstance(node, dict):
        return node
    converted = dict(node)
    converted.pop("nullable", None)
    if "properties" in node:
        converted["properties"] = {name: json_schema(sub, direction) for name, sub in node["properties"].items()}
        converted.setdefault("additionalProperties", False)
        if direction == "response":
            converted["required"] = list(node["properties"])
    for key in SUBSCHEMAS:
        if key in node:
            converted[key] = json_schema(node[key], direction)
    for key in SUBSCHEMA_LISTS:
        if key in node:
            converted[key] = [json_schema(sub, direction) for sub in node[key]]
    if not node.get("nullable") or None not in node.get("enum", [None]):
        return converted
    return {"anyOf": [converted, {"type": "null"}]}


# The formats our schema uses, checked as the API writes them (jsonschema checks none of them by itself
# without optional packages): times in UTC with a Z, links absolute.
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def is_utc_time(value: object) -> bool:
    return not isinstance(value, str) or (value.endswith("Z") and dt.datetime.fromisoformat(value).tzinfo is not None)


@FORMATS.checks("uri")
def is_link(value: object) -> bool:
    return not isinstance(value, str) or (urlsplit(value).scheme in ("http", "https") and bool(urlsplit(value).netloc))


def validator(schema: dict[str, Any], body_schema: dict[str, Any], direction: str) -> Draft4Validator:
    """A validator of `body_schema`, its `$ref`s resolved against the schema's converted components."""
    components = {name: json_schema(node, direction) for name, node in schema["components"]["schemas"].items()}
    root = {"allOf": [json_schema(body_schema, direction)], "components": {"schemas": components}}
    return Draft4Validator(root, format_checker=FORMATS)


def errors_of(schema: dict[str, Any], body_schema: dict[str, Any], direction: str, value: Any) -> list[str]:
    found = validator(schema, body_schema, direction).iter_errors(value)
    return [f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}" for error in found]


# --- every operation has examples, and they are valid ----------------------------------------


def test_every_body_an_operation_takes_or_answers_with_success_or_a_400_has_an_example(schema):
    checked, missing = 0, []
    for operation_name, operation in operations(schema):
        for status, media_type, _, media in bodies(operation):
            if not must_have_examples(status):
                continue
            checked += 1
            if not media.get("examples"):
                missing.append(f"{operation_name} {status} {media_type}")
    assert checked > 0, "the schema has no bodies: the walk is broken"
    assert not missing, "no example:\n" + "\n".join(missing)


def test_every_example_is_valid_against_the_schema_of_its_body(schema):
    checked, invalid = 0, []
    for operation_name, operation in operations(schema):
        for status, media_type, direction, media in bodies(operation):
            for name, example in media.get("examples", {}).items():
                checked += 1
                assert "value" in example, f"{operation_name} {status} {name} has no value"
                for error in errors_of(schema, media["schema"], direction, example["value"]):
                    invalid.append(f"{operation_name} {status} {media_type} {name}: {error}")
        for parameter in operation.get("parameters", []):
            for name, example in parameter.get("examples", {}).items():
                checked += 1
                for error in errors_of(schema, parameter["schema"], "request", example["value"]):
                    invalid.append(f"{operation_name} parameter {parameter['name']} {name}: {error}")
    assert checked > 0, "the schema has no examples: the walk is broken"
    assert not invalid, "invalid examples:\n" + "\n".join(invalid)


def test_list_examples_show_the_envelope_the_endpoint_pages_with(schema):
    outages = schema["paths"]["/api/v1/outages/"]["get"]["responses"]["200"]["content"]["application/json"]
    services = schema["paths"]["/api/v1/services/"]["get"]["responses"]["200"]["content"]["application/json"]
    cursor_page = next(iter(outages["examples"].values()))["value"]
    numbered_page = next(iter(services["examples"].values()))["value"]
    assert list(cursor_page) == ["next", "previous", "results"]
    assert list(numbered_page) == ["count", "next", "previous", "results"]
    # Our own links, not DRF's placeholders at api.example.org.
    assert urlsplit(cursor_page["next"]).path == "/api/v1/outages/"


def test_the_check_refuses_what_the_api_would_never_answer(schema):
    """The guard itself: a missing or unknown field, a null where none can be, a time not in UTC."""
    outage = {"$ref": "#/components/schemas/Outage"}
    value = schema_example(schema, "get", "/api/v1/outages/{outage_id}/", "200")
    value = {key: v for key, v in value.items() if key != "timeline"}
    assert errors_of(schema, outage, "response", value) == []
    assert errors_of(schema, outage, "response", {**value, "resolved_at": None}) == []

    missing_field = {key: v for key, v in value.items() if key != "confidence"}
    assert errors_of(schema, outage, "response", missing_field)
    assert errors_of(schema, outage, "response", {**value, "levle": "outage"})
    assert errors_of(schema, outage, "response", {**value, "started_at": None})
    assert errors_of(schema, outage, "response", {**value, "started_at": "2026-11-26 19:03"})
    assert errors_of(schema, outage, "response", {**value, "started_at": "2026-11-26T20:03:00+01:00"})
    assert errors_of(schema, outage, "response", {**value, "peak_count": "87"})
    # In a response even the fields the schema leaves optional are there: DRF writes them all.
    delivery = {"$ref": "#/components/schemas/WebhookDelivery"}
    value = schema_example(schema, "get", "/api/v1/webhooks/{webhook_id}/deliveries/", "200")["results"][0]
    assert "last_error" not in schema["components"]["schemas"]["WebhookDelivery"]["required"]
    assert errors_of(schema, delivery, "response", value) == []
    assert errors_of(schema, delivery, "response", {key: v for key, v in value.items() if key != "last_error"})
    # Null only where the schema allows it, behind a $ref too.
    item = {"$ref": "#/components/schemas/TimelineItem"}
    value = schema_example(schema, "get", "/api/v1/services/{slug}/timeline/", "200")["items"][0]
    assert errors_of(schema, item, "response", {**value, "probe": None}) == []
    assert errors_of(schema, item, "response", {**value, "probe": {"id": 31}})
    assert errors_of(schema, item, "response", {**value, "type": None})
    # A request may leave out what is optional.
    report = {"$ref": "#/components/schemas/ReportInput"}
    assert errors_of(schema, report, "request", {"issue_type": "payment"}) == []
    assert errors_of(schema, report, "request", {"issue_type": "payment", "comment": None}) == []
    assert errors_of(schema, report, "request", {"issue_type": 1})


# --- examples against real answers --------------------------------------------------------


def schema_example(schema: dict[str, Any], method: str, path: str, status: str, media: str = "application/json") -> Any:
    """The first example of a body: a status, or "request"."""
    operation = schema["paths"][path][method]
    content = operation["requestBody"]["content"] if status == "request" else operation["responses"][status]["content"]
    return next(iter(content[media]["examples"].values()))["value"]


# JSON fields whose keys are data (issue types, countries...), not field names.
FREE_FORM = {"issue_types", "countries", "data", "evidence", "payload"}


def shape(value: Any) -> Any:
    """The field names of a body, nested (lists by their first item), without the values."""
    if isinstance(value, dict):
        return {
            key: None if key in FREE_FORM and isinstance(item, dict) else shape(item) for key, item in value.items()
        }
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [shape(value[0])]
    return None


@pytest.fixture
def seeded(db) -> dict[str, int]:
    """A service with a report, an outage opened an hour ago, and a probe that went down and up since."""
    service = make_service("tiktok-shop", "TikTok Shop")
    now = timezone.now()
    file_report(service, "payment", comment="Card declined at checkout", now=now - dt.timedelta(minutes=5))
    # A tick over the report's minute: the service's status and problems come from the detector.
    detection_tick(service_id=service.pk, now=now)
    started = (now - dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    outage = Outage.objects.create(
        service=service,
        confidence=Confidence.CROWD,
        started_at=started,
        peak_at=started,
        peak_count=81,
        peak_expected=2.17,
        issue_types={"payment": 77},
        countries={"US": 48},
    )
    OutageEvent.objects.create(outage=outage, at=started, kind=EventKind.OPENED, data={"actual": 81})
    probe = make_probe(service=service, failure_threshold=1)
    feed(probe, [UP, DOWN, UP], start=now - dt.timedelta(minutes=10))
    return {"outage_id": outage.pk, "probe_id": probe.pk}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/services/",
        "/api/v1/services/{slug}/",
        "/api/v1/services/{slug}/comments/",
        "/api/v1/services/{slug}/series/",
        "/api/v1/services/{slug}/breakdown/",
        "/api/v1/services/{slug}/timeline/",
        "/api/v1/outages/",
        "/api/v1/outages/{outage_id}/",
        "/api/v1/probes/",
        "/api/v1/probes/{probe_id}/results/",
        "/api/v1/probes/{probe_id}/events/",
        "/api/v1/probes/{probe_id}/uptime/",
    ],
)
def test_reads_answer_with_the_fields_of_their_example(schema, seeded, path):
    response = Client().get(path.format(slug="tiktok-shop", **seeded))
    assert response.status_code == 200
    assert shape(response.json()) == shape(schema_example(schema, "get", path, "200"))


def test_a_report_filed_with_the_request_example_answers_with_the_fields_of_the_response_example(schema, seeded):
    path = "/api/v1/services/{slug}/reports/"
    body = schema_example(schema, "post", path, "request")
    response = Client(REMOTE_ADDR=str(ALICE)).post(
        path.format(slug="tiktok-shop"), body, content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    assert shape(response.json()) == shape(schema_example(schema, "post", path, "201"))


def test_status_updates_and_webhooks_posted_with_their_request_examples_answer_as_their_examples(schema, seeded):
    key = api_key_create(name="TikTok Shop status team", scopes=["service-updates", "webhooks"])[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    for path, url in [
        ("/api/v1/outages/{outage_id}/updates/", f"/api/v1/outages/{seeded['outage_id']}/updates/"),
        ("/api/v1/webhooks/", "/api/v1/webhooks/"),
    ]:
        body = schema_example(schema, "post", path, "request")
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 201, (path, response.json())
        assert shape(response.json()) == shape(schema_example(schema, "post", path, "201")), path
        listed = client.get(url)
        assert shape(listed.json()) == shape(schema_example(schema, "get", path, "200")), path


@pytest.mark.parametrize(
    ("method", "path", "url", "body"),
    [
        ("get", "/api/v1/services/", "/api/v1/services/?status=down", None),
        ("post", "/api/v1/services/{slug}/reports/", "/api/v1/services/tiktok-shop/reports/", {"issue_type": "login"}),
        ("get", "/api/v1/services/{slug}/comments/", "/api/v1/services/tiktok-shop/comments/?page_size=0", None),
        ("get", "/api/v1/services/{slug}/series/", "/api/v1/services/tiktok-shop/series/?bucket=5m", None),
    ],
)
def test_400_examples_are_the_body_the_api_answers_with(schema, seeded, method, path, url, body):
    if body is None:
        response = Client().get(url)
    else:
        response = Client(REMOTE_ADDR=str(ALICE)).post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == schema_example(schema, method, path, "400")


def test_the_csv_example_of_the_series_has_the_header_the_api_writes(schema, seeded):
    response = Client().get("/api/v1/services/tiktok-shop/series/?format=csv")
    example = schema_example(schema, "get", "/api/v1/services/{slug}/series/", "200", media="text/csv")
    assert response["Content-Type"].startswith("text/csv")
    assert example.split("\r\n")[0] == response.content.decode().split("\r\n")[0]
