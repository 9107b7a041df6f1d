"""The public service page and home page: the chart, problems, outage history, comments, statuses.

Times are frozen with time_machine at a minute the detector has processed,
so every number on the page is known.
"""

from __future__ import annotations

import datetime as dt
import re
from ipaddress import ip_address

import pytest
import time_machine
from django.test import Client

from catalog.models import IssueType
from catalog.tests.factories import make_service
from reports.detection.tick import detection_tick
from reports.models import Channel, CommentState, Confidence, DetectorState, Level, Outage, OutageStatus, Report
from reports.tests.factories import BOB, file_report

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
PAGE = "/s/tiktok-shop/"


def add_reports(service, start: dt.datetime, per_minute: list[int], issue_type: str = "payment", country: str = "DE"):
    """`per_minute[i]` counted reports in minute i after `start`, written in bulk (test data, not the intake path)."""
    it = IssueType.objects.get(service=service, key=issue_type)
    Report.objects.bulk_create(
        Report(
            service=service,
            issue_type=it,
            created_at=start + i * MINUTE + dt.timedelta(seconds=j % 60),
            channel=Channel.API,
            counted=True,
            country=country,
        )
        for i, n in enumerate(per_minute)
        for j in range(n)
    )


def quiet(minutes: int) -> list[int]:
    return [(1, 0, 2, 1)[i % 4] for i in range(minutes)]


def spike_afternoon(service) -> dt.datetime:
    """Three quiet hours of server reports from 12:00, 20 payment reports a minute from 15:00 to 15:20, then
    quiet until 16:00; the detector processes it all. Returns 16:01, when the page is looked at."""
    add_reports(service, T0, quiet(180), "server")
    add_reports(service, T0 + 180 * MINUTE, [20] * 20, "payment")
    add_reports(service, T0 + 200 * MINUTE, quiet(40), "server")
    now = T0 + 241 * MINUTE
    detection_tick(service_id=service.pk, now=now)
    return now


@pytest.fixture
def shop():
    return make_service()


@pytest.fixture
def visitor() -> Client:
    return Client()


def get(client: Client, url: str, at: dt.datetime) -> str:
    with time_machine.travel(at, tick=False):
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, testid: str) -> str:
    """The HTML of the <section data-testid=...> (sections do not nest on these pages)."""
    match = re.search(rf'<section[^>]*data-testid="{testid}"[^>]*>(.*?)</section>', html, re.S)
    assert match, f"no section {testid}"
    return match.group(1)


def table_row(html: str, at: str) -> list[str]:
    """The cells of the chart's data-table row for the bucket starting at `at` (ISO, UTC)."""
    match = re.search(rf'<tr class="level-\w+"><th scope="row"><time datetime="{at}">.*?</tr>', html, re.S)
    assert match, f"no row for {at}"
    return re.findall(r"<td>(.*?)</td>", match.group(0))


# --- the chart -----------------------------------------------------------------------


def test_chart_shows_24_hours_of_quarter_hours_with_the_spike_against_its_baseline(shop, visitor):
    now = spike_afternoon(shop)
    html = get(visitor, PAGE, now)

    svg = re.search(r'<svg class="chart-svg".*?</svg>', html, re.S).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="day-chart-title"' in svg
    assert '<title id="day-chart-title">Reports per 15 minutes from 2026-11-19 16:15 to 2026-11-20 16:15 UTC' in svg
    bars = re.findall(r'<rect class="bar level-(\w+)"', svg)
    assert len(bars) == 96
    assert bars[-5:-2] == ["outage"] * 3 and bars.count("outage") == 3  # 15:00 to 15:45, the outage was open
    assert bars[-1] == "none"  # 16:15, not analysed yet (the current quarter hour)
    assert 'class="expected" d="M' in svg and 'class="band" d="M' in svg
    # The table behind it: 20 reports a minute from 15:00 to 15:20.
    assert table_row(html, "2026-11-20T15:00:00Z")[0] == "300"
    cells = table_row(html, "2026-11-20T14:45:00Z")
    assert cells[0] == str(sum(quiet(180)[165:])) and cells[1] and cells[-1] == "No problems"
    assert table_row(html, "2026-11-19T16:15:00Z") == ["0", "", "", "Not analysed yet"]


def test_chart_of_a_service_the_detector_never_saw_is_empty_but_drawn(shop, visitor):
    html = get(visitor, PAGE, T0)
    assert html.count('<rect class="bar level-none"') == 96
    assert "Reports per 15 minutes from 2026-11-19 12:15 to 2026-11-20 12:15 UTC: none." in html
    assert 'class="expected"' not in html and 'class="band"' not in html
    assert "No problems reported in the last 15 minutes." in html
    assert "No outages detected in the last 90 days." in html
    assert 'data-testid="comments"' not in html


