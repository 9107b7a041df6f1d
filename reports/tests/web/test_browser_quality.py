"""What every page owes a visitor, checked in a real browser during a simulated outage: phones, dark mode,
contrast, no request to another host, no console error or CSP violation, and a light first load."""

from __future__ import annotations

import pytest
import time_machine
from playwright.sync_api import Browser, Page

from catalog.tests.factories import make_service
from outagehub.csp import HEADER
from reports.models import Outage
from reports.tests.web.scenario import ongoing_outage
from reports.tests.web.test_browser_live import js_page

pytestmark = pytest.mark.browser

PHONES = ({"width": 360, "height": 740}, {"width": 390, "height": 844})
MIN_LABEL_PX = 11  # the smallest chart label on screen (the old chart's were about 10 px)
# Contrast of text against its background (WCAG 2 AA, normal text).
AA = 4.5

# The contrast ratio of an element's text colour against the first opaque background behind it.
CONTRAST_JS = """el => {
  const rgb = c => c.match(/[\\d.]+/g).map(Number);
  const lum = c => { const v = rgb(c).slice(0, 3).map(x => { x /= 255;
    return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  let bg = el, color;
  while (bg) { color = getComputedStyle(bg).backgroundColor;
    const parts = rgb(color); if (parts.length < 4 || parts[3] > 0) break; bg = bg.parentElement; }
  if (!bg) color = "rgb(255, 255, 255)";
  const a = lum(getComputedStyle(el).color), b = lum(color);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""

# Text whose contrast is checked on the service and outage pages (each selector's first visible match).
TEXTS = (
    "body",
    "h1",
    "[data-testid=status] .verdict-sentence",
    "[data-testid=status] [data-verdict-numbers]",
    ".card .muted",
    ".issue-types button",
    ".badge",
    ".legend-item",
    ".share-count",
    ".comment-meta",
    ".foot",
)


def urls(live_server, service) -> dict[str, str]:
    outage = Outage.objects.get(service=service)
    base = live_server.url
    return {
        "home": f"{base}/",
        "service": f"{base}/s/{service.slug}/",
        "outage": f"{base}/s/{service.slug}/outages/{outage.pk}/",
        "outages": f"{base}/outages/",
        "not found": f"{base}/s/no-such-service/",
    }


def labels_outside(page: Page) -> list[str]:
    """Chart labels cut off by their chart or smaller than MIN_LABEL_PX on screen."""
    return page.evaluate(
        """min => [...document.querySelectorAll("svg.chart-svg")].flatMap(svg => {
            const box = svg.getBoundingClientRect();
            return [...svg.querySelectorAll(".y-axis text, .x-axis text")]
              .filter(t => getComputedStyle(t).display !== "none")
              .map(t => [t.textContent, t.getBoundingClientRect()])
              .filter(([, r]) => r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.height < min)
              .map(([text, r]) => `${text}: ${r.left.toFixed(1)}..${r.right.toFixed(1)} (chart ${box.left.toFixed(1)}
                ..${box.right.toFixed(1)}), ${r.height.toFixed(1)} px`);
        })""",
        MIN_LABEL_PX,
    )


@pytest.mark.parametrize("javascript", [False, True], ids=["js-off", "js-on"])
def test_pages_fit_phones_with_legible_chart_labels_and_nothing_hidden_sideways(
    browser: Browser, live_server, javascript: bool
) -> None:
    service, now = ongoing_outage()
    pages = urls(live_server, service)
    with time_machine.travel(now, tick=False):
        for phone in PHONES:
            context = browser.new_context(viewport=phone, java_script_enabled=javascript)
            page = context.new_page()
            for name, url in pages.items():
                page.goto(url)
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= phone["width"], f"{name} is {width} px wide at {phone['width']} px"
                assert labels_outside(page) == [], f"{name} at {phone['width']} px"
                # No section keeps part of itself in a sideways scroll box (the old history table did).
                hidden = page.evaluate(
                    """() => [...document.querySelectorAll("section")].filter(s => [...s.querySelectorAll("*")]
                        .some(e => e.closest("details:not([open])") === null && e.scrollWidth > e.clientWidth + 1
                               && ["auto", "scroll"].includes(getComputedStyle(e).overflowX)))
                        .map(s => s.dataset.testid || s.id)"""
                )
                assert hidden == [], f"{name} at {phone['width']} px scrolls sideways in {hidden}"
            context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_colour_schemes_follow_the_system_and_keep_text_contrast(browser: Browser, live_server, scheme: str) -> None:
    service, now = ongoing_outage()
    pages = urls(live_server, service)
    with time_machine.travel(now, tick=False), js_page(browser, color_scheme=scheme) as page:
        for name in ("service", "outage"):
            page.goto(pages[name])
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == ("rgb(18, 21, 27)" if scheme == "dark" else "rgb(247, 248, 250)")
            for selector in TEXTS:
                element = page.locator(selector).first
                if not element.count():
                    continue
                ratio = element.evaluate(CONTRAST_JS)
                assert ratio >= AA, f"{name}, {scheme}: {selector} has contrast {ratio:.2f}"
            # The chart's bars change with the scheme too (colours from CSS variables, not attributes).
            bar = page.locator("rect.bar.level-outage").first.evaluate("b => getComputedStyle(b).fill")
            assert bar == ("rgb(239, 107, 98)" if scheme == "dark" else "rgb(198, 40, 40)")


def test_no_request_leaves_the_host_and_no_console_error_or_csp_violation(browser: Browser, live_server) -> None:
    service, now = ongoing_outage()
    make_service("amazon", "Amazon")
    pages = urls(live_server, service)
    with time_machine.travel(now, tick=False), js_page(browser) as page:
        requests: list[str] = []
        problems: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        # Except the one a 404 page is for: Chromium logs its own status as an error.
        expected = f"404 (Not Found) at {pages['not found']}"
        page.on(
            "console",
            lambda m: problems.append(f"{m.text} at {m.location['url']}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        # A violation is reported to the page as an event; collect them where the test can read them.
        page.add_init_script(
            "window.__violations = []; document.addEventListener('securitypolicyviolation',"
            " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
        )
        for name, url in pages.items():
            response = page.goto(url)
            policy = response.headers.get(HEADER.lower(), "")
            assert "default-src 'self'" in policy and "unsafe-inline" not in policy, name
            if name == "service":
                page.get_by_role("button", name="Payment", exact=True).click()
                page.get_by_test_id("report-result").get_by_text("Thanks").wait_for()
                page.clock.run_for(60_000)  # one live refresh
                page.evaluate("() => window.OutageHub.settled()")
            assert page.evaluate("window.__violations") == [], name
        page.goto(f"{live_server.url}/api/docs/")
        page.locator(".swagger-ui .info").wait_for()
        assert page.evaluate("window.__violations") == [], "API docs"

    assert [p for p in problems if not p.endswith(expected)] == []
    outside = [url for url in requests if not url.startswith(live_server.url)]
    assert outside == []
    assert len(requests) > 10


def test_service_page_first_load_is_under_150_kb(browser: Browser, live_server) -> None:
    service, now = ongoing_outage()
    with time_machine.travel(now, tick=False), js_page(browser) as page:
        sizes: list[tuple[str, int]] = []
        page.on(
            "requestfinished",
            lambda r: sizes.append((r.url, r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"])),
        )
        page.goto(f"{live_server.url}/s/{service.slug}/", wait_until="networkidle")
        # Uncompressed (the test server does not compress; WhiteNoise and a proxy would), headers included.
        total = sum(size for _, size in sizes)
        assert {url.rsplit("/", 1)[-1] for url, _ in sizes} >= {"site.css", "site.js", "badge.svg", "icon.svg"}
        assert 20_000 < total < 150_000, sizes
