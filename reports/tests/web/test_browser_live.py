"""The pages in a real browser with JavaScript on, during a simulated outage (reports.tests.web.scenario).

Time is frozen twice over: time_machine for the server thread, Playwright's clock for the page's
script, both at the scenario's NOW, so the chart's window and the API's agree to the second.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import time_machine
from playwright.sync_api import Browser, BrowserContext, Page, expect

from catalog.tests.factories import make_service
from reports.detection.tick import detection_tick
from reports.models import Channel, Outage, OutageEvent, Report
from reports.tests.web.scenario import NOW, ongoing_outage
from reports.tests.web.test_pages import MINUTE, add_reports

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}


@contextmanager
def js_page(browser: Browser, at: dt.datetime = NOW, **options) -> Iterator[Page]:
    """A page with JavaScript on whose clock starts at `at` and moves only when the test says."""
    context: BrowserContext = browser.new_context(viewport=options.pop("viewport", DESKTOP), **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.clock.install(time=at - dt.timedelta(seconds=1))
    page.clock.pause_at(at)  # (install lets it run; a second before, so pausing moves it forward, never back)
    try:
        yield page
    finally:
        # Let the page's last refresh finish first: the live server must be idle when the test's
        # database is flushed.
        page.evaluate("() => window.OutageHub && window.OutageHub.settled()")
        context.close()


def plotted(page: Page, chart: str = "day-chart") -> list[dict]:
    """The chart's bars as drawn: each one's bucket start, count, expected and band (data-*), and its height."""
    return (
        page.get_by_test_id(chart)
        .locator("rect.bar")
        .evaluate_all(
            """bars => bars.map(b => ({
            start: b.dataset.start, count: +b.dataset.count,
            expected: b.dataset.expected === undefined ? null : +b.dataset.expected,
            band: b.dataset.band ? b.dataset.band.split(" ").map(Number) : null,
            height: +b.getAttribute("height")}))"""
        )
    )


def api_series(page: Page, base: str, chart: str = "day-chart") -> dict:
    """The API's series for the window the chart shows (its figure's data-since and data-until)."""
    figure = page.get_by_test_id(chart).locator("figure")
    since, until = figure.get_attribute("data-since"), figure.get_attribute("data-until")
    bucket = {"60": "1m", "900": "15m", "3600": "1h"}[figure.get_attribute("data-bucket-seconds")]
    response = page.request.get(f"{base}/series/", params={"since": since, "until": until, "bucket": bucket})
    assert response.ok, response.text()
    return response.json()


def assert_chart_matches(page: Page, series: dict, chart: str = "day-chart") -> None:
    bars = plotted(page, chart)
    assert [b["start"] for b in bars] == [b["start"] for b in series["buckets"]]
    assert [b["count"] for b in bars] == [b["count"] for b in series["buckets"]]
    assert [b["expected"] for b in bars] == pytest.approx([b["expected"] for b in series["buckets"]])
    assert [b["band"] for b in bars] == [b["band"] for b in series["buckets"]]
    # The heights are the counts on one scale: the tallest bar is the largest count.
    scales = {round(b["height"] / b["count"], 1) for b in bars if b["count"] >= 5}
    assert max(scales) - min(scales) < 0.2, scales


def test_chart_plots_the_apis_series_and_redraws_it_live_with_etag_revalidation(browser, live_server) -> None:
    service, now = ongoing_outage()
    api = f"{live_server.url}/api/v1/services/{service.slug}"
    with time_machine.travel(now, tick=False) as traveller, js_page(browser) as page:
        page.goto(f"{live_server.url}/s/{service.slug}/")
        series = api_series(page, api)
        assert_chart_matches(page, series)
        assert sum(b["count"] for b in series["buckets"]) > 800
        expect(page.get_by_test_id("count-15m")).to_have_text("283")

        # Two minutes later: more reports, another detector tick. The script's next poll redraws.
        add_reports(service, now, [30], "server")
        traveller.move_to(now + 2 * MINUTE)
        detection_tick(service_id=service.pk, now=now + 2 * MINUTE)
        with page.expect_response(f"{api}/") as first:
            page.clock.run_for(60_000)
        assert first.value.status == 200 and first.value.request.headers.get("if-none-match") is None
        count = page.request.get(f"{api}/").json()["reports"]["last_15_minutes"]
        assert count != 283
        expect(page.get_by_test_id("count-15m")).to_have_text(str(count))
        expect(page.locator("[data-live-note]")).to_contain_text("Updated")
        # The verdict is rewritten from the same answers: still an outage, still confirmed by the probe.
        expect(page.get_by_test_id("status").locator(".verdict-sentence")).to_have_text(
            re.compile(
                r"^Problems at TikTok Shop since \d\d:\d\d \S+ — users report payment and server issues; "
                r"our checks confirm\."
            )
        )
        expect(page.get_by_test_id("evidence")).to_have_text("Based on: user reports and our checks")
        assert_chart_matches(page, api_series(page, api))

        # Nothing new since: the next poll sends the ETag back and gets a bodiless 304.
        with page.expect_response(f"{api}/") as second:
            page.clock.run_for(60_000)
        assert second.value.request.headers.get("if-none-match") == first.value.headers["etag"]
        assert second.value.status == 304
        expect(page.get_by_test_id("count-15m")).to_have_text(str(count))


def test_the_live_verdict_keeps_an_official_outages_evidence(browser, live_server) -> None:
    # An outage the official page opened and reports then confirmed: no probe, so each poll rewords
    # the evidence from what the open outage rests on (data-outage-evidence).
    service, now = ongoing_outage(probe=False)
    Outage.objects.filter(service=service).update(official_confirmed=True, confidence="confirmed")
    api = f"{live_server.url}/api/v1/services/{service.slug}"
    with time_machine.travel(now, tick=False), js_page(browser) as page:
        page.goto(f"{live_server.url}/s/{service.slug}/")
        expect(page.get_by_test_id("evidence")).to_have_text("Based on: user reports and the official status page")
        with page.expect_response(f"{api}/"):
            page.clock.run_for(60_000)
        page.evaluate("() => window.OutageHub.settled()")
        expect(page.get_by_test_id("evidence")).to_have_text("Based on: user reports and the official status page")


def test_report_with_javascript_confirms_in_place_without_a_page_load(browser, live_server) -> None:
    service, now = ongoing_outage(probe=False)
    url = f"{live_server.url}/s/{service.slug}/"
    with time_machine.travel(now, tick=False), js_page(browser) as page:
        page.goto(url)
        loads: list[str] = []
        page.on("framenavigated", lambda frame: loads.append(frame.url))
        button = page.get_by_test_id("report").get_by_role("button", name="Shipping", exact=True)
        button.scroll_into_view_if_needed()
        scrolled = page.evaluate("window.scrollY")
        page.get_by_label("What happened?").fill("Tracking page is blank")

        button.click()

        result = page.get_by_test_id("report-result")
        expect(result).to_have_text("Thanks: your shipping problem with TikTok Shop was counted.")
        expect(result).to_have_attribute("role", "status")
        assert loads == [] and page.url == url
        assert page.evaluate("window.scrollY") == scrolled
        expect(page.get_by_label("What happened?")).to_have_value("")
        report = Report.objects.get(issue_type__key="shipping")
        assert (report.comment, report.counted) == ("Tracking page is blank", True)

        # Again within the cooldown: stored, not counted, and said so in place.
        button.click()
        expect(result).to_contain_text("so it was not counted again")
        assert loads == []


def test_keyboard_reaches_a_report_button_and_enter_files_it(browser, live_server) -> None:
    service, now = ongoing_outage(probe=False)
    with time_machine.travel(now, tick=False), js_page(browser) as page:
        page.goto(f"{live_server.url}/s/{service.slug}/")
        page.get_by_label("What happened?").focus()
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent.trim()")
        assert focused == "Server"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Payment"
        # The focus ring is visible (an outline), not removed.
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"

        page.keyboard.press("Enter")

        expect(page.get_by_test_id("report-result")).to_have_text(
            "Thanks: your payment problem with TikTok Shop was counted."
        )
        assert Report.objects.filter(issue_type__key="payment", channel=Channel.WEB).count() == 1


def test_report_from_the_outage_page_without_javascript_comes_back_to_it(page: Page, live_server) -> None:
    service, now = ongoing_outage(probe=False)
    outage = Outage.objects.get(service=service)
    url = f"{live_server.url}/s/{service.slug}/outages/{outage.pk}/"
    with time_machine.travel(now, tick=False):
        page.goto(url)
        page.get_by_role("button", name="Inventory", exact=True).click()
        expect(page).to_have_url(url)
        expect(page.locator(".messages")).to_have_text("Thanks: your inventory problem with TikTok Shop was counted.")


def test_outage_page_tells_its_timeline_in_order_and_numbers_it_on_the_chart(browser, live_server) -> None:
    service, now = ongoing_outage()
    outage = Outage.objects.get(service=service)
    events = list(OutageEvent.objects.filter(outage=outage).order_by("at", "id"))
    assert len(events) >= 3
    with time_machine.travel(now, tick=False), js_page(browser, timezone_id="UTC") as page:
        page.goto(f"{live_server.url}/s/{service.slug}/outages/{outage.pk}/")

        items = page.get_by_test_id("timeline").get_by_role("listitem")
        expect(items).to_have_count(len(events))
        kinds = items.evaluate_all("items => items.map(i => i.dataset.kind)")
        assert kinds == [e.kind for e in events]
        times = items.locator("time").evaluate_all("ts => ts.map(t => t.getAttribute('datetime'))")
        assert times == sorted(times)
        expect(items.first).to_contain_text("Outage opened on user reports")
        expect(items.nth(1)).to_contain_text("Monitoring probe “homepage” found the service down")

        markers = page.get_by_test_id("outage-chart").locator("g.marker")
        numbers = markers.evaluate_all("ms => ms.map(m => +m.dataset.number)")
        xs = markers.locator("line").evaluate_all("ls => ls.map(l => +l.getAttribute('x1'))")
        assert numbers == list(range(1, len(events) + 1))
        assert xs == sorted(xs) and xs[0] < xs[-1]
        # The markers sit at their events' times: the first on the outage's first bar.
        first_bar = page.get_by_test_id("outage-chart").locator(f'rect.bar[data-start="{times[0]}"]')
        bar_x = float(first_bar.get_attribute("x"))
        assert bar_x - 1 <= xs[0] <= bar_x + float(first_bar.get_attribute("width"))
        api = f"{live_server.url}/api/v1/services/{service.slug}"
        assert_chart_matches(page, api_series(page, api, "outage-chart"), "outage-chart")

        breakdown = page.get_by_test_id("issue-breakdown").get_by_role("rowheader")
        expect(breakdown).to_have_text([re.compile("^Payment"), re.compile("^Server")])
        countries = page.get_by_test_id("country-breakdown").get_by_role("rowheader")
        expect(countries).to_have_text(["Germany", "France", "United States", "Unknown"])
        # Comments are text, never markup.
        expect(page.get_by_test_id("comments")).to_contain_text("<b>App</b> says 502")


def test_times_read_in_the_visitors_time_zone_with_javascript_and_utc_without(browser, live_server, page) -> None:
    service, now = ongoing_outage(probe=False)
    url = f"{live_server.url}/s/{service.slug}/"
    with time_machine.travel(now, tick=False):
        with js_page(browser, timezone_id="Asia/Tokyo", locale="en-US") as tokyo:
            tokyo.goto(url)
            # 15:00 UTC is midnight in Tokyo (UTC+9).
            expect(tokyo.get_by_test_id("status")).to_contain_text("since 00:00 GMT+9")
            since = tokyo.get_by_test_id("status").locator("time")
            expect(since).to_have_attribute("title", "15:00 UTC")
            expect(tokyo.get_by_test_id("day-chart").locator("[data-tz-note]")).to_have_text(
                "Times in your time zone (GMT+9)."
            )
            labels = tokyo.get_by_test_id("day-chart").locator(".x-axis text").all_text_contents()
            assert "00:00" not in labels and "Nov 21" in labels  # 15:00 UTC ticks read as the Tokyo date

        page.goto(url)  # JavaScript off
        expect(page.get_by_test_id("status")).to_contain_text("since 15:00 UTC")
        expect(page.get_by_test_id("day-chart").locator("[data-tz-note]")).to_have_text("Times in UTC.")


def test_home_search_filters_the_list_as_one_types_and_shows_problems_with_sparklines(browser, live_server) -> None:
    _, now = ongoing_outage(probe=False)
    for slug, name in (("amazon", "Amazon"), ("zalando", "Zalando")):
        make_service(slug, name)
    with time_machine.travel(now, tick=False), js_page(browser) as page:
        page.goto(f"{live_server.url}/")
        problems = page.get_by_test_id("problems-now")
        expect(problems.get_by_role("link", name="TikTok Shop")).to_be_visible()
        expect(problems.get_by_role("img", name=re.compile(r"^\d+ reports in the last 24 hours"))).to_be_visible()
        listed = page.get_by_test_id("all-services").locator("li:visible .service-name")
        expect(listed).to_have_text(["TikTok Shop", "Amazon", "Zalando"])

        page.get_by_role("searchbox", name="Search services").press_sequentially("zal")

        expect(listed).to_have_text(["Zalando"])
        expect(page.locator("[data-filter-result]")).to_have_text("1 of 3 services match “zal”.")
        assert page.url == f"{live_server.url}/"  # filtered in place; Enter still searches the server
        page.get_by_role("searchbox", name="Search services").press("Enter")
        expect(page).to_have_url(f"{live_server.url}/?q=zal")


def test_an_ongoing_outages_chart_grows_to_now_without_a_reload(browser, live_server) -> None:
    service, now = ongoing_outage(probe=False)
    outage = Outage.objects.get(service=service)
    api = f"{live_server.url}/api/v1/services/{service.slug}"
    with time_machine.travel(now, tick=False) as traveller, js_page(browser) as page:
        page.goto(f"{live_server.url}/s/{service.slug}/outages/{outage.pk}/")
        figure = page.get_by_test_id("outage-chart").locator("figure")
        since, until = figure.get_attribute("data-since"), figure.get_attribute("data-until")
        before = len(plotted(page, "outage-chart"))
        shaded_from = page.locator("rect.highlight").get_attribute("data-start")

        add_reports(service, now, [25, 25, 25], "server")
        traveller.move_to(now + 3 * MINUTE)
        detection_tick(service_id=service.pk, now=now + 3 * MINUTE)
        for _ in range(3):  # three minutes, three polls
            page.clock.run_for(60_000)
            page.evaluate("() => window.OutageHub.settled()")

        # The same start, three more minutes, every bar as the API has it; the outage still shaded from its start.
        expect(figure).not_to_have_attribute("data-until", until)
        assert figure.get_attribute("data-since") == since
        assert len(plotted(page, "outage-chart")) == before + 3
        assert_chart_matches(page, api_series(page, api, "outage-chart"), "outage-chart")
        title = page.get_by_test_id("outage-chart").locator("svg > title").text_content()
        assert title.startswith("Reports per minute, as the table below lists them:")
        # A crowd outage is dated from where its surge began, so the shading starts at or before its first event.
        highlight = page.locator("rect.highlight")
        assert highlight.get_attribute("data-start") == shaded_from
        assert float(highlight.get_attribute("x")) <= float(page.locator("g.marker line").first.get_attribute("x1"))
