"""The beat task's attribution reads the upstream's official page (statuspages), fresh only."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
import time_machine

from reports.models import CauseStatus, Outage
from reports.tasks import attribution_tick
from reports.tests.outages.test_attribution import NOW, open_outage, services  # noqa: F401  (fixtures)
from statuspages.demo.server import FixtureServer, Route, fixture
from statuspages.models import StatusPage
from statuspages.services import status_page_poll_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def cdn_page(services, settings):  # noqa: F811
    """The CDN's Statuspage, critical, read from a loopback server at NOW."""
    with FixtureServer() as server:
        settings.STATUSPAGES_ALLOW_PRIVATE = False
        settings.STATUSPAGES_ALLOWED_ADDRESSES = [f"127.0.0.1:{server.port}"]
        data = json.loads(fixture("atlassian_ok.json", NOW))
        data["status"]["indicator"] = "critical"
        server.routes["/cdn.json"] = Route(json.dumps(data).encode())
        page = StatusPage.objects.create(service=services["cdn"], kind="atlassian", url=server.url("/cdn.json"))
        yield status_page_poll_now(page=page, now=NOW, rng=random.Random(0))


def dependents_down(services):  # noqa: F811
    return [open_outage(services[slug], lag) for slug, lag in (("shop-a", 2), ("shop-b", 4), ("shop-c", 7))]


def test_a_fresh_major_outage_on_the_upstreams_page_confirms_the_cause(services, cdn_page):  # noqa: F811
    down = dependents_down(services)
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        assert attribution_tick() == 3
    outage = Outage.objects.get(pk=down[0].pk)
    assert outage.cause_status == CauseStatus.CONFIRMED
    assert outage.cause_evidence["official_level"] == "major_outage"


def test_a_stale_reading_of_the_page_is_no_evidence(services, cdn_page, settings):  # noqa: F811
    settings.STATUSPAGES_STALE_SECONDS = 60
    down = dependents_down(services)
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        assert attribution_tick() == 3
    outage = Outage.objects.get(pk=down[0].pk)
    assert outage.cause_status == CauseStatus.LIKELY
    assert outage.cause_evidence["official_level"] in (None, "unknown")
