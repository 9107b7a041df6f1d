"""The `status_page:` part of a catalog entry: validation and sync.

    status_page: {kind: atlassian, url: "https://status.example.com"}

`url` is the page's endpoint; a bare origin (no path) gets the kind's usual one
(`/api/v2/summary.json` for atlassian...). Registered with the catalog loader as a section
(catalog/sections.py) in statuspages/apps.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from rest_framework import serializers

from catalog.models import Service
from outagehub.api.choices import ChoiceField
from outagehub.api.serializers import StrictSerializer
from statuspages.kinds import PageKind
from statuspages.models import INTERVAL_MAX_SECONDS, INTERVAL_MIN_SECONDS, StatusPage

# The endpoint each kind serves, appended to a url given as a bare origin.
DEFAULT_PATHS = {
    PageKind.ATLASSIAN: "/api/v2/summary.json",
    PageKind.INCIDENTIO: "/api/v1/summary",
    PageKind.INSTATUS: "/summary.json",
    PageKind.BETTERSTACK: "/index.json",
    PageKind.GCP: "/incidents.json",
    PageKind.AWS: "/public/currentevents",
}


def endpoint_url(kind: str, url: str) -> str:
    """The URL polled: `url` itself, or its origin with the kind's usual path when it has none."""
    parts = urlsplit(url)
    if parts.path in ("", "/") and not parts.query and kind in DEFAULT_PATHS:
        return f"{parts.scheme}://{parts.netloc}{DEFAULT_PATHS[PageKind(kind)]}"
    return url


class StatusPageField(StrictSerializer):
    kind = ChoiceField(choices=PageKind.choices, help_text="What the page serves.")
    url = serializers.URLField(max_length=500)
    interval = serializers.IntegerField(
        min_value=INTERVAL_MIN_SECONDS,
        max_value=INTERVAL_MAX_SECONDS,
        required=False,
        help_text="Seconds between polls (jitter added); default OUTAGEHUB_STATUSPAGES_INTERVAL_SECONDS.",
    )
    enabled = serializers.BooleanField(default=True)

    def validate_url(self, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https"):
            raise serializers.ValidationError("Must be an http:// or https:// URL.")
        return value

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            kinds = ", ".join(PageKind.values)
            raise serializers.ValidationError(f"Must be a mapping {{kind, url}}; kind is one of {kinds}.")
        value = super().to_internal_value(data)
        return StatusPageSpec(
            kind=value["kind"],
            url=endpoint_url(value["kind"], value["url"]),
            interval=value.get("interval") or settings.STATUSPAGES_INTERVAL_SECONDS,
            enabled=value["enabled"],
        )


@dataclass(frozen=True)
class StatusPageSpec:
    kind: str
    url: str
    interval: int
    enabled: bool


def status_page_sync(*, service: Service, spec: StatusPageSpec | None) -> bool:
    """Make the service's page match `spec`; without one, a page is disabled (its history kept).

    A changed kind or URL is polled afresh at once: its validators and level belong to the old one.
    Returns whether anything changed.
    """
    page = StatusPage.objects.filter(service=service).first()
    if spec is None:
        if page is None or not page.enabled:
            return False
        page.enabled = False
        page.save(update_fields=["enabled"])
        return True
    if page is None:
        StatusPage.objects.create(
            service=service, kind=spec.kind, url=spec.url, interval_seconds=spec.interval, enabled=spec.enabled
        )
        return True
    values = {"kind": spec.kind, "url": spec.url, "interval_seconds": spec.interval, "enabled": spec.enabled}
    dirty = [name for name, value in values.items() if getattr(page, name) != value]
    if not dirty:
        return False
    for name in dirty:
        setattr(page, name, values[name])
    if "kind" in dirty or "url" in dirty:
        page.etag = page.last_modified = ""
        page.stale = True
        dirty += ["etag", "last_modified", "stale"]
    page.save(update_fields=dirty)
    return True
