"""API keys: created once (the plain key is returned, never stored), then found by prefix and hash on each request."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from catalog.models import Service
from reports.models import API_KEY_PREFIX_LENGTH, ApiKey, ApiKeyScope, api_key_hash

# last_used_at is refreshed at most this often, so a busy key does not write on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def api_key_create(*, name: str, scopes: Iterable[str], service: Service | None = None) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the plain key, which is not stored anywhere and cannot be shown again."""
    scopes = list(dict.fromkeys(scopes))
    unknown = [s for s in scopes if s not in ApiKeyScope.values]
    if unknown:
        raise ValidationError({"scopes": [f"Unknown scope: {', '.join(unknown)}."]})
    key = secrets.token_urlsafe(32)  # 32 random bytes, 43 characters
    api_key = ApiKey(name=name, scopes=scopes, service=service)
    api_key_set_secret(api_key=api_key, key=key)
    with transaction.atomic():
        api_key.save()
    return api_key, key


def api_key_set_secret(*, api_key: ApiKey, key: str) -> None:
    """Fill in prefix and hash of a (not yet saved) key row."""
    api_key.prefix = key[:API_KEY_PREFIX_LENGTH]
    api_key.hashed = api_key_hash(key)


def api_key_find(*, key: str, now: dt.datetime | None = None) -> ApiKey | None:
    """The live (unrevoked) key row for a plain key, or None; marks it used (at most once a minute)."""
    if len(key) < API_KEY_PREFIX_LENGTH:
        return None
    hashed = api_key_hash(key)
    candidates = ApiKey.objects.select_related("service").filter(
        prefix=key[:API_KEY_PREFIX_LENGTH], revoked_at__isnull=True
    )
    api_key = next((k for k in candidates if hmac.compare_digest(k.hashed, hashed)), None)
    if api_key is not None:
        _mark_used(api_key, now or timezone.now())
    return api_key


def _mark_used(api_key: ApiKey, now: dt.datetime) -> None:
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    # A conditional UPDATE: concurrent requests of one key write once, not once each.
    stale = ApiKey.objects.filter(pk=api_key.pk, last_used_at=api_key.last_used_at)
    if api_key.last_used_at is None:
        stale = ApiKey.objects.filter(pk=api_key.pk, last_used_at__isnull=True)
    stale.update(last_used_at=now)
    api_key.last_used_at = now


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>` or `X-Api-Key: <key>`; no header is anonymous, a bad key is a 401.

    request.user stays None (UNAUTHENTICATED_USER) and request.auth is the ApiKey.
    """

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[None, ApiKey] | None:
        key = self._key(request)
        if key is None:
            return None
        api_key = api_key_find(key=key)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        return None, api_key

    def _key(self, request: Any) -> str | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header:
            scheme, _, key = header.partition(" ")
            if scheme.lower() != self.keyword.lower() or not key.strip():
                raise exceptions.AuthenticationFailed("Send the key as 'Authorization: Bearer <key>'.")
            return key.strip()
        key = request.META.get("HTTP_X_API_KEY", "").strip()
        return key or None

    def authenticate_header(self, request: Any) -> str:
        # A value here makes DRF answer 401 (not 403) when credentials are missing or wrong.
        return f'{self.keyword} realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents both ways of sending a key in the schema."""

    target_class = ApiKeyAuthentication
    name = ["bearerAuth", "apiKeyAuth"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        # Either header will do: two alternatives, not one requirement naming both.
        return [{name: []} for name in self.name]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {"type": "http", "scheme": "bearer", "description": "An API key: `Authorization: Bearer <key>`."},
            {"type": "apiKey", "in": "header", "name": "X-Api-Key", "description": "An API key, in this header."},
        ]
