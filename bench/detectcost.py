"""Detection cost: one minute's detection for N services, in the batches one worker runs them in."""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any

from django.db import connection

from catalog.models import DEFAULT_ISSUE_TYPES, IssueType, Service
from outagehub.timebuckets import MINUTE, floor_minute
from reports.detection.detector import Detector, Params, Tracker
from reports.detection.tick import SETTLE, detection_batches, detection_tick_many
from reports.models import DetectorState, Report

PREFIX = "det"
HISTORY_DAYS = 3  # what the warm detectors have learned


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


def warm_state(*, until: dt.datetime) -> dict[str, Any]:
    """The saved state of a detector that has learned HISTORY_DAYS of quiet traffic up to `until` (pure, no database).

    Every time-of-day slot learned, so it is as large as a live service's and costs as much to load and save.
    """
    params = Params()
    detector, tracker = Detector(1.0, params), Tracker(params)
    rng = random.Random(1)
    at = until - dt.timedelta(days=HISTORY_DAYS)
    while at < until:
        tracker.update(detector.update(at, rng.choice((0, 1, 1, 2, 3))), interval_minutes=1.0)
        at += MINUTE
    return {"detector": detector.to_state(), "tracker": tracker.to_state()}


def detection_minute_seconds(*, services: int, at: dt.datetime | None = None) -> float:
    """Seconds one worker takes to detect over one new minute for `services` services, as the Celery tasks do.

    Every service gets a warm detector (warm_state) up to two minutes before; an untimed tick
    processes the minute before, rolling it up as the previous tick would have live. The timed
    tick then finds exactly one closed minute with a few reports in it for each service, and
    runs in the batches the fan-out hands the workers (detection_batches, and detection_tick_many
    for each: what detection_run_many runs), one after another in this process.
    """
    ids = services_ensure(services)
    minute = floor_minute(at or dt.datetime.now(dt.UTC)) - 10 * MINUTE
    for m in (minute - MINUTE, minute):
        _reports_add(ids, m, per_service=3)
    state = warm_state(until=minute - MINUTE)
    DetectorState.objects.filter(service_id__in=ids).delete()
    DetectorState.objects.bulk_create(
        [DetectorState(service_id=i, last_minute=minute - 2 * MINUTE, state=state) for i in ids], batch_size=1000
    )
    for batch in detection_batches(ids):  # untimed: the tick before
        detection_tick_many(service_ids=batch, now=minute + SETTLE)
    started = time.perf_counter()
    for batch in detection_batches(ids):
        detection_tick_many(service_ids=batch, now=minute + MINUTE + SETTLE)
    return time.perf_counter() - started
