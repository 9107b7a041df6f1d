"""Atom feeds of outages: every service's at /outages/feed.atom, one service's at /s/<slug>/feed.atom."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.test import Client

from catalog.models import Service
from catalog.tests.factories import make_service
from reports.models import EventKind, Level, Outage, OutageEvent
from reports.tests.web.test_pages import MINUTE, T0, outage
from reports.web import feeds

pytestmark = pytest.mark.django_db

A = "{http://www.w3.org/2005/Atom}"
NOW = T0 + dt.timedelta(days=3)
HOST = "http://testserver"


@pytest.fixture
def shop() -> Service:
    return make_service()


@pytest.fixture
def visitor() -> Client:
    return Client()


def fetch(client: Client, url: str, at: dt.datetime = NOW) -> ET.Element:
    with time_machine.travel(at, tick=False):
        response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == f"{A}feed"
    return root


def entries(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{A}entry")


def text(element: ET.Element, tag: str) -> str:
    child = element.find(f"{A}{tag}")
    assert child is not None, f"no <{tag}>"
    return child.text or ""


def link(element: ET.Element, rel: str = "alternate") -> str:
    return next(el.get("href") for el in element.findall(f"{A}link") if el.get("rel", "alternate") == rel)


def permalink(o: Outage) -> str:
    return f"{HOST}/outages/{o.pk}/"


def page(o: Outage) -> str:
    return f"{HOST}/s/{o.service.slug}/outages/{o.pk}/"


def test_global_feed_lists_every_active_services_outages_newest_first(shop, visitor):
    amazon = make_service("amazon", "Amazon")
    hidden = make_service("old-shop", "Old Shop", active=False)
    oldest = outage(shop, T0, 90)
    middle = outage(amazon, T0 + dt.timedelta(days=1), 10)
    newest = outage(shop, T0 + dt.timedelta(days=2), None)
    outage(hidden, T0 + dt.timedelta(days=2, hours=1), None)

    root = fetch(visitor, "/outages/feed.atom")

    assert text(root, "title") == "OutageHub: outages"
    assert text(root, "id") == f"{HOST}/outages/"
    assert link(root) == f"{HOST}/outages/" and link(root, "self") == f"{HOST}/outages/feed.atom"
    assert text(root.find(f"{A}author"), "name") == "OutageHub"
    items = entries(root)
    assert [text(e, "id") for e in items] == [permalink(o) for o in (newest, middle, oldest)]
    assert [link(e) for e in items] == [page(o) for o in (newest, middle, oldest)]
    assert [text(e, "title") for e in items] == [
        "TikTok Shop: outage (ongoing)",
        "Amazon: outage (resolved)",
        "TikTok Shop: outage (resolved)",
    ]
    assert text(items[1], "published") == "2026-11-21T12:00:00+00:00"
    # The feed changed when its latest entry did: the newest outage's start.
    assert text(root, "updated") == "2026-11-22T12:00:00+00:00"


def test_service_feed_has_only_that_services_outages_and_links_its_page(shop, visitor):
    mine = outage(shop, T0, 30, level=Level.POSSIBLE)
    outage(make_service("amazon", "Amazon"), T0 + dt.timedelta(hours=1), 10)

    root = fetch(visitor, "/s/tiktok-shop/feed.atom")

    assert text(root, "title") == "OutageHub: TikTok Shop outages"
    assert link(root) == f"{HOST}/s/tiktok-shop/" and link(root, "self") == f"{HOST}/s/tiktok-shop/feed.atom"
    assert [text(e, "id") for e in entries(root)] == [permalink(mine)]
    assert text(entries(root)[0], "title") == "TikTok Shop: possible problems (resolved)"


def test_entry_id_is_the_permalink_that_redirects_to_the_outage_page(shop, visitor):
    o = outage(shop, T0, 30)
    entry_id = text(entries(fetch(visitor, "/s/tiktok-shop/feed.atom"))[0], "id")

    response = visitor.get(entry_id.removeprefix(HOST))

    assert response.status_code == 302 and response["Location"] == f"/s/tiktok-shop/outages/{o.pk}/"


def test_entry_updated_is_the_outages_latest_change(shop, visitor):
    o = outage(shop, T0, 45)  # resolved at 12:45
    OutageEvent.objects.create(outage=o, at=T0, kind=EventKind.OPENED)
    OutageEvent.objects.create(outage=o, at=T0 + 70 * MINUTE, kind=EventKind.STATUS_UPDATE, data={"state": "resolved"})
    ongoing = outage(make_service("amazon", "Amazon"), T0 - dt.timedelta(hours=1), None)

    items = entries(fetch(visitor, "/outages/feed.atom"))

    assert text(items[0], "updated") == "2026-11-20T13:10:00+00:00"  # the team's update after it resolved
    assert text(items[0], "published") == "2026-11-20T12:00:00+00:00"
    # An open outage with no events has changed last when it started.
    assert text(items[1], "id") == permalink(ongoing) and text(items[1], "updated") == "2026-11-20T11:00:00+00:00"


def test_outage_updated_at_takes_the_latest_of_its_moments(shop):
    o = outage(shop, T0, 30, peak_at=T0 + 5 * MINUTE)
    assert feeds.outage_updated_at(o) == T0 + 30 * MINUTE
    o.acknowledged_at = T0 + 40 * MINUTE
    assert feeds.outage_updated_at(o) == T0 + 40 * MINUTE
    o.last_event_at = T0 + 50 * MINUTE
    assert feeds.outage_updated_at(o) == T0 + 50 * MINUTE


def test_summary_tells_start_end_duration_peak_evidence_and_top_problems(shop, visitor):
    outage(
        shop,
        T0,
        90,
        ended_at=T0 + 75 * MINUTE,
        peak_at=T0 + 10 * MINUTE,
        peak_count=42,
        peak_expected=1.25,
        issue_types={"payment": 60, "server": 30, "shipping": 6, "inventory": 4},
    )

    summary = text(entries(fetch(visitor, "/s/tiktok-shop/feed.atom"))[0], "summary")

    assert "Started 2026-11-20 12:00 UTC." in summary
    assert "Back to normal 2026-11-20 13:15 UTC, after 1 h 15 min." in summary  # ended, not resolved
    assert "Peak: 42 reports in one minute, against 1.3 expected." in summary
    assert "Evidence: Crowd reports." in summary
    assert "Most reported: Payment 60%, Server 30%, Shipping 6%</p>" in summary  # the top three


def test_summary_of_an_ongoing_outage_says_for_how_long_so_far(shop, visitor):
    outage(shop, NOW - 125 * MINUTE, None)

    entry = entries(fetch(visitor, "/s/tiktok-shop/feed.atom"))[0]

    assert text(entry, "title") == "TikTok Shop: outage (ongoing)"
    assert "Ongoing, for 2 h 5 min so far." in text(entry, "summary")
    assert "No report peak recorded." in text(entry, "summary")


def test_names_are_plain_text_in_titles_and_escaped_html_in_summaries(visitor):
    service = make_service("evil", '<b>Bad</b> & "Co"\x07')
    outage(service, T0, None, issue_types={"payment": 1})
    service.issue_types.filter(key="payment").update(label="<i>Pay</i>")

    entry = entries(fetch(visitor, "/s/evil/feed.atom"))[0]

    # Atom titles are text: a reader shows exactly this (the bell character, invalid in XML, is dropped).
    assert text(entry, "title") == '<b>Bad</b> & "Co": outage (ongoing)'
    summary_element = entry.find(f"{A}summary")
    assert summary_element.get("type") == "html"
    summary = summary_element.text
    assert "&lt;b&gt;Bad&lt;/b&gt; &amp; &quot;Co&quot;: outage detected." in summary and "<b>" not in summary
    assert "&lt;i&gt;Pay&lt;/i&gt; 100%" in summary and "<i>" not in summary


def test_feed_holds_the_newest_outages_only(shop, visitor):
    for day in range(feeds.FEED_SIZE + 2):
        outage(shop, T0 - dt.timedelta(days=day), 10)

    items = entries(fetch(visitor, "/s/tiktok-shop/feed.atom"))

    assert len(items) == feeds.FEED_SIZE
    assert text(items[0], "published") == "2026-11-20T12:00:00+00:00"
    assert text(items[-1], "published") == f"{T0 - dt.timedelta(days=feeds.FEED_SIZE - 1):%Y-%m-%dT%H:%M:%S}+00:00"


def test_feed_reads_a_fixed_number_of_queries_however_many_services(shop, visitor, django_assert_num_queries):
    for i in range(5):
        other = make_service(f"shop-{i}", f"Shop {i}")
        o = outage(other, T0 + i * MINUTE, 10, issue_types={"payment": 3})
        OutageEvent.objects.create(outage=o, at=T0 + i * MINUTE, kind=EventKind.OPENED)

    # The outages with their services and latest events (1), then their issue type labels (1).
    with django_assert_num_queries(2):
        root = fetch(visitor, "/outages/feed.atom")
    assert len(entries(root)) == 5


def test_empty_feed_is_still_a_valid_feed(shop, visitor):
    root = fetch(visitor, "/s/tiktok-shop/feed.atom")

    assert entries(root) == []
    assert text(root, "updated") == "2026-11-23T12:00:00+00:00"  # now, having nothing newer


def test_unknown_or_inactive_service_has_no_feed(visitor):
    make_service("old-shop", "Old Shop", active=False)

    assert visitor.get("/s/nope/feed.atom").status_code == 404
    assert visitor.get("/s/old-shop/feed.atom").status_code == 404


def test_feed_may_be_cached_briefly_and_answers_head_but_not_post(shop, visitor):
    outage(shop, T0, 30)

    with time_machine.travel(NOW, tick=False):
        response = visitor.get("/outages/feed.atom")
        head = visitor.head("/outages/feed.atom")

    assert "max-age=60" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert response["Last-Modified"] == "Fri, 20 Nov 2026 12:30:00 GMT"
    assert head.status_code == 200 and head.content == b""
    assert visitor.post("/outages/feed.atom").status_code == 405
