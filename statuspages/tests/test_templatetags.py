"""The official status page block on /s/{slug}/ (rendered by the real page, no browser)."""

from __future__ import annotations

import random

import pytest
from django.test import Client
from django.utils import timezone

from catalog.tests.factories import make_service
from statuspages.demo.server import Route, fixture
from statuspages.services import status_page_poll_now
from statuspages.tests.factories import make_page

pytestmark = pytest.mark.django_db


def test_the_block_shows_level_open_incidents_and_a_link(allowed):
    now = timezone.now()
    allowed.routes["/s.json"] = Route(fixture("atlassian_incident.json", now))
    status_page_poll_now(page=make_page(allowed.url("/s.json")), now=now, rng=random.Random(0))
    html = Client().get("/s/tiktok-shop/").content.decode()
    assert 'data-testid="official-status"' in html
    assert 'data-testid="official-level">Partial outage<' in html
    assert 'href="https://stspg.io/p31zjtct2jer"' in html
    assert "Investigating payment errors" in html
    assert f'href="http://127.0.0.1:{allowed.port}/"' in html
    assert 'data-testid="official-stale"' not in html


def test_a_failed_read_shows_unknown_and_the_stale_marker_with_the_reason(allowed):
    now = timezone.now()
    allowed.routes["/s.json"] = Route(fixture("atlassian_incident.json", now))
    page = status_page_poll_now(page=make_page(allowed.url("/s.json")), now=now, rng=random.Random(0))
    allowed.routes["/s.json"] = Route(b"", status=500, conditional=False)
    status_page_poll_now(page=page, now=now, rng=random.Random(0))
    html = Client().get("/s/tiktok-shop/").content.decode()
    assert 'data-testid="official-level">Unknown<' in html
    assert 'data-testid="official-stale"' in html
    assert "HTTP 500" in html and "(Partial outage)" in html


def test_no_block_for_a_service_without_a_page():
    make_service("etsy", "Etsy")
    html = Client().get("/s/etsy/").content.decode()
    assert "official-status" not in html
