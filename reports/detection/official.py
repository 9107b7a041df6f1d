"""The official status page as evidence on our outages (statuspages' selectors; called by the tick).

- Every provider update of an incident overlapping the outage becomes one timeline event
  ("TikTok Shop's status page: Investigating payment errors"), once: each event carries the
  update's key and a tick adds only keys the outage does not have yet. The tick holds the
  service's detector row locked, so two workers never add the same key at once.
- A *silent outage*: reports and probes both confirm the outage while the official page, read
  fresh, says everything is operational. Recorded once per outage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Q

from catalog.models import Service
from reports.models import EventKind, Outage, OutageEvent, OutageStatus
from statuspages.kinds import CLOSED_STATUSES, OfficialLevel
from statuspages.models import ProviderIncident
from statuspages.selectors import official_incidents_between, official_levels

# Updates posted this long before the outage started still belong to its story (the provider
# may be quicker than the crowd); older ones of a long-running incident do not.
LOOKBACK = dt.timedelta(hours=1)
# A provider's final updates ("resolved") often come after our outage resolved: keep listening.
AFTERWARDS = dt.timedelta(hours=1)


def official_apply(*, service: Service, now: dt.datetime) -> int:
    """Add the official page's news to the service's current outage; returns how many events were added."""
    return official_apply_many(service_ids=[service.pk], now=now)


def official_apply_many(*, service_ids: Sequence[int], now: dt.datetime) -> int:
    """official_apply for many services: one query finds their current outages, and only those read the pages.

    A service's current outage is its open one, else the one that resolved latest within AFTERWARDS.
    """
    recent = Q(status=OutageStatus.OPEN) | Q(status=OutageStatus.RESOLVED, resolved_at__gte=now - AFTERWARDS)
    current: dict[int, Outage] = {}
    for outage in Outage.objects.filter(recent, service_id__in=service_ids).order_by("-resolved_at", "-pk"):
        held = current.get(outage.service_id)
        if held is None or (outage.status == OutageStatus.OPEN and held.status != OutageStatus.OPEN):
            current[outage.service_id] = outage
    added = 0
    for _, outage in sorted(current.items()):
        added += official_updates_record(outage=outage, now=now)
        if outage.status == OutageStatus.OPEN and silent_outage_record(outage=outage, now=now):
            added += 1
    return added


def _update_key(incident: ProviderIncident, update_id: str) -> str:
    return f"{incident.page_id}:{incident.provider_id}:{update_id}"


def official_updates_record(*, outage: Outage, now: dt.datetime) -> int:
    """One OFFICIAL_UPDATE event per provider update (or lifecycle state, for pages without updates)."""
    start, end = outage.started_at - LOOKBACK, outage.resolved_at or now
    incidents = official_incidents_between(outage.service_id, start, end)
    if not incidents:
        return 0
    seen = {
        data.get("key")
        for data in OutageEvent.objects.filter(outage=outage, kind=EventKind.OFFICIAL_UPDATE).values_list(
            "data", flat=True
        )
        if isinstance(data, dict)
    }
    name = incidents[0].page.service.name
    events = []
    for incident in incidents:
        updates: list[dict[str, Any]] = list(incident.updates or [])
        closed_said = any(u.get("status") in CLOSED_STATUSES for u in updates)
        if not updates or (not incident.is_open and not closed_said):
            # No update of its own (a page without updates, or an incident that just left the
            # page): its lifecycle state stands in, once per state.
            closed_at = incident.resolved_at.isoformat() if incident.resolved_at and not incident.is_open else None
            updates.append({"id": f"@{incident.status}", "at": closed_at, "status": incident.status, "body": ""})
        for update in updates:
            key = _update_key(incident, str(update.get("id")))
            at = _time(update.get("at")) or incident.started_at or now
            if key in seen or not start <= at <= end:
                continue
            seen.add(key)
            events.append(
                OutageEvent(
                    outage=outage,
                    kind=EventKind.OFFICIAL_UPDATE,
                    at=at,
                    data={
                        "key": key,
                        "service": name,
                        "incident": incident.provider_id,
                        "title": incident.title,
                        "status": update.get("status") or incident.status,
                        "level": incident.level,
                        "body": str(update.get("body") or "")[:500],
                        "url": incident.url,
                    },
                )
            )
    OutageEvent.objects.bulk_create(events)
    return len(events)


def silent_outage_record(*, outage: Outage, now: dt.datetime) -> bool:
    """Flag the outage once when crowd and probes agree but the official page, fresh, is green."""
    # Crowd and probes, not any two signals: a confirmation that counts the page itself is no silence.
    if not (outage.reports_confirmed and outage.probes_confirmed):
        return False
    state = official_levels([outage.service_id], now=now).get(outage.service_id)
    if state is None or not state.operational or state.incidents:
        return False
    if OutageEvent.objects.filter(outage=outage, kind=EventKind.SILENT_OUTAGE).exists():
        return False
    OutageEvent.objects.create(
        outage=outage,
        kind=EventKind.SILENT_OUTAGE,
        at=now,
        data={
            "service": outage.service.name,
            "level": OfficialLevel.OPERATIONAL,
            "page_url": state.page_url,
            "fetched_at": state.fetched_at.isoformat() if state.fetched_at else None,
        },
    )
    return True


def _time(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)
