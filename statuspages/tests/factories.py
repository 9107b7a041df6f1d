"""Test data: a service with an official page on the fixture server."""

from __future__ import annotations

from catalog.tests.factories import make_service
from statuspages.kinds import PageKind
from statuspages.models import StatusPage


def make_page(url: str, kind: str = PageKind.ATLASSIAN, *, slug: str = "tiktok-shop", **kwargs) -> StatusPage:
    service = make_service(slug, kwargs.pop("name", "TikTok Shop"))
    return StatusPage.objects.create(service=service, kind=kind, url=url, **kwargs)
