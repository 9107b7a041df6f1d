"""API keys (stored hashed, scoped, revocable) and the status updates a service's team posts on an outage."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models

from catalog.models import Service
from reports.models.outages import Outage, UpdateState

# Keys are looked up by their first characters (shown in the admin), then compared by hash.
API_KEY_PREFIX_LENGTH = 8
OUTAGE_UPDATE_MAX_LENGTH = 1000


def api_key_hash(key: str) -> str:
    """SHA-256 hex of a whole key: keys are 32 random bytes, so a fast hash cannot be brute-forced."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyScope(models.TextChoices):
    READ = "read", "Read"
    SERVICE_UPDATES = "service-updates", "Post status updates"
    WEBHOOKS = "webhooks", "Webhooks"


class ApiKey(models.Model):
    name = models.CharField(max_length=100, help_text="Who holds the key; shown as the author of their updates.")
    prefix = models.CharField(max_length=API_KEY_PREFIX_LENGTH, db_index=True, editable=False)
    hashed = models.CharField(max_length=64, unique=True, editable=False, help_text="SHA-256 of the key.")
    scopes = models.JSONField(default=list, help_text="Values of ApiKeyScope.")
    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="The only service whose outages this key may post updates on; empty for every service.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def has_scope(self, scope: ApiKeyScope) -> bool:
        return scope in self.scopes

    def may_update(self, service_id: int) -> bool:
        """Whether this key may post status updates on outages of the service."""
        return self.has_scope(ApiKeyScope.SERVICE_UPDATES) and self.service_id in (None, service_id)


class OutageUpdate(models.Model):
    """A status update posted by a service's team (with a scoped key) or by staff."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="updates")
    state = models.CharField(max_length=13, choices=UpdateState.choices)
    message = models.TextField(max_length=OUTAGE_UPDATE_MAX_LENGTH)
    author = models.CharField(max_length=150, help_text="The key's name or the staff member's username.")
    api_key = models.ForeignKey(ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.outage_id} {self.state} by {self.author}"
