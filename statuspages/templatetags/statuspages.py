"""The official status page block of a service page: `{% include "statuspages/service_block.html" %}`.

The block loads what it shows itself (one tag), so the page's view needs no change to carry it.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from catalog.models import Service
from statuspages.kinds import IncidentStatus, OfficialLevel
from statuspages.selectors import INCIDENTS_SHOWN, official_state, status_page_get

register = template.Library()

# The site's badge classes (reports' stylesheet): green by default, amber, red, grey.
BADGES = {
    OfficialLevel.OPERATIONAL: "",
    OfficialLevel.MAINTENANCE: "badge-resolved",
    OfficialLevel.DEGRADED: "badge-possible",
    OfficialLevel.PARTIAL_OUTAGE: "badge-outage",
    OfficialLevel.MAJOR_OUTAGE: "badge-outage",
    OfficialLevel.UNKNOWN: "badge-resolved",
}


@register.simple_tag
def official_status(service: Service) -> dict[str, Any] | None:
    """What the block shows for `service`, or None when it has no official page."""
    page = status_page_get(service_id=service.pk)  # one query for a service without a page
    if page is None:
        return None
    incidents = list(page.incidents.open().order_by("-started_at", "-id")[:INCIDENTS_SHOWN])
    state = official_state(page, now=timezone.now(), incidents=incidents)
    snapshot = page.snapshot
    return {
        "state": state,
        "level_label": OfficialLevel(state.level).label,
        "badge": BADGES.get(OfficialLevel(state.level), ""),
        "last_good": OfficialLevel(snapshot.level).label if snapshot and state.level == OfficialLevel.UNKNOWN else "",
        "last_good_at": page.fetched_at,
        "incidents": [
            {
                "incident": incident,
                "status_label": IncidentStatus(incident.status).label,
                "level_label": OfficialLevel(incident.level).label,
            }
            for incident in state.incidents
        ],
    }
