"""The follow pages on a 360 px phone in a real browser with JavaScript off: nothing wider than the screen."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from playwright.sync_api import Browser

from catalog.tests.factories import make_service
from reports.models import Level
from reports.tests.web.test_pages import T0, outage

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def test_follow_pages_fit_a_360_px_phone(browser: Browser, live_server) -> None:
    shop = make_service(name="TikTok Shop With A Rather Long Name For A Phone")
    for i in range(3):
        outage(shop, T0 - dt.timedelta(hours=5 * i + 1), 50)
    outage(make_service("amazon", "Amazon"), T0 - dt.timedelta(minutes=30), None, level=Level.POSSIBLE)
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()

    with time_machine.travel(T0, tick=False):
        for path in ("/outages/", "/outages/?days=3", "/s/tiktok-shop/", "/no/such/page/"):
            page.goto(live_server.url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path} is {width} px wide"
        # The badge preview on the service page is an image the browser could draw.
        page.goto(live_server.url + "/s/tiktok-shop/")
        assert page.locator("img.badge-preview").evaluate("img => img.complete && img.naturalWidth > 0")
    context.close()
