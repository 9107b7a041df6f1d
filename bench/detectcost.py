"""Detection cost: one minute's detection tick for N services, run one after another as one worker would."""

from __future__ import annotations

import datetime as dt
import time

from django.db import connection

from catalog.models import DEFAULT_ISSUE_TYPES, IssueType, Service
from outagehub.timebuckets import MINUTE, floor_minute
from reports.detection.tick import SETTLE, detection_tick
from reports.models import DetectorState, Report

PREFIX = "det"


def services_ensure(count: int) -> list[int]:
    """Ids of services det-0 ... det-(count-1), bulk-created with the default issue types where missing."""
    have = set(Service.objects.filter(slug__startswith=f"{PREFIX}-").values_list("slug", flat=True))
    missing = [Service(slug=f"{PREFIX}-{i}", name=f"Detect {i}") for i in range(count) if f"{PREFIX}-{i}" not in have]
    created = Service.objects.bulk_create(missing, batch_size=1000)
    IssueType.objects.bulk_create(
        [
            IssueType(service=s, key=key, label=label, order=n)
            for s in created
            for n, (key, label) in enumerate(DEFAULT_ISSUE_TYPES)
        ],
        batch_size=4000,
    )
    slugs = [f"{PREFIX}-{i}" for i in range(count)]
    return list(Service.objects.filter(slug__in=slugs).order_by("pk").values_list("pk", flat=True))


def _reports_add(ids: list[int], minute: dt.datetime, per_service: int) -> None:
    """`per_service` counted reports in `minute` for each service (server issue type)."""
    table = Report._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (service_id, issue_type_id, created_at, comment, comment_state, country,
                                     channel, counted)
            SELECT t.service_id, t.id, %s + make_interval(secs => g), '', 'visible', 'US', 'api', true
            FROM catalog_issuetype t, generate_series(1, %s) g
            WHERE t.service_id = ANY(%s) AND t.key = 'server'""",  # noqa: S608 - model's table
            [minute, per_service, ids],
        )


def detection_minute_seconds(*, services: int, at: dt.datetime | None = None) -> float:
    """Seconds one process takes to run the detection tick of one new minute for `services` services.

    One detector is brought to the minute before by a real tick (untimed) and its learned state
    given to every other, so each timed tick finds a warm detector and exactly one closed minute
    to process, with a few reports in it.
    """
    ids = services_ensure(services)
    minute = floor_minute(at or dt.datetime.now(dt.UTC)) - 10 * MINUTE
    for m in (minute - MINUTE, minute):
        _reports_add(ids, m, per_service=3)
    DetectorState.objects.filter(service_id=ids[0]).update(last_minute=minute - 2 * MINUTE)
    detection_tick(service_id=ids[0], now=minute + SETTLE)  # untimed: learn up to the minute before
    template = DetectorState.objects.get(service_id=ids[0])
    DetectorState.objects.filter(service_id__in=ids[1:]).delete()
    DetectorState.objects.bulk_create(
        [
            DetectorState(service_id=i, last_minute=template.last_minute, level=template.level, state=template.state)
            for i in ids[1:]
        ],
        batch_size=1000,
    )
    started = time.perf_counter()
    for service_id in ids:
        detection_tick(service_id=service_id, now=minute + MINUTE + SETTLE)
    return time.perf_counter() - started
