"""Atlassian Statuspage v2 (`/api/v2/summary.json`) and incident.io's widget (`/api/v1/summary`).

incident.io pages also serve a Statuspage-compatible `/api/v2/summary.json`, read by
``parse_atlassian``; the poller falls back to it when the widget endpoint fails.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from statuspages.kinds import IncidentStatus, OfficialLevel, worst
from statuspages.parsers.base import (
    BODY_CHARS,
    MAX_COMPONENTS,
    MAX_INCIDENTS,
    MAX_UPDATES,
    NAME_CHARS,
    Component,
    Incident,
    Malformed,
    Snapshot,
    Update,
    components_level,
    ident,
    items,
    link,
    load_json,
    obj,
    status_of,
    text,
    timestamp,
)

INDICATOR = {
    "none": OfficialLevel.OPERATIONAL,
    "minor": OfficialLevel.DEGRADED,
    "major": OfficialLevel.PARTIAL_OUTAGE,
    "critical": OfficialLevel.MAJOR_OUTAGE,
    "maintenance": OfficialLevel.MAINTENANCE,
}
COMPONENT = {
    "operational": OfficialLevel.OPERATIONAL,
    "degraded_performance": OfficialLevel.DEGRADED,
    "partial_outage": OfficialLevel.PARTIAL_OUTAGE,
    "major_outage": OfficialLevel.MAJOR_OUTAGE,
    "full_outage": OfficialLevel.MAJOR_OUTAGE,  # incident.io's word for it
    "under_maintenance": OfficialLevel.MAINTENANCE,
}
# An incident's impact (what the provider declared), as a level of the service.
IMPACT = {**INDICATOR, "none": OfficialLevel.OPERATIONAL}
LIFECYCLE = {
    "investigating": IncidentStatus.INVESTIGATING,
    "identified": IncidentStatus.IDENTIFIED,
    "monitoring": IncidentStatus.MONITORING,
    "resolved": IncidentStatus.RESOLVED,
    "postmortem": IncidentStatus.POSTMORTEM,
    "scheduled": IncidentStatus.SCHEDULED,
    "in_progress": IncidentStatus.IN_PROGRESS,
    "verifying": IncidentStatus.VERIFYING,
    "completed": IncidentStatus.COMPLETED,
}


def parse_atlassian(body: bytes, headers: Mapping[str, str], now: dt.datetime) -> Snapshot:
    data = obj(load_json(body, headers), "the summary")
    if "status" not in data and "components" not in data:
        raise Malformed("neither status nor components: not a Statuspage summary")
    status = obj(data.get("status") or {}, "status")
    indicator = text(status.get("indicator")).lower()
    components = tuple(
        Component(text(c.get("name"), NAME_CHARS), COMPONENT.get(text(c.get("status")).lower(), OfficialLevel.UNKNOWN))
        for c in map(lambda c: obj(c, "a component"), items(data.get("components"), "components", MAX_COMPONENTS))
        if not c.get("group")  # a group's status mirrors its members
    )
    incidents = [
        _incident(obj(i, "an incident"), False) for i in items(data.get("incidents"), "incidents", MAX_INCIDENTS)
    ]
    maintenances = [
        _incident(obj(m, "a maintenance"), True)
        for m in items(data.get("scheduled_maintenances"), "scheduled_maintenances", MAX_INCIDENTS)
    ]
    ongoing = [m for m in maintenances if m.status in (IncidentStatus.IN_PROGRESS, IncidentStatus.VERIFYING)]
    levels = [components_level([c.level for c in components])]
    if indicator in INDICATOR:
        levels.append(INDICATOR[indicator])
    elif "status" in data and not components:
        raise Malformed(f"status.indicator {indicator!r} is none of {', '.join(INDICATOR)}")
    if ongoing:
        levels.append(OfficialLevel.MAINTENANCE)
    return Snapshot(
        level=worst(levels),
        components=components,
        incidents=tuple(incidents + ongoing),
        description=text(status.get("description")),
    )


def _incident(data: dict[str, Any], maintenance: bool) -> Incident:
    raw_updates = items(data.get("incident_updates"), "incident_updates", 1000)
    updates = [
        Update(
            provider_id=ident(u.get("id")) or f"{ident(data.get('id'))}:{i}",
            at=timestamp(u.get("display_at")) or timestamp(u.get("created_at")),
            status=status_of(u.get("status"), LIFECYCLE),
            body=text(u.get("body"), BODY_CHARS),
        )
        for i, u in enumerate(map(lambda u: obj(u, "an incident update"), raw_updates))
    ]
    updates.sort(key=lambda u: u.at or dt.datetime.min.replace(tzinfo=dt.UTC))
    provider_id = ident(data.get("id"))
    if not provider_id:
        raise Malformed("an incident without an id")
    started = (
        timestamp(data.get("started_at")) or timestamp(data.get("scheduled_for")) or timestamp(data.get("created_at"))
    )
    return Incident(
        provider_id=provider_id,
        title=text(data.get("name")),
        status=status_of(data.get("status"), LIFECYCLE),
        level=OfficialLevel.MAINTENANCE
        if maintenance
        else IMPACT.get(text(data.get("impact")).lower(), OfficialLevel.DEGRADED),
        started_at=started,
        resolved_at=timestamp(data.get("resolved_at")),
        components=tuple(
            text(c.get("name"), NAME_CHARS)
            for c in items(data.get("components"), "components", 50)
            if isinstance(c, dict)
        ),
        url=link(data.get("shortlink")),
        updates=tuple(updates[-MAX_UPDATES:]),
        maintenance=maintenance,
    )


# --- incident.io ----------------------------------------------------------------------------------

IIO_LIFECYCLE = {**LIFECYCLE, "in_progress": IncidentStatus.IN_PROGRESS}


def parse_incidentio(body: bytes, headers: Mapping[str, str], now: dt.datetime) -> Snapshot:
    """incident.io's widget summary: ongoing incidents with their worst impact, maintenances, affected components.

    Components not listed as affected are operational; the widget lists no others.
    """
    data = obj(load_json(body, headers), "the summary")
    data = obj(data.get("summary", data), "summary")
    if not any(key in data for key in ("ongoing_incidents", "affected_components", "in_progress_maintenances")):
        raise Malformed("no ongoing_incidents or affected_components: not an incident.io summary")
    components = tuple(
        Component(
            text(c.get("name"), NAME_CHARS),
            COMPONENT.get(text(c.get("current_status") or c.get("status")).lower(), OfficialLevel.UNKNOWN),
        )
        for c in map(
            lambda c: obj(c, "a component"),
            items(data.get("affected_components"), "affected_components", MAX_COMPONENTS),
        )
    )
    incidents = [
        _iio_incident(obj(i, "an incident"), False)
        for i in items(data.get("ongoing_incidents"), "ongoing_incidents", MAX_INCIDENTS)
    ]
    maintenances = [
        _iio_incident(obj(m, "a maintenance"), True)
        for m in items(data.get("in_progress_maintenances"), "in_progress_maintenances", MAX_INCIDENTS)
    ]
    # The affected components decide the level, as on the page; an incident's own impact counts
    # too when it names none (a partial outage without components is still one).
    levels = [components_level([c.level for c in components]), *(i.level for i in incidents)]
    if maintenances:
        levels.append(OfficialLevel.MAINTENANCE)
    return Snapshot(level=worst(levels), components=components, incidents=tuple(incidents + maintenances))


def _iio_incident(data: dict[str, Any], maintenance: bool) -> Incident:
    provider_id = ident(data.get("id"))
    if not provider_id:
        raise Malformed("an incident without an id")
    last_message = text(data.get("last_update_message"), BODY_CHARS)
    last_at = timestamp(data.get("last_update_at"))
    status = IncidentStatus.IN_PROGRESS if maintenance else status_of(data.get("status"), IIO_LIFECYCLE)
    # The widget gives the latest update only; its time identifies it.
    updates = (
        (Update(f"{provider_id}@{last_at.isoformat()}", last_at, status, last_message),)
        if last_at and last_message
        else ()
    )
    return Incident(
        provider_id=provider_id,
        title=text(data.get("name")),
        status=status,
        level=OfficialLevel.MAINTENANCE
        if maintenance
        else COMPONENT.get(text(data.get("current_worst_impact")).lower(), OfficialLevel.DEGRADED),
        started_at=timestamp(data.get("started_at")) or timestamp(data.get("starts_at")) or last_at,
        components=tuple(
            text(c.get("name"), NAME_CHARS)
            for c in items(data.get("affected_components"), "affected_components", 50)
            if isinstance(c, dict)
        ),
        url=link(data.get("url")),
        updates=updates,
        maintenance=maintenance,
    )
