"""The probes' vocabularies (kinds, outcomes, states, error classes).

Kept apart from the models so the pure checkers and the state machine use them
without importing any model."""

from __future__ import annotations

from django.db import models


class ProbeKind(models.TextChoices):
    HTTP = "http", "HTTP(S)"
    TCP = "tcp", "TCP connect"
    DNS = "dns", "DNS resolve"
    TLS = "tls", "TLS certificate"


class Outcome(models.TextChoices):
    """What one check said. INCONCLUSIVE: our side could not tell (offline, refused target)."""

    UP = "up", "Up"
    DEGRADED = "degraded", "Degraded"
    DOWN = "down", "Down"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


class ProbeState(models.TextChoices):
    """Where a probe (or one of its regions) stands, moved only through the thresholds."""

    UNKNOWN = "unknown", "Unknown"
    UP = "up", "Up"
    DEGRADED = "degraded", "Degraded"
    DOWN = "down", "Down"


class ErrorClass(models.TextChoices):
    NONE = "", "None"
    TIMEOUT = "timeout", "Timeout"
    DNS = "dns", "DNS failure"
    REFUSED = "refused", "Connection refused"
    CONNECTION = "connection", "Connection error"
    TLS = "tls", "TLS error"
    PROTOCOL = "protocol", "Protocol error"
    CONDITION = "condition", "Condition failed"
    BLOCKED = "blocked", "Refused by the private-address guard"
    OFFLINE = "offline", "Prober offline"
    CONFIG = "config", "Invalid probe configuration"
