"""Writes for detection: the detection tick, many services at once (rollups: rollups.py; outages: timeline.py).

A tick locks the services' DetectorState rows, then runs the pure detector
(reports/detection/detector.py) over every closed minute each has not
processed yet, in order, and turns the tracker's transitions into Outage rows
and OutageEvents. The states, the rollups they read and the outages they wrote
commit together, so a crashed tick leaves nothing half-done, a second worker
finds the rows locked (and skips them) or the minutes done, and after a stop
the missed minutes are caught up in order.

Services are ticked together because the cost of one service's minute is
almost all in its queries, not in the detector: services at the same minutes
share each query (their reports, rollups, probes, official pages, open
outages, their ServiceMinute and state writes), so a batch costs a fixed
number of queries however many services it holds. `detection_tick` is the
batch of one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Min

from catalog.models import IssueType, Service
from outagehub.timebuckets import MINUTE, floor_minute
from reports.detection.detector import Corroboration, Detector, Params, Step, Tracker
from reports.detection.detector import shown_level as detector_shown_level
from reports.detection.evidence import OFFICIAL_FRESH, ProbeTimeline, official_levels_now, probe_timelines
from reports.detection.official import official_apply_many
from reports.detection.rollups import BOOTSTRAP_DAYS, LATE_MINUTES, RollupCounts, rollups_refresh_many
from reports.detection.timeline import outage_countries, outage_minute_apply
from reports.models import DetectorState, Level, Outage, OutageStatus, Report, ServiceMinute

# Reports are written as they come, but the simulator (and a slow web
# process) may write a minute's last reports a little after it closes.
SETTLE = dt.timedelta(seconds=20)
CHUNK_MINUTES = 720  # minutes of one service per transaction when catching up
# Webhooks announce what is happening: minutes replayed from further back (a
# new detector learning history, a long catch-up) update the record silently.
ANNOUNCE_WINDOW = dt.timedelta(hours=1)
# Services per Celery task (detection_batches): enough that a batch's fixed queries cost little
# per service, few enough that the batches of many services spread over the workers.
BATCH_SERVICES = 250
# Service-minutes per transaction: one minute each for a whole batch in steady state; a catch-up
# after a long stop is cut into several transactions, so none holds hours of rows in memory.
BATCH_MINUTES = 20_000


@dataclass
class TickResult:
    minutes: int  # service-minutes processed
    opened: int  # outages opened


def detection_tick(*, service_id: int, now: dt.datetime, params: Params | None = None) -> TickResult:
    """Process every closed minute of one service not yet processed; returns what it did."""
    return detection_tick_many(service_ids=[service_id], now=now, params=params)


def detection_batches(service_ids: Sequence[int], size: int | None = None) -> list[list[int]]:
    """`service_ids` in batches of `size` (BATCH_SERVICES), as the Celery fan-out hands them to workers."""
    size = size or BATCH_SERVICES
    ids = sorted(service_ids)
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def detection_tick_many(*, service_ids: Sequence[int], now: dt.datetime, params: Params | None = None) -> TickResult:
    """Process every closed minute not yet processed of each active service given; returns the totals.

    Minutes close SETTLE after their end. A service whose detector row another worker holds
    is skipped: that worker is processing it. Each service's minutes are processed in order,
    at most CHUNK_MINUTES of them per transaction, until it has caught up.
    """
    params = params or Params()
    upto = floor_minute(now - SETTLE)  # minutes strictly before this are closed
    total = TickResult(0, 0)
    pending = _states_ensure(sorted(set(service_ids)), upto)
    while pending:
        more = []
        for part in _parts(pending, upto):
            done, opened = _tick_part(part, upto, params)
            total.minutes += sum(done.values())
            total.opened += opened
            more += [service_id for service_id, minutes in done.items() if minutes == CHUNK_MINUTES]
        pending = sorted(more)  # a whole chunk done: there may be more to catch up
    return total


def _states_ensure(service_ids: list[int], upto: dt.datetime) -> list[int]:
    """The active services among `service_ids` (sorted), each with its detector row, created if new."""
    active = list(Service.objects.filter(pk__in=service_ids, active=True).order_by("pk").values_list("pk", flat=True))
    have = set(DetectorState.objects.filter(service_id__in=active).values_list("service_id", flat=True))
    if new := [service_id for service_id in active if service_id not in have]:
        starts = _start_minutes(new, upto)
        # Committed before the tick's own transaction: a row only says where a detector starts. Two
        # workers creating one at once: the first one's start stands (sorted ids: no deadlock).
        DetectorState.objects.bulk_create(
            [DetectorState(service_id=service_id, last_minute=starts[service_id]) for service_id in new],
            ignore_conflicts=True,
        )
    return active


def _start_minutes(service_ids: list[int], upto: dt.datetime) -> dict[int, dt.datetime]:
    """Where each new detector starts: its oldest recent report, so it learns the existing history."""
    recent = Report.objects.filter(service_id__in=service_ids, created_at__gte=upto - dt.timedelta(days=BOOTSTRAP_DAYS))
    oldest = dict(
        recent.order_by().values("service_id").annotate(first=Min("created_at")).values_list("service_id", "first")
    )
    return {
        service_id: floor_minute(oldest[service_id]) - MINUTE if service_id in oldest else upto - 2 * MINUTE
        for service_id in service_ids
    }


def _window(last_minute: dt.datetime | None, upto: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The first and last minute a tick processes after `last_minute` (first > last: none)."""
    first = last_minute + MINUTE if last_minute else upto - MINUTE
    return first, min(upto - MINUTE, first + (CHUNK_MINUTES - 1) * MINUTE)


