"""How the service page reads: a fixed number of queries however long its history; memos never show stale numbers.

Its rollup reads are memoized by the detector's last minute (reports.selectors.overview), its
outage history by a digest of its outages (reports.web.service_history), and its chart and
history bars by their values ({% memo %}). Each test compares the page against the same page
computed with an empty cache, at the same frozen instant.
"""

from __future__ import annotations

import datetime as dt
import re
from ipaddress import ip_address

import pytest
from django.db import connection
from django.test import Client

from catalog.tests.factories import make_service
from outagehub import breaker, memo
from outagehub.tests.test_memo import DownCache
from reports.detection.tick import detection_tick
from reports.models import Level, OutageStatus
from reports.tests.factories import file_report
from reports.tests.web.test_pages import MINUTE, PAGE, get, outage, section, spike_afternoon

pytestmark = pytest.mark.django_db

# The page read again before the detector's next minute (see reports.web.views._render_service):
# the service and its issue types (2), the detector's position (1), the minutes not rolled up yet
# for the chart, the counts and the countries (3), probes (1, and 2 per probe), the outage history
# (1: its digest on PostgreSQL, its outages elsewhere), the newest outages (1, when there are
# any), comments (1), the services it depends on and that depend on it (2), and the official
# status page block (1 without a page, 2 with one: statuspages/templatetags).
SERVICE_PAGE_QUERIES = 13
# Read from rollups, memoized until the detector's next minute: the chart's counts and baseline
# (2), the problems (3), the status (1), the counts (1) and the countries (1).
ROLLUP_QUERIES = 8


def history_recomputed() -> int:
    """Queries to recompute the outage history: its outages, read besides the digest on PostgreSQL."""
    return 1 if connection.vendor == "postgresql" else 0


@pytest.fixture
def shop():
    return make_service()


@pytest.fixture
def visitor() -> Client:
    return Client()


def afresh(client: Client, at: dt.datetime) -> str:
    """The page as computed with nothing memoized."""
    memo.cache.clear()
    return get(client, PAGE, at)


def day_bar(html: str, day: dt.date) -> tuple[str, str]:
    """The history bar of `day`: its level and its title ("2 outages, 45 min"), for a day with an outage."""
    match = re.search(rf'data-day="{day}" aria-label="{day}: ([^"]+)"><rect class="day day-(\w+)"', html)
    assert match, f"no outage bar on {day}"
    return match.group(2), match.group(1)


def same_page(a: str, b: str) -> bool:
    # Each anonymous request gets its own CSRF token; nothing else may differ.
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    return token.sub("", a) == token.sub("", b)


def test_service_page_reads_a_fixed_number_of_queries_and_fewer_until_the_next_minute(
    shop, visitor, django_assert_num_queries
):
    now = spike_afternoon(shop)
    file_report(shop, comment="one", now=now)
    with django_assert_num_queries(SERVICE_PAGE_QUERIES + ROLLUP_QUERIES + history_recomputed()):
        get(visitor, PAGE, now)
    with django_assert_num_queries(SERVICE_PAGE_QUERIES):
        get(visitor, PAGE, now + dt.timedelta(seconds=30))

    # A quarter of outages and more comments: not one query more, and only the history is read again.
    for day in range(1, 16):
        outage(shop, now - dt.timedelta(days=day), 30)
    for i in range(10):
        file_report(shop, comment=f"c{i}", client=ip_address(f"10.0.1.{i}"), now=now)
    with django_assert_num_queries(SERVICE_PAGE_QUERIES + history_recomputed()):
        html = get(visitor, PAGE, now + dt.timedelta(seconds=40))
    assert len(set(re.findall(r"outages/\d+/", html))) == 16  # each listed (its start time and "Timeline" link to it)
    with django_assert_num_queries(SERVICE_PAGE_QUERIES):
        get(visitor, PAGE, now + dt.timedelta(seconds=50))


def test_a_report_after_the_detectors_last_minute_is_counted_on_the_next_view(shop, visitor):
    now = spike_afternoon(shop)
    before = get(visitor, PAGE, now)
    file_report(shop, "inventory", now=now + dt.timedelta(seconds=10))

    after = get(visitor, PAGE, now + dt.timedelta(seconds=20))
    count = re.compile(r'data-testid="count-15m">(\d+)<')
    assert int(count.search(after).group(1)) == int(count.search(before).group(1)) + 1
    assert same_page(after, afresh(visitor, now + dt.timedelta(seconds=20)))


def test_the_detectors_next_minute_is_a_new_memo(shop, visitor):
    now = spike_afternoon(shop)
    get(visitor, PAGE, now)
    for i in range(30):  # a payment spike in the minute after, which the next tick rolls up
        file_report(shop, "payment", client=ip_address(f"10.0.2.{i}"), now=now + dt.timedelta(seconds=i))
    later = now + 2 * MINUTE
    detection_tick(service_id=shop.pk, now=later)

    html = get(visitor, PAGE, later)
    assert same_page(html, afresh(visitor, later))
    assert "Payment" in section(html, "problems")


def test_an_outage_changed_between_views_shows_at_once(shop, visitor):
    now = spike_afternoon(shop)
    day = now - dt.timedelta(days=3)
    past = outage(shop, day, 30, level=Level.POSSIBLE)
    assert day_bar(get(visitor, PAGE, now), day.date())[0] == "possible"

    past.level = Level.OUTAGE  # by hand (as in the admin): no detector minute passes
    past.save()
    html = get(visitor, PAGE, now + dt.timedelta(seconds=5))
    assert day_bar(html, day.date())[0] == "outage"
    assert same_page(html, afresh(visitor, now + dt.timedelta(seconds=5)))


def test_an_open_outage_keeps_growing_in_the_history_and_stops_once_resolved(shop, visitor):
    now = spike_afternoon(shop)
    running = outage(shop, now - 5 * MINUTE, None)
    first = get(visitor, PAGE, now)
    later = get(visitor, PAGE, now + 3 * MINUTE)
    minutes = re.compile(r", (\d+) min")
    grown = int(minutes.search(day_bar(later, now.date())[1]).group(1))
    assert grown == int(minutes.search(day_bar(first, now.date())[1]).group(1)) + 3
    assert "Ongoing" in section(later, "outage-history")
    assert same_page(later, afresh(visitor, now + 3 * MINUTE))

    running.status, running.resolved_at = OutageStatus.RESOLVED, now + 4 * MINUTE
    running.save()
    resolved = get(visitor, PAGE, now + 6 * MINUTE)
    assert "Ongoing" not in section(resolved, "outage-history")
    assert int(minutes.search(day_bar(resolved, now.date())[1]).group(1)) == grown + 1
    assert same_page(resolved, afresh(visitor, now + 6 * MINUTE))


def test_the_page_is_the_same_with_its_cache_down(shop, visitor, monkeypatch):
    now = spike_afternoon(shop)
    outage(shop, now - dt.timedelta(days=2), 30)
    healthy = afresh(visitor, now)

    monkeypatch.setattr(memo, "cache", DownCache())
    assert same_page(get(visitor, PAGE, now), healthy)
    assert not breaker.CACHE.closed  # the cache is left alone for a while
