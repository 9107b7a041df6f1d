"""Webhook subscriptions of an API key, and the log of every delivery made to them."""

from __future__ import annotations

from django.db import models

from catalog.models import Service
from reports.models.keys import ApiKey
from reports.models.outages import Outage

WEBHOOK_URL_MAX_LENGTH = 500


class WebhookEvent(models.TextChoices):
    OUTAGE_OPENED = "outage.opened", "Outage opened"
    OUTAGE_UPDATED = "outage.updated", "Outage updated (level changed or reopened)"
    OUTAGE_RESOLVED = "outage.resolved", "Outage resolved"


class Webhook(models.Model):
    owner = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=WEBHOOK_URL_MAX_LENGTH)
    events = models.JSONField(default=list, help_text="Values of WebhookEvent.")
    services = models.ManyToManyField(Service, blank=True, related_name="+", help_text="Empty for every service.")
    # Shown once, in the response that creates the webhook; deliveries are signed with it.
    # `whsec_` and a base64 key, as Standard Webhooks has it (older rows: 64 hex characters).
    secret = models.CharField(max_length=64, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.url} ({', '.join(self.events)})"


class DeliveryStatus(models.TextChoices):
    """Pending until an attempt gets a 2xx (delivered) or the last attempt fails (failed)."""

    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=20, choices=WebhookEvent.choices)
    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="+")
    payload = models.JSONField(help_text="The JSON body sent, the same on every attempt.")
    status = models.CharField(max_length=9, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["webhook", "created_at"], name="delivery_webhook_created")]

    def __str__(self) -> str:
        return f"{self.event} #{self.pk} to webhook {self.webhook_id} ({self.status})"

    @property
    def message_id(self) -> str:
        """The `webhook-id` header: the same on every attempt of this delivery."""
        return f"msg_{self.pk}"