def _parts(service_ids: list[int], upto: dt.datetime) -> list[list[int]]:
    """The services with minutes to process, cut into parts of at most BATCH_MINUTES minutes: a transaction each.

    Read without locks: a service done already is left out before any lock or query is spent on it
    (a row only moves forward, so done stays done); the others are locked, and read again, by the part.
    """
    behind = DetectorState.objects.filter(service_id__in=service_ids).order_by("service_id")
    parts: list[list[int]] = [[]]
    minutes = 0
    for service_id, last_minute in behind.values_list("service_id", "last_minute"):
        first, last = _window(last_minute, upto)
        if first > last:
            continue
        n = (last - first) // MINUTE + 1
        if parts[-1] and minutes + n > BATCH_MINUTES:
            parts.append([])
            minutes = 0
        parts[-1].append(service_id)
        minutes += n
    return [part for part in parts if part]


def _tick_part(service_ids: list[int], upto: dt.datetime, params: Params) -> tuple[dict[int, int], int]:
    """One transaction: lock the services' rows, process a chunk of each; minutes done by service, outages opened."""
    done: dict[int, int] = {}
    opened = 0
    with transaction.atomic():
        # The lock that makes ticks safe on many workers: a row another worker holds is skipped,
        # never waited for, so two workers never process a service's minutes twice.
        locked = DetectorState.objects.select_for_update(skip_locked=True).filter(service_id__in=service_ids)
        groups: dict[tuple[dt.datetime, dt.datetime], list[DetectorState]] = defaultdict(list)
        for state in locked.order_by("service_id"):
            first, last = _window(state.last_minute, upto)
            if first <= last:
                groups[first, last].append(state)
        for (first, last), states in groups.items():
            opened += _tick_group(states, first, last, upto, params)
            done.update((state.service_id, (last - first) // MINUTE + 1) for state in states)
        # An upsert of rows that exist (and that this transaction holds) is an UPDATE of all of them in
        # one statement of linear size; bulk_update's CASE per row is quadratic in the rows.
        DetectorState.objects.bulk_create(
            [state for states in groups.values() for state in states],
            update_conflicts=True,
            unique_fields=["service"],
            update_fields=["last_minute", "level", "level_since", "state"],
            batch_size=500,
        )
    return done, opened


def _tick_group(
    states: list[DetectorState], first: dt.datetime, last: dt.datetime, upto: dt.datetime, params: Params
) -> int:
    """Process minutes [first, last] of services locked in this transaction; returns how many outages opened."""
    ids = [state.service_id for state in states]
    # rollups_refresh moves CountryHour by differences, so it must not run twice at once for a
    # service: the row locks are what guarantee that. Its fresh counts are the minutes' counts.
    fresh = rollups_refresh_many(service_ids=ids, since=min(first, upto - LATE_MINUTES * MINUTE), until=last + MINUTE)
    types = {
        pk: (service_id, key)
        for pk, service_id, key in IssueType.objects.filter(service_id__in=ids).values_list("pk", "service_id", "key")
    }
    probes = probe_timelines(ids, first, last + MINUTE)
    outages = {o.service_id: o for o in Outage.objects.filter(service_id__in=ids, status=OutageStatus.OPEN)}
    official = official_levels_now(ids, now=last + MINUTE)
    minutes: list[ServiceMinute] = []
    opened = 0
    for state in states:
        sid = state.service_id
        opened += _process(
            state,
            first,
            last,
            params,
            counts=_per_minute(fresh[sid], sid, types, first, last),
            probes=probes[sid],
            outage=outages.get(sid),
            official=official[sid],
            announce_since=upto - ANNOUNCE_WINDOW,
            minutes=minutes,
        )
        state.last_minute = last
    # Every minute of [first, last] gets its row: an upsert is the delete-and-insert a re-run needs.
    ServiceMinute.objects.bulk_create(
        minutes,
        update_conflicts=True,
        unique_fields=["service", "minute"],
        update_fields=["count", "expected", "dispersion", "level"],
        batch_size=5000,
    )
    official_apply_many(service_ids=ids, now=upto)  # the official page's news on the outages (official.py)
    return opened


def _per_minute(
    fresh: RollupCounts,
    service_id: int,
    types: dict[int, tuple[int, str]],
    first: dt.datetime,
    last: dt.datetime,
) -> dict[dt.datetime, dict[str, int]]:
    """A service's counted reports of minutes [first, last] by minute and issue-type key ("?": not its type)."""
    per_minute: dict[dt.datetime, dict[str, int]] = defaultdict(dict)
    for (minute, type_id), count in fresh.items():
        if first <= minute <= last:
            owner, key = types.get(type_id, (None, "?"))
            per_minute[minute][key if owner == service_id else "?"] = count
    return per_minute


def _process(
    state: DetectorState,
    first: dt.datetime,
    last: dt.datetime,
    params: Params,
    *,
    counts: dict[dt.datetime, dict[str, int]],
    probes: ProbeTimeline,
    outage: Outage | None,
    official: str | None,
    announce_since: dt.datetime,
    minutes: list[ServiceMinute],
) -> int:
    """Run one service's detector over minutes [first, last]; appends their ServiceMinute rows, returns outages opened.

    `official`: the official page's level now (None: no fresh reading); it speaks for the last minutes only.
    """
    saved = state.state or {}
    detector = Detector.from_state(saved["detector"], params) if "detector" in saved else Detector(1.0, params)
    tracker = Tracker.from_state(saved["tracker"], params) if "tracker" in saved else Tracker(params)
    if outage is None and tracker.open:
        tracker.open = False  # the outage was closed by hand: start afresh
    official_since = last + MINUTE - OFFICIAL_FRESH
    service_id = state.service_id
    opened = 0
    at = first
    while at <= last:
        minute_counts = counts.get(at, {})
        step = detector.update(at, sum(minute_counts.values()))
        changes = probes.advance(at + MINUTE)
        evidence = Corroboration(probe_down=probes.down, official_level=official if at >= official_since else None)
        transitions = tracker.update(step, corroboration=evidence, interval_minutes=1.0)
        if outage is not None or transitions:
            outage, new = outage_minute_apply(
                service_id,
                outage,
                step,
                minute_counts,
                transitions,
                changes,
                probes,
                tracker,
                official_down=evidence.official_down,
                announce=at >= announce_since,
            )
            opened += new
        level = shown_level(step, tracker)
        minutes.append(
            ServiceMinute(
                service_id=service_id,
                minute=at,
                count=step.count,
                expected=step.expected,
                dispersion=step.dispersion,
                level=level,
            )
        )
        if level != state.level:
            # The start of the minute, as an outage's started_at: the two must agree on the page
            # (a crowd outage starts where its surge began, before the minute it opened).
            since = outage.started_at if level == Level.OUTAGE and outage is not None else at
            state.level, state.level_since = level, min(since, at)
        at += MINUTE
    if outage is not None:
        # Countries come from hourly rollups the chunk has just refreshed: once per chunk keeps
        # an open outage's countries current without a query per minute of a long catch-up.
        outage.countries = outage_countries(outage)
        outage.save(update_fields=["countries"])
    state.state = {"detector": detector.to_state(), "tracker": tracker.to_state()}
    return opened


def shown_level(step: Step, tracker: Tracker) -> str:
    """The status people see (detector.shown_level) as a Level."""
    return Level(detector_shown_level(step, tracker))
