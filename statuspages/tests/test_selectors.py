"""The contract other apps read: official_levels and official_incidents_between."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from catalog.tests.factories import make_service
from statuspages.demo.server import Route, fixture
from statuspages.kinds import OfficialLevel
from statuspages.selectors import OfficialState, official_incidents_between, official_levels
from statuspages.services import status_page_poll_now
from statuspages.tests.conftest import NOW
from statuspages.tests.factories import make_page

pytestmark = pytest.mark.django_db
MINUTE = dt.timedelta(minutes=1)


def poll(page, now=NOW):
    return status_page_poll_now(page=page, now=now, rng=random.Random(0))


def test_official_levels_gives_the_level_freshness_and_open_incidents_per_service(allowed):
    allowed.routes["/s.json"] = Route(fixture("atlassian_incident.json", NOW))
    page = poll(make_page(allowed.url("/s.json")))
    other = make_service("etsy", "Etsy")
    states = official_levels([page.service_id, other.pk], now=NOW + MINUTE)
    assert set(states) == {page.service_id}  # a service without a page is absent
    state = states[page.service_id]
    assert isinstance(state, OfficialState)
    assert (state.level, state.stale, state.fetched_at) == (OfficialLevel.PARTIAL_OUTAGE, False, NOW)
    assert state.page_url == f"http://127.0.0.1:{allowed.port}/"
    assert [i.title for i in state.incidents] == ["Investigating payment errors"]
    assert state.incidents[0].latest_update.startswith("The issue has been identified")
    with pytest.raises(AttributeError):
        state.level = "operational"  # frozen


def test_a_reading_older_than_the_stale_limit_is_stale_even_without_a_failed_poll(allowed, settings):
    settings.STATUSPAGES_STALE_SECONDS = 900
    allowed.routes["/s.json"] = Route(fixture("atlassian_ok.json", NOW))
    page = poll(make_page(allowed.url("/s.json")))
    assert official_levels([page.service_id], now=NOW + dt.timedelta(seconds=900))[page.service_id].operational
    late = official_levels([page.service_id], now=NOW + dt.timedelta(seconds=901))[page.service_id]
    assert late.stale and not late.operational


def test_a_page_never_read_is_unknown_and_stale():
    page = make_page("https://status.example/api/v2/summary.json")
    state = official_levels([page.service_id], now=NOW)[page.service_id]
    assert (state.level, state.stale, state.fetched_at, state.incidents) == (OfficialLevel.UNKNOWN, True, None, ())


def test_incidents_between_are_those_going_on_at_any_time_of_the_window(allowed):
    allowed.routes["/s.json"] = Route(fixture("atlassian_incident.json", NOW))
    page = poll(make_page(allowed.url("/s.json")))  # started 19:05, open
    allowed.routes["/s.json"] = Route(fixture("atlassian_ok.json", NOW))
    poll(page, now=NOW + 30 * MINUTE)  # resolved when it left the page, 20:00
    between = official_incidents_between
    assert [i.provider_id for i in between(page.service_id, NOW, NOW + MINUTE)] == ["p31zjtct2jer"]
    assert between(page.service_id, NOW - dt.timedelta(hours=2), NOW - dt.timedelta(hours=1)) == []
    assert between(page.service_id, NOW + 31 * MINUTE, NOW + 40 * MINUTE) == []
    assert len(between(page.service_id, NOW + 29 * MINUTE, NOW + 40 * MINUTE)) == 1
