"""Models of the reports app, split by concern; import them from here."""

from __future__ import annotations

from .catalog import (
    DEFAULT_ISSUE_TYPES,
    IssueType,
    Service,
    ServiceQuerySet,
    issue_type_key_validator,
    slug_validator,
)
from .keys import (
    API_KEY_PREFIX_LENGTH,
    OUTAGE_UPDATE_MAX_LENGTH,
    ApiKey,
    ApiKeyScope,
    OutageUpdate,
    api_key_hash,
)
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
    UpdateState,
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
from .webhooks import (
    WEBHOOK_URL_MAX_LENGTH,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)

__all__ = [
    "API_KEY_PREFIX_LENGTH",
    "COMMENT_MAX_LENGTH",
    "DEFAULT_ISSUE_TYPES",
    "OUTAGE_UPDATE_MAX_LENGTH",
    "WEBHOOK_URL_MAX_LENGTH",
    "ApiKey",
    "ApiKeyScope",
    "Channel",
    "CommentState",
    "Confidence",
    "CountryHour",
    "DeliveryStatus",
    "DetectorState",
    "EventKind",
    "IssueType",
    "Level",
    "Outage",
    "OutageEvent",
    "OutageStatus",
    "OutageUpdate",
    "Report",
    "ReportMinute",
    "ReporterCooldown",
    "Service",
    "ServiceMinute",
    "ServiceQuerySet",
    "SimulatedOutage",
    "SimulatorClock",
    "UpdateState",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
    "api_key_hash",
    "issue_type_key_validator",
    "slug_validator",
]
