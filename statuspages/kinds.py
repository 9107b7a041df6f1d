"""The status pages' vocabularies: page kinds, the one level scale, incident lifecycles.

Kept apart from the models so the pure parsers use them without importing any model.
"""

from __future__ import annotations

from django.db import models


class PageKind(models.TextChoices):
    ATLASSIAN = "atlassian", "Atlassian Statuspage (v2 summary.json)"
    INCIDENTIO = "incidentio", "incident.io (widget summary)"
    INSTATUS = "instatus", "Instatus (summary.json)"
    BETTERSTACK = "betterstack", "Better Stack (index.json)"
    GCP = "gcp", "Google Cloud (incidents.json)"
    AWS = "aws", "AWS Health (currentevents)"
    FEED = "feed", "RSS or Atom feed"


class OfficialLevel(models.TextChoices):
    """Every provider's status mapped to one scale. UNKNOWN: we could not read the page."""

    OPERATIONAL = "operational", "Operational"
    MAINTENANCE = "maintenance", "Maintenance"
    DEGRADED = "degraded", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"
    UNKNOWN = "unknown", "Unknown"


# Worse is higher. UNKNOWN is not on the scale: it never wins over a level that was read.
SEVERITY = {
    OfficialLevel.OPERATIONAL: 0,
    OfficialLevel.MAINTENANCE: 1,
    OfficialLevel.DEGRADED: 2,
    OfficialLevel.PARTIAL_OUTAGE: 3,
    OfficialLevel.MAJOR_OUTAGE: 4,
}


def worst(levels: list[str] | tuple[str, ...], default: str = OfficialLevel.OPERATIONAL) -> str:
    """The most severe of `levels` (unknown ones ignored); `default` when none is known."""
    known = [level for level in levels if level in SEVERITY]
    return max(known, key=lambda level: SEVERITY[OfficialLevel(level)]) if known else default


class IncidentStatus(models.TextChoices):
    """An incident's (or maintenance's) lifecycle as the provider states it."""

    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"
    POSTMORTEM = "postmortem", "Postmortem"
    SCHEDULED = "scheduled", "Maintenance scheduled"
    IN_PROGRESS = "in_progress", "Maintenance in progress"
    VERIFYING = "verifying", "Maintenance verifying"
    COMPLETED = "completed", "Maintenance completed"
    UNKNOWN = "unknown", "Unknown"


# The lifecycle states after which an incident is over.
CLOSED_STATUSES = frozenset({IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM, IncidentStatus.COMPLETED})
