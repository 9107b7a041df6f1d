"""Writes for detection: the per-service detection tick, outages and their timelines (rollups: rollups.py).

A tick locks the service's DetectorState row, then runs the pure detector
(reports/detection/detector.py) over every closed minute since the last one it
processed, in order, and turns the tracker's transitions into Outage rows
and OutageEvents. The state, the rollups it read and the outage it wrote
commit together, so a crashed tick leaves nothing half-done, a second
worker finds the row locked (or the minutes done), and after a stop the
missed minutes are caught up in order.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction

from catalog.models import IssueType, Service
from outagehub.timebuckets import MINUTE, floor_hour, floor_minute
from probes.kinds import ProbeState
from probes.models import Probe, ProbeEvent
from reports.detection.detector import (
    OK,
    OUTAGE,
    Corroboration,
    Detector,
    Params,
    Step,
    Tracker,
    Transition,
)
from reports.detection.detector import shown_level as detector_shown_level
from reports.detection.official import official_apply
from reports.detection.rollups import BOOTSTRAP_DAYS, LATE_MINUTES, rollups_refresh
from reports.models import (
    CountryHour,
    DetectorState,
    EventKind,
    Level,
    Outage,
    OutageEvent,
    OutageStatus,
    Report,
    ReportMinute,
    ServiceMinute,
    WebhookEvent,
    outage_confidence,
)
from reports.outages.webhooks import webhooks_dispatch
from statuspages.selectors import official_levels

logger = logging.getLogger(__name__)

# Reports are written as they come, but the simulator (and a slow web
# process) may write a minute's last reports a little after it closes.
SETTLE = dt.timedelta(seconds=20)
CHUNK_MINUTES = 720  # minutes per transaction when catching up
# Webhooks announce what is happening: minutes replayed from further back (a
# new detector learning history, a long catch-up) update the record silently.
ANNOUNCE_WINDOW = dt.timedelta(hours=1)


# --- rollups -------------------------------------------------------------------


# --- probes as evidence ----------------------------------------------------------


class ProbeTimeline:
    """Whether any of a service's probes was down (by quorum) at a given minute, and its changes."""

    def __init__(self, service: Service, start: dt.datetime, end: dt.datetime) -> None:
        probes = list(Probe.objects.filter(service=service, enabled=True).values_list("id", "name"))
        self.names = dict(probes)
        ids = list(self.names)
        self.state: dict[int, str] = {}
        for probe_id in ids:
            before = (
                ProbeEvent.objects.filter(probe_id=probe_id, region="", at__lt=start).order_by("-at", "-id").first()
            )
            self.state[probe_id] = before.to_state if before else ProbeState.UNKNOWN
        self.events = list(
            ProbeEvent.objects.filter(probe_id__in=ids, region="", at__gte=start, at__lt=end).order_by("at", "id")
        )
        self._next = 0

    def advance(self, until: dt.datetime) -> list[ProbeEvent]:
        """Apply the probe changes before `until`; return them."""
        changed = []
        while self._next < len(self.events) and self.events[self._next].at < until:
            event = self.events[self._next]
            self.state[event.probe_id] = event.to_state
            changed.append(event)
            self._next += 1
        return changed

    @property
    def down(self) -> bool:
        return any(s == ProbeState.DOWN for s in self.state.values())


# --- official status pages as evidence -------------------------------------------

# An official level is what the page says now: it speaks only for the last minutes of
# a tick, never for minutes replayed from further back.
OFFICIAL_FRESH = dt.timedelta(minutes=5)


def official_level(service_id: int, *, now: dt.datetime) -> str | None:
    """The service's official status-page level now; None without a page or when its reading is stale."""
    state = official_levels([service_id], now=now).get(service_id)
    if state is None or state.stale:
        return None
    return str(state.level)


# --- the tick -------------------------------------------------------------------


@dataclass
class TickResult:
    minutes: int
    opened: int


def detection_tick(*, service_id: int, now: dt.datetime, params: Params | None = None) -> TickResult:
    """Process every closed minute of one service not yet processed; returns what it did."""
    params = params or Params()
    upto = floor_minute(now - SETTLE)  # minutes strictly before this are closed
    total = TickResult(0, 0)
    while True:
        done = _tick_chunk(service_id=service_id, upto=upto, params=params)
        if done is None:
            return total
        total.minutes += done.minutes
        total.opened += done.opened
        if done.minutes < CHUNK_MINUTES:
            return total


