"""Signed webhooks: subscriptions of an API key, dispatch of outage events, and one delivery attempt.

Deliveries follow the Standard Webhooks spec (standardwebhooks.com): `webhook-id`, `webhook-timestamp`
and `webhook-signature` headers, and secrets of the form `whsec_<base64 key>`, so receivers can
verify them with any of the spec's libraries.

A delivery is a row written in the same transaction as the outage change that caused it; it is
sent by the `webhook_deliver` task after that transaction commits, retried with exponential
backoff, and its every attempt is recorded on the row (the delivery log).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from catalog.models import Service
from outagehub import outbound
from outagehub.api.serializers import iso_time
from outagehub.outbound import BlockedAddress, http_client
from reports.detection.attribution import cause_text
from reports.models import (
    WEBHOOK_URL_MAX_LENGTH,
    ApiKey,
    DeliveryStatus,
    Outage,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 30  # the wait after attempt n is BACKOFF_SECONDS * 2^(n-1): 30 s, 1 min, ... 8 min
TIMEOUT_SECONDS = 10  # per connect, write and read of one attempt
RESOLVE_TIMEOUT_SECONDS = 2  # checking a new subscription's host, inside its request
ERROR_MAX_LENGTH = 500
SECRET_PREFIX = "whsec_"  # noqa: S105 - the spec's marker for a secret, not one
SECRET_BYTES = 32  # the HMAC key; the spec asks for 24 to 64


def webhook_secret_new() -> str:
    """A new subscription's secret: `whsec_` and the base64 of SECRET_BYTES random bytes (50 characters)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def webhook_signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: `v1,` and the base64 HMAC-SHA256 of `{msg_id}.{timestamp}.{body}`.

    The key is the secret's base64 part decoded, as the spec's libraries decode it. Secrets made
    before we followed the spec (64 hex characters, no prefix) are valid base64 too, and those
    libraries decode them the same way, so their subscribers keep verifying without a new secret.
    """
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


# --- subscriptions ------------------------------------------------------------------


def webhook_create(*, owner: ApiKey, url: str, events: Iterable[str], services: Iterable[Service] = ()) -> Webhook:
    """Subscribe `url` to `events` of `services` (none: every service); the new row carries its plain secret."""
    events = list(dict.fromkeys(events))
    errors: dict[str, list[str]] = {}
    if not events or any(e not in WebhookEvent.values for e in events):
        errors["events"] = [f"Give one or more of: {', '.join(WebhookEvent.values)}."]
    if len(url) > WEBHOOK_URL_MAX_LENGTH or url.split(":", 1)[0].lower() not in ("http", "https"):
        errors["url"] = [f"Give an http or https URL of at most {WEBHOOK_URL_MAX_LENGTH} characters."]
    elif refused := _refused_target(url):
        errors["url"] = [refused]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        webhook = Webhook.objects.create(owner=owner, url=url, events=events, secret=webhook_secret_new())
        webhook.services.set(services)
    return webhook


def _refused_target(url: str) -> str | None:
    """Why deliveries to `url` could never be made, found now rather than at the first outage; or None.

    A host that is or resolves to a private, loopback or link-local address is refused (unless
    OUTAGEHUB_PROBES_ALLOW_PRIVATE). A host that does not resolve right now is accepted: DNS may
    be down for a moment, and every delivery goes through the same guard at connect time anyway.
    """
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return "Give a valid http or https URL (check the port)."
    if not host:
        return "Give a URL with a host name."
    if settings.PROBES_ALLOW_PRIVATE:
        return None
    try:
        outbound.resolve(host, port, allow_private=False, timeout=RESOLVE_TIMEOUT_SECONDS)
    except BlockedAddress as exc:
        return f"{host} leads to {exc.address}, which is not a public address: webhooks are sent only to public ones."
    except (OSError, UnicodeError):
        return None
    return None


def webhooks_of(*, owner: ApiKey) -> QuerySet[Webhook]:
    """The key's own subscriptions, newest first."""
    return Webhook.objects.filter(owner=owner).prefetch_related("services")


# --- dispatch ---------------------------------------------------------------------------


def outage_payload(outage: Outage) -> dict[str, Any]:
    """The outage as a webhook shows it (a snapshot taken when the event happened)."""
    return {
        "id": outage.pk,
        "service": outage.service.slug,
        "service_name": outage.service.name,
        "status": outage.status,
        "confidence": outage.confidence,
        "level": outage.level,
        "started_at": iso_time(outage.started_at),
        "resolved_at": iso_time(outage.resolved_at),
        "ended_at": iso_time(outage.ended_at),
        "acknowledged_at": iso_time(outage.acknowledged_at),
        "peak_at": iso_time(outage.peak_at),
        "peak_count": outage.peak_count,
        "peak_expected": outage.peak_expected,
        "issue_types": outage.issue_types,
        "countries": outage.countries,
        "cause": outage_cause(outage),
    }


