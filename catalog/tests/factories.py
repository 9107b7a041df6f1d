"""Test data for the catalog: a service with the default issue types."""

from __future__ import annotations

from catalog.models import Service
from catalog.services import service_create


def make_service(slug: str = "tiktok-shop", name: str = "TikTok Shop", **kwargs) -> Service:
    return service_create(slug=slug, name=name, homepage=f"https://{slug}.example", **kwargs)
