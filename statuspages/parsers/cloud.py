"""The big clouds' own feeds: Google Cloud (`incidents.json`) and AWS Health (`currentevents`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from statuspages.kinds import IncidentStatus, OfficialLevel, worst
from statuspages.parsers.base import (
    BODY_CHARS,
    MAX_INCIDENTS,
    MAX_UPDATES,
    NAME_CHARS,
    Incident,
    Malformed,
    Snapshot,
    Update,
    ident,
    items,
    link,
    load_json,
    obj,
    text,
    timestamp,
)

# --- Google Cloud ----------------------------------------------------------------------------------

GCP_IMPACT = {
    "service_information": OfficialLevel.DEGRADED,
    "service_disruption": OfficialLevel.PARTIAL_OUTAGE,
    "service_outage": OfficialLevel.MAJOR_OUTAGE,
}
GCP_HOST = "https://status.cloud.google.com/"
# incidents.json is the whole history (thousands of incidents): only those still open or ended
# within this window are kept, newest first.
RECENT = dt.timedelta(days=7)


def parse_gcp(body: bytes, headers: Mapping[str, str], now: dt.datetime) -> Snapshot:
    """A list of incidents; those without `end` are open, and the worst `status_impact` among them decides."""
    data = load_json(body, headers)
    if not isinstance(data, list):
        raise Malformed("incidents.json is not a list")
    incidents = []
    for raw in data:
        item = obj(raw, "an incident")
        end = timestamp(item.get("end"))
        if end is not None and now - end > RECENT:
            continue
        incidents.append(_gcp_incident(item, end))
    incidents.sort(key=lambda i: i.started_at or now, reverse=True)
    incidents = incidents[:MAX_INCIDENTS]
    return Snapshot(level=worst([i.level for i in incidents if i.open]), incidents=tuple(incidents))


def _gcp_incident(data: dict[str, Any], end: dt.datetime | None) -> Incident:
    provider_id = ident(data.get("id"))
    if not provider_id:
        raise Malformed("an incident without an id")
    raw_updates = [obj(u, "an update") for u in items(data.get("updates"), "updates", 500)]
    updates = sorted(
        (
            Update(
                f"{provider_id}@{text(u.get('modified') or u.get('created'))}",
                timestamp(u.get("when")) or timestamp(u.get("created")),
                IncidentStatus.RESOLVED if text(u.get("status")).upper() == "AVAILABLE" else IncidentStatus.UNKNOWN,
                text(u.get("text"), BODY_CHARS),
            )
            for u in raw_updates
        ),
        key=lambda u: u.at or dt.datetime.min.replace(tzinfo=dt.UTC),
    )
    uri = text(data.get("uri"))
    products = [
        text(p.get("title"), NAME_CHARS)
        for p in items(data.get("affected_products"), "affected_products", 50)
        if isinstance(p, dict)
    ]
    return Incident(
        provider_id=provider_id,
        title=text(data.get("external_desc")),
        status=IncidentStatus.RESOLVED if end else IncidentStatus.INVESTIGATING,
        level=GCP_IMPACT.get(text(data.get("status_impact")).lower(), OfficialLevel.DEGRADED),
        started_at=timestamp(data.get("begin")),
        resolved_at=end,
        components=tuple(products)
        or ((text(data.get("service_name"), NAME_CHARS),) if data.get("service_name") else ()),
        url=GCP_HOST + uri.lstrip("/") if uri and "://" not in uri else link(uri),
        updates=tuple(updates[-MAX_UPDATES:]),
    )


# --- AWS -------------------------------------------------------------------------------------------

# The AWS Health Dashboard's event status: 0 resolved, 1 informational, 2 degradation, 3 disruption.
AWS_STATUS = {
    "0": OfficialLevel.OPERATIONAL,
    "1": OfficialLevel.DEGRADED,
    "2": OfficialLevel.PARTIAL_OUTAGE,
    "3": OfficialLevel.MAJOR_OUTAGE,
}
AWS_PAGE = "https://health.aws.amazon.com/health/status"


def parse_aws(body: bytes, headers: Mapping[str, str], now: dt.datetime) -> Snapshot:
    """The current events, served as UTF-16 with a BOM; an empty list means every service is operating normally.

    Events carry no id: one is made of the service key and the start time, which AWS keeps.
    """
    data = load_json(body, headers)
    if not isinstance(data, list):
        raise Malformed("currentevents is not a list")
    incidents = tuple(_aws_event(obj(e, "an event")) for e in data[:MAX_INCIDENTS])
    return Snapshot(level=worst([i.level for i in incidents if i.open]), incidents=incidents)


def _aws_event(data: dict[str, Any]) -> Incident:
    service = text(data.get("service"), 100)
    started = timestamp(data.get("date"))
    if not service or started is None:
        raise Malformed("an event without service or date")
    status = ident(data.get("status"))
    log = [obj(e, "an event_log entry") for e in items(data.get("event_log"), "event_log", 500)]
    updates = sorted(
        (
            Update(
                f"{service}:{ident(entry.get('timestamp'))}",
                timestamp(entry.get("timestamp")),
                IncidentStatus.RESOLVED if ident(entry.get("status")) == "0" else IncidentStatus.UNKNOWN,
                text(entry.get("message") or entry.get("summary"), BODY_CHARS),
            )
            for entry in log
        ),
        key=lambda u: u.at or started,
    )
    # Resolved: status 0, or the last log entry's 0, or AWS's own "[RESOLVED]" on the summary.
    title = text(data.get("summary"))
    resolved = (
        status == "0"
        or title.upper().startswith("[RESOLVED]")
        or (bool(updates) and updates[-1].status == IncidentStatus.RESOLVED)
    )
    return Incident(
        provider_id=f"{service}:{int(started.timestamp())}",
        title=title,
        status=IncidentStatus.RESOLVED if resolved else IncidentStatus.INVESTIGATING,
        level=AWS_STATUS.get(status, OfficialLevel.DEGRADED),
        started_at=started,
        resolved_at=(updates[-1].at if updates else started) if resolved else None,
        components=tuple(filter(None, [text(data.get("service_name"), NAME_CHARS), text(data.get("region_name"), 60)])),
        url=AWS_PAGE,
        updates=tuple(updates[-MAX_UPDATES:]),
    )
