"""The public pages in a real browser with JavaScript off: plain forms, POST-redirect-GET."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client
from playwright.sync_api import Page, expect

from catalog.tests.factories import make_service
from reports.models import Channel, Outage, OutageEvent, Report
from reports.tests.factories import file_report
from reports.tests.web.test_pages import spike_afternoon

pytestmark = pytest.mark.browser


def test_report_without_javascript_is_counted_once_and_redirects_back(page: Page, live_server) -> None:
    service = make_service()
    url = f"{live_server.url}/s/tiktok-shop/"

    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Is TikTok Shop down?")
    expect(page.get_by_test_id("count-15m")).to_have_text("0")
    page.get_by_label("What happened?").fill("Checkout spins forever")
    page.get_by_role("button", name="Payment", exact=True).click()

    # POST-redirect-GET: the browser ends on the service page, not the form's action.
    expect(page).to_have_url(url)
    expect(page.get_by_role("status")).to_have_text("Thanks: your payment problem with TikTok Shop was counted.")
    expect(page.get_by_test_id("count-15m")).to_have_text("1")
    report = Report.objects.get(service=service)
    assert (report.issue_type.key, report.channel, report.counted, report.comment) == (
        "payment",
        Channel.WEB,
        True,
        "Checkout spins forever",
    )

    page.get_by_role("button", name="Payment", exact=True).click()

    expect(page).to_have_url(url)
    expect(page.get_by_role("status")).to_contain_text("so it was not counted again")
    expect(page.get_by_test_id("count-15m")).to_have_text("1")
    assert list(Report.objects.order_by("created_at").values_list("counted", flat=True)) == [True, False]


def test_home_lists_services_and_search_filters_them(page: Page, live_server) -> None:
    make_service()
    make_service(slug="amazon", name="Amazon")
    tiktok = page.get_by_role("link", name="TikTok Shop")
    amazon = page.get_by_role("link", name="Amazon")

    page.goto(f"{live_server.url}/")
    expect(tiktok).to_be_visible()
    expect(amazon).to_be_visible()

    page.get_by_role("searchbox", name="Search services").fill("tik")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(f"{live_server.url}/?q=tik")
    expect(page.get_by_role("heading", level=1)).to_have_text("Services matching “tik”")
    expect(tiktok).to_be_visible()
    expect(amazon).to_have_count(0)

    page.get_by_role("searchbox", name="Search services").fill("zzz")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No service matches “zzz”.")).to_be_visible()
    expect(tiktok).to_have_count(0)


def test_service_page_shows_chart_problems_and_history_and_opens_an_outage_timeline(page: Page, live_server) -> None:
    service = make_service()
    now = spike_afternoon(
        service
    )  # an outage from 15:00 (back to normal by 15:26, resolved 15 minutes later), looked at at 16:01
    file_report(service, "server", comment="Back for me now", now=now)
    outage = Outage.objects.get(service=service)

    # Frozen for the server thread too: the page's "last 24 hours" end at 16:01.
    with time_machine.travel(now, tick=False):
        page.goto(f"{live_server.url}/s/tiktok-shop/")

        chart = page.get_by_role("img", name=re.compile(r"^Reports per 15 minutes from 2026-11-19 16:15"))
        expect(chart).to_be_visible()
        expect(chart.locator("rect.bar")).to_have_count(96)
        expect(chart.locator("rect.bar.level-outage")).to_have_count(3)  # 15:00 to 15:45
        expect(chart.locator("path.expected")).to_have_count(1)
        assert chart.bounding_box()["width"] > 300
        # The numbers behind it, for people who cannot see it.
        page.get_by_text("Show the numbers as a table").click()
        expect(page.get_by_role("row", name=re.compile(r"^2026-11-20 15:00 UTC 300 "))).to_be_visible()

        expect(page.get_by_test_id("problems").get_by_role("rowheader")).to_have_text([re.compile(r"^Server")])
        expect(page.get_by_test_id("comments")).to_contain_text("Back for me now")

        history = page.get_by_test_id("outage-history")
        expect(history.locator(".outage-row")).to_have_count(1)
        # Today's bar in the 90-day strip is a link to it, named for people who cannot see the bar.
        expect(history.get_by_role("link", name=re.compile(r"^2026-11-20: 1 outage, 2\d min$"))).to_have_attribute(
            "href", f"/s/tiktok-shop/outages/{outage.pk}/"
        )
        expect(history).to_contain_text("2026-11-20 15:00 UTC")
        history.get_by_role("link", name=re.compile("^2026-11-20 15:00 UTC — timeline")).click()

        expect(page).to_have_url(f"{live_server.url}/s/tiktok-shop/outages/{outage.pk}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("TikTok Shop outage, 2026-11-20 15:00 UTC")
        # 20 minutes of spike, back to normal within minutes: the 15-minute confirmation is not duration.
        expect(page.get_by_test_id("outage-status")).to_have_text(re.compile(r"Resolved after 2\d min"))
        events = page.get_by_test_id("timeline").get_by_role("listitem")
        expect(events).to_have_count(OutageEvent.objects.filter(outage=outage).count())
        expect(events.first).to_contain_text("Outage opened on user reports")
        expect(events.last).to_contain_text("Resolved: reports back to normal")
        expect(page.get_by_role("img", name=re.compile(r"^Reports per minute"))).to_be_visible()

        page.get_by_role("link", name="OutageHub").click()
        expect(page.get_by_test_id("status-tiktok-shop")).to_have_text("No problems")


@pytest.mark.django_db
def test_report_without_csrf_token_is_refused() -> None:
    make_service()
    client = Client(enforce_csrf_checks=True)

    response = client.post("/s/tiktok-shop/report/", {"issue_type": "payment", "comment": "forged"})

    assert response.status_code == 403
    assert not Report.objects.exists()