def _start_minute(service: Service, upto: dt.datetime) -> dt.datetime:
    """Where a new detector starts: the oldest recent report, so it learns the existing history."""
    first = (
        Report.objects.filter(service=service, created_at__gte=upto - dt.timedelta(days=BOOTSTRAP_DAYS))
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return floor_minute(first) - MINUTE if first else upto - 2 * MINUTE


def _tick_chunk(*, service_id: int, upto: dt.datetime, params: Params) -> TickResult | None:
    with transaction.atomic():
        service = Service.objects.filter(pk=service_id, active=True).first()
        if service is None:
            return None
        # Only a new detector looks for where to start: that scan of recent reports is not free.
        if not DetectorState.objects.filter(service=service).exists():
            DetectorState.objects.get_or_create(service=service, defaults={"last_minute": _start_minute(service, upto)})
        # The lock that makes ticks safe on many workers: a second one skips.
        state = DetectorState.objects.select_for_update(skip_locked=True).filter(service=service).first()
        if state is None:
            return None
        first = state.last_minute + MINUTE if state.last_minute else upto - MINUTE
        last = min(upto - MINUTE, first + (CHUNK_MINUTES - 1) * MINUTE)
        if first > last:
            return TickResult(0, 0)
        # rollups_refresh moves CountryHour by differences, so it must not run twice at
        # once for a service: this lock is what guarantees that.
        rollups_refresh(service=service, since=min(first, upto - LATE_MINUTES * MINUTE), until=last + MINUTE)
        result = _process(service, state, first, last, params, announce_since=upto - ANNOUNCE_WINDOW)
        official_apply(service=service, now=upto)  # the official page's news on the outage (official.py)
        state.last_minute = last
        state.save()
        return result


def _process(
    service: Service,
    state: DetectorState,
    first: dt.datetime,
    last: dt.datetime,
    params: Params,
    *,
    announce_since: dt.datetime,
) -> TickResult:
    saved = state.state or {}
    detector = Detector.from_state(saved["detector"], params) if "detector" in saved else Detector(1.0, params)
    tracker = Tracker.from_state(saved["tracker"], params) if "tracker" in saved else Tracker(params)
    types = {it.pk: it.key for it in IssueType.objects.filter(service=service)}
    per_minute: dict[dt.datetime, dict[str, int]] = defaultdict(dict)
    for minute, type_id, count in ReportMinute.objects.filter(
        service=service, minute__gte=first, minute__lte=last
    ).values_list("minute", "issue_type_id", "count"):
        per_minute[minute][types.get(type_id, "?")] = count
    probes = ProbeTimeline(service, first, last + MINUTE)
    outage = Outage.objects.filter(service=service, status=OutageStatus.OPEN).first()
    if outage is None and tracker.open:
        tracker.open = False  # the outage was closed by hand: start afresh
    official = official_level(service.pk, now=last + MINUTE)
    official_since = last + MINUTE - OFFICIAL_FRESH
    opened = 0
    minutes = []
    at = first
    while at <= last:
        counts = per_minute.get(at, {})
        step = detector.update(at, sum(counts.values()))
        changes = probes.advance(at + MINUTE)
        evidence = Corroboration(probe_down=probes.down, official_level=official if at >= official_since else None)
        transitions = tracker.update(step, corroboration=evidence, interval_minutes=1.0)
        outage, new = _apply(
            service,
            outage,
            step,
            counts,
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
                service=service,
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
    ServiceMinute.objects.filter(service=service, minute__gte=first, minute__lte=last).delete()
    ServiceMinute.objects.bulk_create(minutes)
    state.state = {"detector": detector.to_state(), "tracker": tracker.to_state()}
    return TickResult(len(minutes), opened)


def shown_level(step: Step, tracker: Tracker) -> str:
    """The status people see (detector.shown_level) as a Level."""
    return Level(detector_shown_level(step, tracker))


def _event(outage: Outage, kind: EventKind, at: dt.datetime, data: dict) -> OutageEvent:
    return OutageEvent.objects.create(outage=outage, kind=kind, at=at, data=data)


def _apply(
    service: Service,
    outage: Outage | None,
    step: Step,
    counts: dict[str, int],
    transitions: list[Transition],
    probe_changes: list[ProbeEvent],
    probes: ProbeTimeline,
    tracker: Tracker,
    *,
    official_down: bool = False,
    announce: bool = True,
) -> tuple[Outage | None, int]:
    """Write one minute's outage changes; returns the open outage (if any) and 1 if one opened."""
    opened = 0
    # Webhook events of this minute, sent once the outage row holds the whole minute.
    events: list[tuple[Outage, str]] = []
    for t in transitions:
        if t.kind == "opened" and outage is not None:
            # The tracker lost its state (a reset) while an outage stayed open: carry on with it.
            logger.warning("service %s: tracker reopened an outage that was still open", service.pk)
        elif t.kind == "opened":
            # "by" is what opened it (detector.Corroboration.source): reports, probes or official.
            by_reports, by_official = t.data["by"] == "reports", t.data["by"] == "official"
            outage = Outage.objects.create(
                service=service,
                confidence=outage_confidence(reports=by_reports, probes=probes.down, official=by_official),
                level=t.data["level"] if t.data["level"] != OK else Level.OUTAGE,
                # Where the crowd's held surge began; the alert (t.at) confirms it later.
                started_at=dt.datetime.fromisoformat(t.data["started_at"]) if "started_at" in t.data else t.at,
                reports_confirmed=by_reports,
                probes_confirmed=probes.down,
                official_confirmed=by_official,
            )
            if "rising_since" in t.data:
                _event(outage, EventKind.REPORTS_RISING, dt.datetime.fromisoformat(t.data["rising_since"]), {})
            _event(outage, EventKind.OPENED, t.at, t.data)
            events.append((outage, WebhookEvent.OUTAGE_OPENED))
            opened = 1
        elif t.kind == "reopened":
            outage = (
                Outage.objects.filter(service=service, status=OutageStatus.RESOLVED).order_by("-resolved_at").first()
            )
            if outage is None:
                continue
            outage.status, outage.resolved_at, outage.ended_at = OutageStatus.OPEN, None, None
            _event(outage, EventKind.REOPENED, t.at, t.data)
            events.append((outage, WebhookEvent.OUTAGE_UPDATED))
        elif outage is None:
            continue
        elif t.kind == "level_changed":
            outage.level = t.data["to"]
            _event(outage, EventKind.LEVEL_CHANGED, t.at, t.data)
            events.append((outage, WebhookEvent.OUTAGE_UPDATED))
        elif t.kind == "peak":
            outage.peak_at, outage.peak_count, outage.peak_expected = t.at, t.data["count"], t.data["expected"]
            OutageEvent.objects.update_or_create(
                outage=outage, kind=EventKind.PEAK, defaults={"at": t.at, "data": t.data}
            )
        elif t.kind == "resolved":
            outage.status, outage.resolved_at = OutageStatus.RESOLVED, t.at + MINUTE
            outage.ended_at = dt.datetime.fromisoformat(t.data["back_to_normal_at"])
            _event(outage, EventKind.RESOLVED, t.at + MINUTE, t.data)
            events.append((outage, WebhookEvent.OUTAGE_RESOLVED))
    if outage is None:
        return None, opened
    for change in probe_changes:
        kind = EventKind.PROBE_DOWN if change.to_state == ProbeState.DOWN else EventKind.PROBE_UP
        if change.to_state in (ProbeState.DOWN, ProbeState.UP):
            _event(
                outage,
                kind,
                change.at,
                {"probe": change.probe_id, "name": probes.names.get(change.probe_id), "evidence": change.evidence},
            )
    if outage.status == OutageStatus.OPEN:
        _accumulate(outage, step, counts, probes, tracker, official_down=official_down)
    if transitions or probe_changes:
        outage.countries = outage_countries(outage)
    outage.save()
    if announce:
        _dispatch(events)
    return (outage if outage.status == OutageStatus.OPEN else None), opened


def _dispatch(events: list[tuple[Outage, str]]) -> None:
    """Announce the minute's outage events; an update in the minute an outage opened is part of its opening."""
    unique = list(dict.fromkeys(events))
    for i, (outage, event) in enumerate(unique):
        if event == WebhookEvent.OUTAGE_UPDATED and (outage, WebhookEvent.OUTAGE_OPENED) in unique[:i]:
            continue
        webhooks_dispatch(outage=outage, event=event)


def _accumulate(
    outage: Outage,
    step: Step,
    counts: dict[str, int],
    probes: ProbeTimeline,
    tracker: Tracker,
    *,
    official_down: bool = False,
) -> None:
    """Fold one minute into the open outage: issue-type mix, evidence, confidence.

    `official_down`: the official page, fresh for this minute, said degraded or worse.
    """
    before = _top(outage.issue_types)
    mix = dict(outage.issue_types)
    for key, n in counts.items():
        mix[key] = mix.get(key, 0) + n
    outage.issue_types = mix
    after = _top(mix)
    if before and after != before:
        _event(outage, EventKind.ISSUE_MIX_CHANGED, step.at, {"from": before, "to": after, "counts": mix})
    outage.reports_confirmed = outage.reports_confirmed or step.level == OUTAGE
    outage.probes_confirmed = outage.probes_confirmed or probes.down
    outage.official_confirmed = outage.official_confirmed or official_down
    outage.confidence = outage_confidence(
        reports=outage.reports_confirmed, probes=outage.probes_confirmed, official=outage.official_confirmed
    )


def _top(mix: dict[str, int]) -> str | None:
    return max(mix, key=lambda k: (mix[k], k)) if mix and max(mix.values()) > 0 else None


def outage_countries(outage: Outage) -> dict[str, int]:
    """Counted reports by country over the hours the outage spans (from the hourly rollups)."""
    end = outage.resolved_at or outage.started_at + dt.timedelta(days=1)
    rows = CountryHour.objects.filter(
        service=outage.service, hour__gte=floor_hour(outage.started_at), hour__lt=end
    ).values_list("country", "count")
    totals: dict[str, int] = defaultdict(int)
    for country, count in rows:
        totals[country or "??"] += count
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))
