"""Models of the reports app, split by concern; import them from here."""

from __future__ import annotations

from .catalog import DEFAULT_ISSUE_TYPES, IssueType, Service, ServiceQuerySet, slug_validator
from .outages import (
    Confidence,
    CountryHour,
    DetectorState,
    EventKind,
    Level,
    Outage,
    OutageEvent,
    OutageStatus,
    ReportMinute,
    ServiceMinute,
)
from .reports import (
    COMMENT_MAX_LENGTH,
    Channel,
    CommentState,
    Report,
    ReporterCooldown,
    SimulatedOutage,
    SimulatorClock,
)

__all__ = [
    "COMMENT_MAX_LENGTH",
    "DEFAULT_ISSUE_TYPES",
    "Channel",
    "CommentState",
    "Confidence",
    "CountryHour",
    "DetectorState",
    "EventKind",
    "IssueType",
    "Level",
    "Outage",
    "OutageEvent",
    "OutageStatus",
    "Report",
    "ReportMinute",
    "ReporterCooldown",
    "Service",
    "ServiceMinute",
    "ServiceQuerySet",
    "SimulatedOutage",
    "SimulatorClock",
    "slug_validator",
]
