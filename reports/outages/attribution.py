"""Writes for upstream attribution: recent outages get their likely cause, stored on the Outage.

The attribution task (reports.tasks.attribution_tick) calls outages_attribute
once a minute. It reads the recent outages and spikes of every service in the
dependency graph, their upstreams' probes and official status levels, runs
the pure scorer (reports/detection/attribution.py) and stores each change.

Idempotent on any number of workers: a change is claimed with a conditional
UPDATE on the outage's cause_revision, so of two workers computing the same
change one writes it (with its timeline event and webhook) and the other
finds the revision moved and does nothing; an unchanged cause writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import F, Q

from catalog.models import Service
from probes.kinds import ProbeState
from probes.models import ProbeEvent
from reports.detection.attribution import OFFICIAL_CONFIRMS, OUTAGE, POSSIBLE, Cause, Episode, Span, attribute
from reports.models import CauseStatus, DetectorState, EventKind, Level, Outage, OutageEvent, OutageStatus, WebhookEvent
from reports.outages.webhooks import webhooks_dispatch

# Outages that started this long ago (or are still open) are (re)considered; older ones keep what they have.
LOOKBACK = dt.timedelta(hours=3)
# Changes of these evidence numbers are stored; others (points, lag) alone are not worth a write.
_KEY_FIELDS = ("cause", "status", "affected", "dependents", "upstream_outage", "upstream_probes_down", "official_level")


def dependency_graph() -> dict[int, set[int]]:
    """Active service id -> ids of its active upstreams."""
    graph: dict[int, set[int]] = defaultdict(set)
    edges = Service.depends_on.through.objects.filter(from_service__active=True, to_service__active=True)
    for dependent, upstream in edges.values_list("from_service_id", "to_service_id"):
        graph[dependent].add(upstream)
    return dict(graph)


def upstream_service_ids() -> list[int]:
    """Ids of the active services some active service depends on (whose status pages matter here)."""
    return sorted({u for ups in dependency_graph().values() for u in ups})


def _episodes(service_ids: set[int], since: dt.datetime) -> list[Episode]:
    """Outages of those services since `since` or still open, and current spikes that opened none."""
    outages = Outage.objects.filter(service_id__in=service_ids).filter(
        Q(status=OutageStatus.OPEN) | Q(started_at__gte=since) | Q(ended_at__gte=since) | Q(resolved_at__gte=since)
    )
    episodes = [
        Episode(
            service_id=o.service_id,
            started_at=o.started_at,
            ended_at=None if o.status == OutageStatus.OPEN else o.end,
            level=o.level,
            outage_id=o.pk,
        )
        for o in outages
    ]
    with_outage = {e.service_id for e in episodes if e.ended_at is None}
    spikes = DetectorState.objects.filter(service_id__in=service_ids - with_outage, level=Level.POSSIBLE)
    for service_id, since_at in spikes.values_list("service_id", "level_since"):
        episodes.append(Episode(service_id=service_id, started_at=since_at, level=POSSIBLE))
    return episodes


def _probes_down(service_ids: set[int], since: dt.datetime) -> dict[int, list[Span]]:
    """Spans during which any enabled probe of each service was down by quorum, from `since` on."""
    spans: dict[int, list[Span]] = defaultdict(list)
    events = ProbeEvent.objects.filter(
        probe__service_id__in=service_ids, probe__enabled=True, region="", at__gte=since
    ).order_by("at", "id")
    down_since: dict[int, dt.datetime] = {}
    service_of: dict[int, int] = {}
    # Probes already down when the window starts (their last quorum change before it).
    before = (
        ProbeEvent.objects.filter(probe__service_id__in=service_ids, probe__enabled=True, region="", at__lt=since)
        .order_by("probe_id", "-at", "-id")
        .values_list("probe_id", "probe__service_id", "to_state", "at")
    )
    seen: set[int] = set()
    for probe_id, service_id, state, at in before:
        if probe_id in seen:
            continue
        seen.add(probe_id)
        if state == ProbeState.DOWN:
            down_since[probe_id], service_of[probe_id] = at, service_id
    for probe_id, service_id, state, at in events.values_list("probe_id", "probe__service_id", "to_state", "at"):
        if state == ProbeState.DOWN and probe_id not in down_since:
            down_since[probe_id], service_of[probe_id] = at, service_id
        elif state != ProbeState.DOWN and probe_id in down_since:
            spans[service_id].append(Span(down_since.pop(probe_id), at))
    for probe_id, start in down_since.items():
        spans[service_of[probe_id]].append(Span(start))
    return dict(spans)


def outages_attribute(*, now: dt.datetime, official: Mapping[int, str]) -> int:
    """Find and store the likely upstream cause of recent outages; returns how many outages changed.

    `official` maps an upstream's service id to its status page's level now
    (operational, maintenance, degraded, partial_outage, major_outage, unknown;
    a stale page as unknown); services without a page are absent.
    """
    graph = dependency_graph()
    if not graph:
        return 0
    involved = set(graph) | {u for ups in graph.values() for u in ups}
    since = now - LOOKBACK
    # Earlier episodes still matter: an upstream's outage may have begun well before a dependent's.
    episodes = _episodes(involved, since - dt.timedelta(hours=1))
    causes = attribute(
        episodes,
        dependencies=graph,
        probes_down=_probes_down(involved, since - dt.timedelta(hours=1)),
        official=official,
        now=now,
    )
    if not causes:
        return 0
    rows = Service.objects.filter(pk__in=involved).values_list("pk", "slug", "name")
    names = {pk: (slug, name) for pk, slug, name in rows}
    recent = Outage.objects.filter(pk__in=causes).filter(Q(status=OutageStatus.OPEN) | Q(started_at__gte=since))
    changed = 0
    for outage in recent.select_related("service"):
        changed += outage_cause_set(outage=outage, cause=causes[outage.pk], names=names, now=now)
    return changed


def _merged(outage: Outage, cause: Cause, names: Mapping[int, tuple[str, str]]) -> tuple[CauseStatus, dict[str, Any]]:
    """The status and evidence to store: a confirmed cause stays confirmed (the upstream said so once).

    What confirmed it (the upstream's own outage, its page's level) stays on record after it clears.
    """
    evidence = cause.evidence(names)
    status = CauseStatus(cause.status.value)
    old = outage.cause_evidence or {}
    if outage.cause_id == cause.cause_id and outage.cause_status == CauseStatus.CONFIRMED:
        status = CauseStatus.CONFIRMED
        evidence["status"] = status.value
        if old.get("official_level") in OFFICIAL_CONFIRMS and evidence["official_level"] not in OFFICIAL_CONFIRMS:
            evidence["official_level"] = old["official_level"]
        if old.get("upstream_outage_level") == OUTAGE and evidence["upstream_outage_level"] != OUTAGE:
            evidence["upstream_outage"] = old.get("upstream_outage")
            evidence["upstream_outage_level"] = OUTAGE
    return status, evidence


def outage_cause_set(*, outage: Outage, cause: Cause, names: Mapping[int, tuple[str, str]], now: dt.datetime) -> bool:
    """Store `cause` on the outage if it changes anything; returns whether this call stored it.

    A cause is replaced only by a different upstream that scores higher, never cleared: the
    evidence seen once stays the record. The timeline gets one CAUSE event, updated in place;
    subscribers hear of a new cause and of its confirmation (outage.updated), not of every count.
    """
    stored_points = outage.cause_evidence.get("points", 0) if outage.cause_id else 0
    if outage.cause_id not in (None, cause.cause_id) and cause.points <= stored_points:
        return False
    status, evidence = _merged(outage, cause, names)
    old = outage.cause_evidence
    if outage.cause_id == cause.cause_id and all(old.get(k) == evidence.get(k) for k in _KEY_FIELDS):
        return False
    announce = outage.cause_id != cause.cause_id or outage.cause_status != status
    with transaction.atomic():
        claimed = Outage.objects.filter(pk=outage.pk, cause_revision=outage.cause_revision).update(
            cause_id=cause.cause_id,
            cause_outage_id=evidence["upstream_outage"],
            cause_status=status,
            cause_evidence=evidence,
            cause_revision=F("cause_revision") + 1,
        )
        if not claimed:
            return False  # another worker stored a change first; the next tick starts from it
        outage.refresh_from_db()
        event = OutageEvent.objects.filter(outage=outage, kind=EventKind.CAUSE).first()
        if event is None:
            OutageEvent.objects.create(outage=outage, kind=EventKind.CAUSE, at=now, data=evidence)
        else:
            if status == CauseStatus.CONFIRMED and event.data.get("status") != CauseStatus.CONFIRMED:
                evidence = {**evidence, "confirmed_at": now.isoformat()}
            elif "confirmed_at" in event.data:
                evidence = {**evidence, "confirmed_at": event.data["confirmed_at"]}
            event.data = evidence
            event.save(update_fields=["data"])
        if announce:
            webhooks_dispatch(outage=outage, event=WebhookEvent.OUTAGE_UPDATED)
    return True
