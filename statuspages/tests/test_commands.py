"""`manage.py status_page_check`: read a page here, store nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from statuspages.demo.server import Route, fixture
from statuspages.models import ProviderIncident, StatusSnapshot
from statuspages.tests.conftest import NOW
from statuspages.tests.factories import make_page

pytestmark = pytest.mark.django_db


def test_a_services_page_is_read_and_printed_without_storing_anything(allowed):
    allowed.routes["/s.json"] = Route(fixture("atlassian_incident.json", NOW))
    make_page(allowed.url("/s.json"))
    out = StringIO()
    call_command("status_page_check", "tiktok-shop", stdout=out)
    assert "level: partial_outage" in out.getvalue()
    assert "incident p31zjtct2jer [open, identified, partial_outage] Investigating payment errors" in out.getvalue()
    assert not StatusSnapshot.objects.exists() and not ProviderIncident.objects.exists()


def test_a_url_needs_a_kind_and_an_unknown_service_is_an_error(allowed):
    with pytest.raises(CommandError, match="has no status page"):
        call_command("status_page_check", "nope")
    allowed.routes["/feed"] = Route(fixture("feed_open.rss", NOW))
    out = StringIO()
    call_command("status_page_check", allowed.url("/feed"), kind="feed", stdout=out)
    assert "Checkout outage" in out.getvalue()