def outage_cause(outage: Outage) -> dict[str, Any] | None:
    """The likely upstream cause as the API and webhooks show it, or None (reports/outages/attribution.py)."""
    if outage.cause_id is None:
        return None
    evidence = outage.cause_evidence or {}
    return {
        "service": evidence.get("cause") or (outage.cause.slug if outage.cause else None),
        "service_name": evidence.get("cause_name") or (outage.cause.name if outage.cause else None),
        "status": outage.cause_status,
        "outage": outage.cause_outage_id,
        "summary": cause_text(evidence),
        "evidence": evidence,
    }


def webhooks_dispatch(*, outage: Outage, event: str) -> list[WebhookDelivery]:
    """Write a pending delivery for every active webhook subscribed to `event` on the outage's service.

    Sending happens after the surrounding transaction commits: a rolled-back detection tick must
    not announce an outage that does not exist, and a slow receiver must not hold its locks.
    """
    from reports.tasks import webhook_deliver  # tasks import the detection tick, which imports this module

    webhooks = (
        Webhook.objects.filter(active=True, owner__revoked_at__isnull=True)
        .filter(Q(services=None) | Q(services=outage.service_id))
        .distinct()
    )
    deliveries = []
    now = timezone.now()
    for webhook in webhooks:
        # Filtered here, not in SQL: SQLite has no JSON containment lookup.
        if event not in webhook.events:
            continue
        delivery = WebhookDelivery.objects.create(webhook=webhook, event=event, outage=outage, payload={})
        delivery.payload = {
            "id": delivery.pk,
            "event": event,
            "created_at": iso_time(now),
            "outage": outage_payload(outage),
        }
        delivery.save(update_fields=["payload"])
        transaction.on_commit(partial(webhook_deliver.delay, delivery.pk))
        deliveries.append(delivery)
    return deliveries


# --- delivery ------------------------------------------------------------------------


@dataclass
class Attempt:
    status_code: int | None
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _send(delivery: WebhookDelivery, now: dt.datetime) -> Attempt:
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    # The id is the same on every retry, so receivers can drop duplicates with it; the timestamp
    # and signature are those of this attempt, so a retry hours later is not refused as too old.
    msg_id = delivery.message_id
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "X-OutageHub-Event": delivery.event,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_signature(
            secret=delivery.webhook.secret, msg_id=msg_id, timestamp=timestamp, body=body
        ),
    }
    # The same private-address guard as probes; redirects are not followed (a 3xx is a failure).
    client = http_client(allow_private=settings.PROBES_ALLOW_PRIVATE, timeout=TIMEOUT_SECONDS, max_redirects=0)
    try:
        with client, client.stream("POST", delivery.webhook.url, content=body, headers=headers) as response:
            # The receiver's body is never read: only its status matters.
            code = response.status_code
    except BlockedAddress as exc:
        return Attempt(None, str(exc))
    except httpx.HTTPError as exc:
        return Attempt(None, f"{type(exc).__name__}: {exc}"[:ERROR_MAX_LENGTH])
    return Attempt(code, "" if 200 <= code < 300 else f"HTTP {code}")


def webhook_delivery_attempt(*, delivery_id: int, attempt: int, now: dt.datetime | None = None) -> int | None:
    """Make attempt number `attempt` (from 1) of a delivery; returns seconds until the next one, or None.

    The attempt is claimed first with a conditional UPDATE on (status, attempts): a duplicate
    message, a second worker, or a delivery already delivered or failed sends nothing.
    """
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempt - 1
    ).update(attempts=F("attempts") + 1, next_attempt_at=None)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    result = _send(delivery, now)
    fields: dict[str, Any] = {"last_status_code": result.status_code, "last_error": result.error}
    retry_in = None
    if result.ok:
        fields.update(status=DeliveryStatus.DELIVERED, delivered_at=timezone.now())
    elif attempt >= MAX_ATTEMPTS:
        fields.update(status=DeliveryStatus.FAILED)
    else:
        retry_in = BACKOFF_SECONDS * 2 ** (attempt - 1)
        fields.update(next_attempt_at=now + dt.timedelta(seconds=retry_in))
    WebhookDelivery.objects.filter(pk=delivery_id).update(**fields)
    return retry_in


STALE_AFTER = dt.timedelta(minutes=15)


def webhook_deliveries_stale(*, now: dt.datetime | None = None) -> list[tuple[int, int]]:
    """(delivery id, next attempt number) of pending deliveries nobody is working on.

    A worker that died mid-attempt, or a lost retry message, leaves a delivery
    pending with no attempt coming; after STALE_AFTER it is sent again (the
    attempt claim keeps a late original from sending twice).
    """
    now = now or timezone.now()
    cutoff = now - STALE_AFTER
    stale = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).filter(
        Q(next_attempt_at__isnull=True, created_at__lt=cutoff) | Q(next_attempt_at__lt=cutoff)
    )
    return [(pk, attempts + 1) for pk, attempts in stale.values_list("pk", "attempts")[:500]]