def test_service_page_renders_when_the_detector_ran_over_nothing(shop, visitor):
    detection_tick(service_id=shop.pk, now=T0)
    assert DetectorState.objects.filter(service=shop).exists()
    html = get(visitor, PAGE, T0 + MINUTE)
    assert "No problems detected at TikTok Shop" in html


def test_a_status_the_detector_has_not_refreshed_for_minutes_says_it_may_be_out_of_date(shop, visitor):
    detection_tick(service_id=shop.pk, now=T0)  # processes up to 11:58, settled by 11:59
    fresh = get(visitor, PAGE, T0 + MINUTE)
    assert 'data-testid="stale"' not in fresh
    stale = get(visitor, PAGE, T0 + 10 * MINUTE)  # the workers stopped: nothing processed since
    assert "This status may be out of date: reports were last analysed up to" in stale
    assert "No problems detected at TikTok Shop" in stale  # the verdict stays, with the warning


def test_a_service_never_analysed_says_so(shop, visitor):
    assert "Reports for TikTok Shop have not been analysed yet." in get(visitor, PAGE, T0)


def test_chart_counts_reports_the_detector_has_not_rolled_up_yet(shop, visitor):
    now = spike_afternoon(shop)
    file_report(shop, "shipping", now=now - dt.timedelta(seconds=30))  # 16:00:30, after the last rolled-up minute
    html = get(visitor, PAGE, now)
    assert table_row(html, "2026-11-20T16:00:00Z")[0] == "1"


# --- most reported problems ---------------------------------------------------------


def test_problems_are_the_last_15_minutes_by_share_with_the_spiking_one_flagged(shop, visitor):
    add_reports(shop, T0, quiet(180), "server")
    add_reports(shop, T0 + 180 * MINUTE, [20] * 10, "payment")
    now = T0 + 191 * MINUTE
    detection_tick(service_id=shop.pk, now=now)

    problems = section(get(visitor, PAGE, now), "problems")

    rows = re.findall(r'<th scope="row">(\w+)(.*?)</th>.*?<span class="share-value">(\d+)%</span>', problems, re.S)
    assert [(label, percent) for label, _, percent in rows] == [("Payment", "98"), ("Server", "2")]
    assert "Unusually high" in rows[0][1] and "Unusually high" not in rows[1][1]
    assert "Inventory" not in problems  # no reports: not listed


# --- outage history -----------------------------------------------------------------


def outage(service, started: dt.datetime, minutes: int | None, **kwargs) -> Outage:
    """A resolved outage `minutes` long, or an open one (None)."""
    return Outage.objects.create(
        service=service,
        status=OutageStatus.OPEN if minutes is None else OutageStatus.RESOLVED,
        confidence=kwargs.pop("confidence", Confidence.CROWD),
        started_at=started,
        resolved_at=None if minutes is None else started + minutes * MINUTE,
        **kwargs,
    )


def test_history_draws_90_days_each_outage_day_linking_to_it_and_lists_the_newest(shop, visitor):
    now = T0
    ongoing = outage(shop, now - dt.timedelta(days=45), None, level=Level.POSSIBLE)
    recent = outage(shop, now - dt.timedelta(days=2), 90, peak_at=now - dt.timedelta(days=2), peak_count=42)
    older = outage(shop, now - dt.timedelta(days=89), 5, confidence=Confidence.CONFIRMED)
    outage(shop, now - dt.timedelta(days=91), 30)  # too old, and resolved
    outage(make_service("amazon", "Amazon"), now - dt.timedelta(days=1), 10)  # another service's

    history = section(get(visitor, PAGE, now), "outage-history")

    # A bar per day, oldest first; a day with an outage links to it, the open one's every day since it began.
    days = re.findall(r'<rect class="day day-(\w+)"', history)
    assert len(days) == 90
    pairs = re.findall(r'<a href="/s/tiktok-shop/outages/(\d+)/" class="history-link" data-day="([\d-]+)"', history)
    by_day = {day: int(pk) for pk, day in pairs}
    assert by_day["2026-11-18"] == recent.pk and by_day["2026-08-23"] == older.pk
    assert by_day["2026-10-06"] == ongoing.pk and by_day["2026-11-20"] == ongoing.pk
    assert "2026-08-21" not in by_day  # 91 days ago: outside the strip
    assert days[-3] == "outage" and days[0] == "outage" and days[1] == "ok"
    # In words, newest first, without a table to scroll.
    rows = re.findall(r'<li class="outage-row outage-\w+">(.*?)</li>', history, re.S)
    links = [re.search(r'href="(/s/tiktok-shop/outages/\d+/)"', row).group(1) for row in rows]
    assert links == [f"/s/tiktok-shop/outages/{o.pk}/" for o in (recent, ongoing, older)]
    assert '<time datetime="2026-11-18T12:00:00Z">2026-11-18 12:00 UTC</time>' in rows[0]
    assert "lasted 1 h 30 min" in rows[0] and "Crowd reports" in rows[0] and "peak 42/min" in rows[0]
    assert "Ongoing" in rows[1] and "Possible problems" in rows[1]
    assert "Confirmed (two or more signals)" in rows[2] and "5 min" in rows[2]


