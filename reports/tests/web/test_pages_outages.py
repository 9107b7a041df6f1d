"""The outage list (/outages/), the outage permalink, and the ways to follow a service on its page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client

from catalog.tests.factories import make_service
from reports.models import Level, Outage
from reports.tests.web.test_pages import MINUTE, T0, get, outage, section
from reports.web import follow as pages_follow

pytestmark = pytest.mark.django_db

NOW = T0
DAY = dt.timedelta(days=1)
# The services for the filter (1), the outages counted (1) and the page of them with their services (1).
OUTAGES_PAGE_QUERIES = 3


@pytest.fixture
def shop():
    return make_service()


@pytest.fixture
def visitor() -> Client:
    return Client()


def fetch(client: Client, url: str, status: int):
    with time_machine.travel(NOW, tick=False):
        response = client.get(url)
    assert response.status_code == status, response.content.decode()[:2000]
    return response.content.decode()


def listed(html: str) -> list[str]:
    """The outage page links in the list, in order."""
    return re.findall(r'<a class="service-name" href="(/s/[\w-]+/outages/\d+/)">', html)


def urls(*outages: Outage) -> list[str]:
    return [f"/s/{o.service.slug}/outages/{o.pk}/" for o in outages]


def errors(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", e) for e in re.findall(r"<li>(.*?)</li>", section_of(html, "errors"), re.S)]


def section_of(html: str, testid: str) -> str:
    match = re.search(rf'<(\w+)[^>]*data-testid="{testid}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no element {testid}"
    return match.group(2)


# --- the list ---------------------------------------------------------------------------------


def test_lists_recent_and_ongoing_outages_of_every_service_newest_first(shop, visitor):
    amazon = make_service("amazon", "Amazon")
    old_ongoing = outage(shop, NOW - 45 * DAY, None, level=Level.POSSIBLE)
    recent = outage(amazon, NOW - 2 * DAY, 90)
    newest = outage(make_service("ebay", "eBay"), NOW - 30 * MINUTE, None)
    outage(shop, NOW - 31 * DAY, 30)  # resolved, older than the default 30 days
    outage(make_service("old-shop", "Old Shop", active=False), NOW - DAY, None)  # a hidden service's

    html = fetch(visitor, "/outages/", 200)

    assert listed(html) == urls(newest, recent, old_ongoing)
    rows = re.findall(r'<li class="service outage-(\w+)[^"]*">(.*?)</li>', html, re.S)
    assert [status for status, _ in rows] == ["open", "resolved", "open"]
    assert "eBay" in rows[0][1] and "Ongoing" in rows[0][1] and "ongoing, 30 min so far" in rows[0][1]
    assert "Ongoing" not in rows[1][1] and "Resolved" in rows[1][1]
    assert "Amazon" in rows[1][1] and "1 h 30 min" in rows[1][1]
    assert '<time datetime="2026-11-18T13:30:00Z">' in rows[1][1]  # when it ended
    assert "Possible problems" in rows[2][1] and "ongoing, 45 d so far" in rows[2][1]
    assert "Old Shop" not in html


def test_service_filter_narrows_the_list_and_links_that_services_feed(shop, visitor):
    mine = outage(shop, NOW - DAY, 10)
    outage(make_service("amazon", "Amazon"), NOW - DAY, 10)

    html = fetch(visitor, "/outages/?service=tiktok-shop", 200)

    assert listed(html) == urls(mine)
    assert "<h1>TikTok Shop outages</h1>" in html
    assert '<option value="tiktok-shop" selected>TikTok Shop</option>' in html
    assert '<link rel="alternate" type="application/atom+xml" title="OutageHub: TikTok Shop outages"' in html
    assert 'href="/s/tiktok-shop/feed.atom" type="application/atom+xml">Subscribe (Atom)</a>' in html


def test_days_filter_keeps_what_started_since_and_what_is_still_ongoing(shop, visitor):
    ongoing = outage(shop, NOW - 3 * DAY, None)
    today = outage(shop, NOW - 2 * dt.timedelta(hours=1), 30)
    outage(shop, NOW - 2 * DAY, 30)

    html = fetch(visitor, "/outages/?days=1", 200)

    assert listed(html) == urls(today, ongoing)
    assert '<option value="1" selected>1 day</option>' in html
    assert "started in the last day" in html


def test_list_is_paginated_keeping_the_filters_in_the_links(shop, visitor):
    per_page = pages_follow.OUTAGES_PER_PAGE
    created = [outage(shop, NOW - (i + 1) * dt.timedelta(hours=1), 10) for i in range(per_page + 3)]
    outage(make_service("amazon", "Amazon"), NOW - 10 * MINUTE, 5)

    first = fetch(visitor, "/outages/?service=tiktok-shop&days=7", 200)
    older = re.search(r'<a rel="next" href="([^"]+)">', first).group(1)
    second = fetch(visitor, "/outages/" + older.replace("&amp;", "&"), 200)

    assert listed(first) == urls(*created[:per_page]) and "Page 1 of 2" in first
    assert older == "?service=tiktok-shop&amp;days=7&amp;page=2"
    assert listed(second) == urls(*created[per_page:]) and 'rel="prev"' in second and 'rel="next"' not in second


def test_empty_list_says_so(shop, visitor):
    html = fetch(visitor, "/outages/", 200)

    assert listed(html) == [] and "No outages in this period." in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("days=5", "days: Choose one of 1, 7, 30 or 90 days."),
        ("days=abc", "days: Choose one of 1, 7, 30 or 90 days."),
        ("service=nope", "service: There is no service “nope”."),
        ("service=old-shop", "service: There is no service “old-shop”."),
        ("service=a%00b", "service: Null characters are not allowed."),
        ("page=0", "page: Pages start at 1."),
        ("page=two", "page: Give a page number (1, 2, ...)."),
        ("page=9", "page: There is no page 9: the last is 1."),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(shop, visitor, query, message):
    make_service("old-shop", "Old Shop", active=False)
    outage(shop, NOW - DAY, 10)

    html = fetch(visitor, f"/outages/?{query}", 400)

    assert errors(html) == [message]
    assert listed(html) == []
    assert '<form class="filters card" method="get" action="/outages/">' in html  # the filters, to fix it


def test_parameters_are_escaped_on_the_error_page(shop, visitor):
    html = fetch(visitor, "/outages/?service=%3Cscript%3Ex", 400)

    assert "<script>x" not in html and "There is no service “&lt;script&gt;x”." in html


def test_outage_list_reads_a_fixed_number_of_queries(shop, visitor, django_assert_num_queries):
    for i in range(5):
        outage(make_service(f"shop-{i}", f"Shop {i}"), NOW - i * DAY, 10)

    with django_assert_num_queries(OUTAGES_PAGE_QUERIES):
        html = fetch(visitor, "/outages/", 200)
    assert len(listed(html)) == 5


def test_outage_list_refuses_post_and_answers_head(visitor):
    assert visitor.post("/outages/").status_code == 405
    assert visitor.head("/outages/").status_code == 200


# --- the permalink ------------------------------------------------------------------------------


def test_permalink_redirects_to_the_outage_page(shop, visitor):
    o = outage(shop, NOW - DAY, 10)

    response = visitor.get(f"/outages/{o.pk}/")

    assert response.status_code == 302 and response["Location"] == f"/s/tiktok-shop/outages/{o.pk}/"


def test_permalink_of_an_unknown_outage_or_a_hidden_service_is_a_404(visitor):
    hidden = outage(make_service("old-shop", "Old Shop", active=False), NOW - DAY, 10)

    assert visitor.get("/outages/999999/").status_code == 404
    assert visitor.get(f"/outages/{hidden.pk}/").status_code == 404


# --- following from the service page and the layout -----------------------------------------------


def test_service_page_links_its_feed_and_offers_badge_snippets(shop, visitor):
    html = get(visitor, "/s/tiktok-shop/", NOW)

    assert (
        '<link rel="alternate" type="application/atom+xml" title="OutageHub: TikTok Shop outages"'
        ' href="/s/tiktok-shop/feed.atom">' in html
    )
    follow = section(html, "follow")
    assert (
        '<a class="feed-link" href="/s/tiktok-shop/feed.atom" type="application/atom+xml">Subscribe (Atom)</a>'
        in follow
    )
    assert "<code>http://testserver/s/tiktok-shop/feed.atom</code>" in follow
    assert '<img class="badge-preview" src="/s/tiktok-shop/badge.svg"' in follow
    # The snippets are shown as text: escaped once for the page, to be copied as they read.
    assert (
        "<code>&lt;a href=&quot;http://testserver/s/tiktok-shop/&quot;&gt;&lt;img"
        " src=&quot;http://testserver/s/tiktok-shop/badge.svg&quot; alt=&quot;TikTok Shop status on OutageHub&quot;&gt;"
        "&lt;/a&gt;</code>" in follow
    )
    assert (
        "<code>[![TikTok Shop status on OutageHub](http://testserver/s/tiktok-shop/badge.svg)]"
        "(http://testserver/s/tiktok-shop/)</code>" in follow
    )


def test_badge_snippets_escape_the_service_name(visitor):
    make_service("evil", 'Evil "]) <b>')

    follow = section(get(visitor, "/s/evil/", NOW), "follow")

    # In the HTML snippet the name is escaped for HTML; the page escapes the snippet again to show it.
    assert "alt=&quot;Evil &amp;quot;]) &amp;lt;b&amp;gt; status on OutageHub&quot;" in follow
    # In the Markdown one, brackets are backslash-escaped so the link stays whole.
    assert "[![Evil &quot;\\]) &lt;b&gt; status on OutageHub](" in follow
    assert "<b>" not in follow


def test_every_page_links_the_global_feed_and_the_outage_list(shop, visitor):
    html = get(visitor, "/", NOW)

    assert (
        '<link rel="alternate" type="application/atom+xml" title="OutageHub: outages" href="/outages/feed.atom">'
        in html
    )
    assert '<nav class="nav" aria-label="Site"><a href="/outages/">Outages</a></nav>' in html
