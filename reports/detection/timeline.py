"""The detection tick's outage writes: Outage rows and their timelines from the tracker's transitions.

Called once per service-minute by the tick (tick.py), inside its transaction and holding the
service's detector row lock; only minutes with an open outage or a transition write anything.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from outagehub.timebuckets import MINUTE, floor_hour
from probes.kinds import ProbeState
from probes.models import ProbeEvent
from reports.detection.detector import OK, OUTAGE, Step, Tracker, Transition
from reports.detection.evidence import ProbeTimeline
from reports.models import (
    CountryHour,
    EventKind,
    Level,
    Outage,
    OutageEvent,
    OutageStatus,
    WebhookEvent,
    outage_confidence,
)
from reports.outages.webhooks import webhooks_dispatch

logger = logging.getLogger(__name__)


def _event(outage: Outage, kind: EventKind, at: dt.datetime, data: dict) -> OutageEvent:
    return OutageEvent.objects.create(outage=outage, kind=kind, at=at, data=data)


def outage_minute_apply(
    service_id: int,
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
            logger.warning("service %s: tracker reopened an outage that was still open", service_id)
        elif t.kind == "opened":
            # "by" is what opened it (detector.Corroboration.source): reports, probes or official.
            by_reports, by_official = t.data["by"] == "reports", t.data["by"] == "official"
            outage = Outage.objects.create(
                service_id=service_id,
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
                Outage.objects.filter(service_id=service_id, status=OutageStatus.RESOLVED)
                .order_by("-resolved_at")
                .first()
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
        service_id=outage.service_id, hour__gte=floor_hour(outage.started_at), hour__lt=end
    ).values_list("country", "count")
    totals: dict[str, int] = defaultdict(int)
    for country, count in rows:
        totals[country or "??"] += count
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))