# --- comments ---------------------------------------------------------------------------


def test_comments_are_escaped_newest_first_and_hidden_ones_left_out(shop, visitor):
    file_report(shop, "payment", comment="first", now=T0 - 10 * MINUTE)
    file_report(shop, "payment", comment='<script>alert("owned")</script>', client=BOB, now=T0 - 5 * MINUTE)
    hidden = file_report(shop, "server", comment="rude words", now=T0 - 4 * MINUTE, client=BOB)
    Report.objects.filter(pk=hidden.pk).update(comment_state=CommentState.HIDDEN)

    html = get(visitor, PAGE, T0)

    comments = section(html, "comments")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;" in comments
    assert comments.index("&lt;script&gt;") < comments.index("first")
    assert "rude words" not in html
    assert '<time datetime="2026-11-20T11:55:00Z">' in comments and "Payment" in comments


def test_only_the_five_latest_comments_are_shown(shop, visitor):
    for i in range(7):
        file_report(shop, comment=f"comment number {i}", now=T0 - (10 - i) * MINUTE, client=ip_address(f"10.0.0.{i}"))
    comments = section(get(visitor, PAGE, T0), "comments")
    assert re.findall(r"comment number (\d)", comments) == ["6", "5", "4", "3", "2"]


# --- cost -----------------------------------------------------------------------------


# --- home ------------------------------------------------------------------------------


def set_status(service, level: str, since: dt.datetime) -> None:
    DetectorState.objects.create(service=service, last_minute=since, level=level, level_since=since)


def test_home_shows_each_status_with_outages_first_and_links_the_open_outage(visitor):
    make_service("amazon", "Amazon")
    possible = make_service("ebay", "eBay")
    down = make_service("zalando", "Zalando")
    set_status(possible, Level.POSSIBLE, T0 - 20 * MINUTE)
    set_status(down, Level.OUTAGE, T0 - 10 * MINUTE)
    open_outage = outage(down, T0 - 11 * MINUTE, None)
    outage(possible, T0 - dt.timedelta(days=1), 30)  # resolved: no link

    page = get(visitor, "/", T0)
    html = section(page, "all-services")

    names = re.findall(r'class="service-name" href="/s/([\w-]+)/"', html)
    assert names == ["zalando", "ebay", "amazon"]
    # Problems right now: those two, each with its last 24 hours drawn.
    now = section(page, "problems-now")
    assert re.findall(r'class="troubled-name" href="/s/([\w-]+)/"', now) == ["zalando", "ebay"]
    assert now.count("<polyline points=") == 2
    badges = dict(re.findall(r'data-testid="status-([\w-]+)">([^<]+)<', html))
    assert badges == {"zalando": "Outage", "ebay": "Possible problems", "amazon": "No problems"}
    assert f'href="/s/zalando/outages/{open_outage.pk}/"' in html
    assert len(re.findall(r"/outages/\d+/", html)) == 1  # the open outage's (the layout links /outages/ too)
    assert 'since <time datetime="2026-11-20T11:50:00Z">' in html


def test_home_search_keeps_the_order_and_escapes_the_query(visitor):
    make_service("amazon", "Amazon")
    html = get(visitor, "/?q=<b>ama", T0)
    assert "&lt;b&gt;ama" in html and "<b>ama" not in html
    assert get(visitor, "/?q=ama", T0).count('class="service-name"') == 1


def test_home_is_three_queries_however_many_services(visitor, django_assert_num_queries):
    for i in range(12):
        service = make_service(f"service-{i}", f"Service {i}")
        if i % 3 == 0:
            set_status(service, Level.OUTAGE, T0)
            outage(service, T0, None)
    # The board, the sparklines of those with problems, and the recent outages.
    with django_assert_num_queries(3):
        html = get(visitor, "/", T0)
    assert html.count('class="service-name"') == 12
