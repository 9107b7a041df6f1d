"""The outage page: summary, chart around it, problem and country mix, and the timeline in words."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from catalog.tests.factories import make_service
from reports.models import Confidence, EventKind, Outage, OutageEvent, UpdateState
from reports.outages.services import outage_update_create
from reports.tests.web.test_pages import MINUTE, T0, get, outage, section, spike_afternoon

pytestmark = pytest.mark.django_db

# The service (1), the outage with its cause and its events (2), the dependents' outages it caused (1),
# issue type labels (1) and the series (4).
OUTAGE_PAGE_QUERIES = 9


@pytest.fixture
def shop():
    return make_service()


@pytest.fixture
def visitor() -> Client:
    return Client()


def url(o: Outage) -> str:
    return f"/s/{o.service.slug}/outages/{o.pk}/"


def test_detected_outage_is_summarised_and_its_timeline_told_in_order(shop, visitor):
    now = spike_afternoon(shop)
    o = Outage.objects.get(service=shop)

    html = get(visitor, url(o), now)

    started = f"{o.started_at:%Y-%m-%d %H:%M}"
    assert (
        f'<h1>TikTok Shop outage, <time datetime="{o.started_at:%Y-%m-%dT%H:%M}:00Z">{started} UTC</time></h1>' in html
    )
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", html, re.S))
    assert facts["Status"] == "Resolved" and "Crowd reports" in facts["Evidence"]
    assert f'<time datetime="{o.resolved_at:%Y-%m-%dT%H:%M}:00Z">' in facts["Resolved"]
    assert f'<time datetime="{o.ended_at:%Y-%m-%dT%H:%M}:00Z">' in facts["Back to normal"]
    # Until reports were back to normal, not until the calm was confirmed 15 minutes later.
    minutes = int((o.ended_at - o.started_at) / MINUTE)
    assert facts["Duration"] == f"{minutes} min" and o.resolved_at - o.ended_at >= 14 * MINUTE
    assert facts["Peak"].startswith("20 reports in the minute from") and "expected" in facts["Peak"]
    assert "TikTok Shop's team" not in html  # no status update was posted
    assert re.search(r'<th scope="row">Payment</th>.*?>9\d%<', html, re.S)
    assert re.search(r'<th scope="row">Germany</th>.*?>100%<', html, re.S)

    timeline = section(html, "timeline")
    kinds = re.findall(r'class="event event-(\w+)"', timeline)
    assert kinds == list(OutageEvent.objects.filter(outage=o).order_by("at", "id").values_list("kind", flat=True))
    sentences = re.findall(r'<span class="event-text">(.*?)</span>', timeline)
    opened = sentences[kinds.index(EventKind.OPENED)]
    assert opened.startswith("Outage opened on user reports: ") and "expected" in opened
    assert sentences[kinds.index(EventKind.PEAK)].startswith("Reports peaked: 20 in one minute")
    assert sentences[-1].startswith("Resolved: reports back to normal since ")
    times = re.findall(r'<time datetime="([^"]+)"', timeline)
    assert times == sorted(times) and all(t.endswith("Z") for t in times)


def test_chart_around_the_outage_is_in_minutes_with_the_outage_shaded(shop, visitor):
    now = spike_afternoon(shop)
    o = Outage.objects.get(service=shop)

    html = get(visitor, url(o), now)

    # An hour either side of 15:00 to 15:39, cut at now (16:01): the current minute is the last bar.
    assert "Reports per minute from 2026-11-20 14:00 to 2026-11-20 16:02 UTC" in html
    assert len(re.findall(r'<rect class="bar ', html)) == 122
    shade = re.search(r'<rect class="highlight" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', html)
    assert shade and float(shade.group(2)) > 0
    assert "The outage" in html


def test_status_updates_show_the_teams_word_escaped(shop, visitor):
    o = outage(shop, T0, None)
    outage_update_create(
        outage=o,
        state=UpdateState.IDENTIFIED,
        message="<script>bad()</script> A bad deploy",
        author="Shop <ops>",
        now=T0 + 5 * MINUTE,
    )
    outage_update_create(
        outage=o, state=UpdateState.MONITORING, message="Fixed,\nwatching", author="Shop ops", now=T0 + 20 * MINUTE
    )

    html = get(visitor, url(o), T0 + 30 * MINUTE)

    assert "<script>bad" not in html and "&lt;script&gt;bad()&lt;/script&gt; A bad deploy" in html
    assert "Shop &lt;ops&gt; posted a status update: identified." in html
    assert "Shop ops posted a status update: monitoring." in html
    team = re.search(r"<dt>TikTok Shop's team</dt><dd>(.*?)</dd>", html, re.S).group(1)
    assert team.startswith("Monitoring") and '<time datetime="2026-11-20T12:05:00Z">' in team


def test_ongoing_outage_without_events_or_reports_still_renders(shop, visitor):
    o = outage(shop, T0, None, confidence=Confidence.PROBE)

    html = get(visitor, url(o), T0 + 95 * MINUTE)

    assert "Ongoing for 1 h 35 min" in html and "1 h 35 min so far" in html
    assert "No events recorded for this outage." in html
    assert "No report peak recorded" in html and html.count("No reports counted during this outage.") == 2
    assert "Evidence</dt><dd>Probes" in html
    # 13:35 is now: the chart stops with its minute, not an hour into the future.
    assert "Reports per minute from 2026-11-20 11:00 to 2026-11-20 13:36 UTC: none." in html


def test_unknown_and_other_services_outages_are_404(shop, visitor):
    other = outage(make_service("amazon", "Amazon"), T0, 10)
    gone = make_service("gone", "Gone", active=False)
    hidden = outage(gone, T0, 10)
    assert visitor.get(f"/s/tiktok-shop/outages/{other.pk}/").status_code == 404
    assert visitor.get(f"/s/amazon/outages/{other.pk}/").status_code == 200
    assert visitor.get("/s/tiktok-shop/outages/999999/").status_code == 404
    assert visitor.get("/s/tiktok-shop/outages/99999999999999999999999/").status_code == 404
    assert visitor.get(f"/s/gone/outages/{hidden.pk}/").status_code == 404
    assert visitor.get("/s/nope/outages/1/").status_code == 404
    assert visitor.post(f"/s/amazon/outages/{other.pk}/").status_code == 405


def test_outage_page_queries_do_not_grow_with_its_events(shop, visitor, django_assert_max_num_queries):
    o = outage(shop, T0, 60, issue_types={"payment": 3}, countries={"DE": 3})
    with django_assert_max_num_queries(OUTAGE_PAGE_QUERIES):
        get(visitor, url(o), T0 + 2 * dt.timedelta(hours=1))
    OutageEvent.objects.bulk_create(
        OutageEvent(outage=o, at=T0 + i * MINUTE, kind=EventKind.PROBE_DOWN, data={"name": f"probe {i}"})
        for i in range(60)
    )
    with django_assert_max_num_queries(OUTAGE_PAGE_QUERIES):
        html = get(visitor, url(o), T0 + 2 * dt.timedelta(hours=1))
    assert html.count('class="event event-probe_down"') == 60


def test_unknown_country_and_retired_issue_type_read_plainly(shop, visitor):
    shop.issue_types.filter(key="inventory").update(active=False)
    o = outage(shop, T0, 10, issue_types={"inventory": 2, "?": 1}, countries={"??": 2, "FR": 1})
    html = get(visitor, url(o), T0 + dt.timedelta(hours=2))
    assert '<th scope="row">Inventory</th>' in html  # inactive now, still named
    assert '<th scope="row">?</th>' in html  # reports.detection.tick' key for a type it could not name
    assert '<th scope="row">Unknown</th>' in html and '<th scope="row">France</th>' in html
