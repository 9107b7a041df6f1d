"""Instatus (`/summary.json`) and Better Stack (`/index.json`) status pages."""

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

# --- Instatus --------------------------------------------------------------------------------------

INSTATUS_PAGE = {"up": OfficialLevel.OPERATIONAL, "undermaintenance": OfficialLevel.MAINTENANCE}
INSTATUS_IMPACT = {
    "degradedperformance": OfficialLevel.DEGRADED,
    "partialoutage": OfficialLevel.PARTIAL_OUTAGE,
    "majoroutage": OfficialLevel.MAJOR_OUTAGE,
    "undermaintenance": OfficialLevel.MAINTENANCE,
    "operational": OfficialLevel.OPERATIONAL,
}
INSTATUS_LIFECYCLE = {
    "investigating": IncidentStatus.INVESTIGATING,
    "identified": IncidentStatus.IDENTIFIED,
    "monitoring": IncidentStatus.MONITORING,
    "resolved": IncidentStatus.RESOLVED,
    "notstartedyet": IncidentStatus.SCHEDULED,
    "inprogress": IncidentStatus.IN_PROGRESS,
    "completed": IncidentStatus.COMPLETED,
}


def parse_instatus(body: bytes, headers: Mapping[str, str], now: dt.datetime) -> Snapshot:
    """`page.status` is UP, HASISSUES or UNDERMAINTENANCE; with issues, the worst active incident's impact decides."""
    data = obj(load_json(body, headers), "the summary")
    page = obj(data.get("page"), "page")
    status = text(page.get("status")).lower().replace("_", "")
    if status not in (*INSTATUS_PAGE, "hasissues"):
        raise Malformed(f"page.status {status!r} is none of UP, HASISSUES, UNDERMAINTENANCE")
    incidents = [
        _instatus_incident(obj(i, "an incident"), False)
        for i in items(data.get("activeIncidents"), "activeIncidents", MAX_INCIDENTS)
    ]
    # activeMaintenances lists those announced too; only one under way is going on.
    maintenances = [
        maintenance
        for m in items(data.get("activeMaintenances"), "activeMaintenances", MAX_INCIDENTS)
        if (maintenance := _instatus_incident(obj(m, "a maintenance"), True)).status == IncidentStatus.IN_PROGRESS
    ]
    if status == "hasissues":
        # A page with issues but no incident listed (a component set by hand) is at least degraded.
        level = worst([i.level for i in incidents if i.open], OfficialLevel.DEGRADED)
    else:
        level = INSTATUS_PAGE[status]
    return Snapshot(level=level, incidents=tuple(incidents + maintenances))


def _instatus_incident(data: dict[str, Any], maintenance: bool) -> Incident:
    provider_id = ident(data.get("id"))
    if not provider_id:
        raise Malformed("an incident without an id")
    status = status_of(text(data.get("status")).replace("_", ""), INSTATUS_LIFECYCLE)
    impact = text(data.get("impact")).lower().replace("_", "")
    return Incident(
        provider_id=provider_id,
        title=text(data.get("name")),
        status=status,
        level=OfficialLevel.MAINTENANCE if maintenance else INSTATUS_IMPACT.get(impact, OfficialLevel.DEGRADED),
        started_at=timestamp(data.get("started")) or timestamp(data.get("start")),
        url=link(data.get("url")),
        maintenance=maintenance,
    )


# --- Better Stack ----------------------------------------------------------------------------------

BETTERSTACK_STATE = {
    "operational": OfficialLevel.OPERATIONAL,
    "degraded": OfficialLevel.DEGRADED,
    "downtime": OfficialLevel.MAJOR_OUTAGE,
    "maintenance": OfficialLevel.MAINTENANCE,
}


def parse_betterstack(body: bytes, headers: Mapping[str, str], now: dt.datetime) -> Snapshot:
    """JSON:API: the page's `aggregate_state`, its resources, status reports and their updates in `included`.

    A resource in downtime is a major outage of that resource; the service's level follows
    ``components_level`` (one resource down of several is a partial outage).
    """
    data = obj(load_json(body, headers), "the document")
    page = obj(obj(data.get("data"), "data").get("attributes"), "data.attributes")
    aggregate = text(page.get("aggregate_state")).lower()
    if aggregate not in BETTERSTACK_STATE:
        raise Malformed(f"data.attributes.aggregate_state {aggregate!r} is none of {', '.join(BETTERSTACK_STATE)}")
    included = [obj(i, "an included item") for i in items(data.get("included"), "included", 2000)]
    resources = [i for i in included if i.get("type") == "status_page_resource"][:MAX_COMPONENTS]
    components = tuple(
        Component(
            text(obj(r.get("attributes"), "a resource's attributes").get("public_name"), NAME_CHARS),
            BETTERSTACK_STATE.get(text(r["attributes"].get("status")).lower(), OfficialLevel.UNKNOWN),
        )
        for r in resources
    )
    updates: dict[str, list[Update]] = {}
    for item in included:
        if item.get("type") != "status_update":
            continue
        attributes = obj(item.get("attributes"), "a status update's attributes")
        report_id = ident(attributes.get("status_report_id"))
        updates.setdefault(report_id, []).append(
            Update(
                ident(item.get("id")) or f"{report_id}:{len(updates.get(report_id, []))}",
                timestamp(attributes.get("published_at")),
                IncidentStatus.UNKNOWN,
                text(attributes.get("message"), BODY_CHARS),
            )
        )
    reports = [i for i in included if i.get("type") == "status_report"][:MAX_INCIDENTS]
    incidents = tuple(_betterstack_report(r, updates, now) for r in reports)
    level: str = BETTERSTACK_STATE[aggregate]
    if level == OfficialLevel.MAJOR_OUTAGE and components:
        level = components_level([c.level for c in components])
    return Snapshot(level=level, components=components, incidents=incidents)


def _betterstack_report(data: dict[str, Any], updates: dict[str, list[Update]], now: dt.datetime) -> Incident:
    provider_id = ident(data.get("id"))
    if not provider_id:
        raise Malformed("a status report without an id")
    attributes = obj(data.get("attributes"), "a status report's attributes")
    maintenance = text(attributes.get("report_type")).lower() == "maintenance"
    # A maintenance's ends_at is its planned end: in the future it has not ended.
    ends = timestamp(attributes.get("ends_at"))
    resolved = ends if ends is not None and ends <= now else None
    starts = timestamp(attributes.get("starts_at"))
    state = text(attributes.get("aggregate_state")).lower()
    own = sorted(updates.get(provider_id, []), key=lambda u: u.at or dt.datetime.min.replace(tzinfo=dt.UTC))
    if maintenance and starts is not None and starts > now:
        status = IncidentStatus.SCHEDULED
    elif maintenance:
        status = IncidentStatus.COMPLETED if resolved else IncidentStatus.IN_PROGRESS
    else:
        status = IncidentStatus.RESOLVED if resolved or state == "resolved" else IncidentStatus.INVESTIGATING
    return Incident(
        provider_id=provider_id,
        title=text(attributes.get("title")),
        status=status,
        level=OfficialLevel.MAINTENANCE if maintenance else BETTERSTACK_STATE.get(state, OfficialLevel.DEGRADED),
        started_at=starts,
        resolved_at=resolved,
        updates=tuple(own[-MAX_UPDATES:]),
        maintenance=maintenance,
    )
