"""Models of the reports app, split by concern; import them from here."""

from __future__ import annotations

from reports.models.keys import (
    API_KEY_PREFIX_LENGTH,
    OUTAGE_UPDATE_MAX_LENGTH,
    ApiKey,
    ApiKeyScope,
    OutageUpdate,
    api_key_hash,
)
from reports.models.limits import RateLimitLog
from reports.models.outages import (
    CauseStatus,
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
    outage_confidence,
)
from reports.models.reports import (
    COMMENT_MAX_LENGTH,
    Channel,
    CommentState,
    NotCountedReason,
    Report,
    ReporterCooldown,
    SimulatedOutage,
    SimulatorClock,
)
from reports.models.webhooks import WEBHOOK_URL_MAX_LENGTH, DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent

__all__ = [
    "API_KEY_PREFIX_LENGTH",
    "COMMENT_MAX_LENGTH",
    "OUTAGE_UPDATE_MAX_LENGTH",
    "WEBHOOK_URL_MAX_LENGTH",
    "ApiKey",
    "ApiKeyScope",
    "CauseStatus",
    "Channel",
    "CommentState",
    "Confidence",
    "CountryHour",
    "DeliveryStatus",
    "DetectorState",
    "EventKind",
    "Level",
    "NotCountedReason",
    "Outage",
    "OutageEvent",
    "OutageStatus",
    "OutageUpdate",
    "RateLimitLog",
    "Report",
    "ReportMinute",
    "ReporterCooldown",
    "ServiceMinute",
    "SimulatedOutage",
    "SimulatorClock",
    "UpdateState",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
    "api_key_hash",
    "outage_confidence",
]
