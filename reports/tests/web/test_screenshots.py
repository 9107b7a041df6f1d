"""Screenshots of the home, service and outage pages during a simulated outage, desktop and phone.

`make screenshots` runs this with OUTAGEHUB_SCREENSHOTS_DIR=docs/screenshots (the README shows them);
otherwise they go to a temporary folder, and the test still checks each is drawn and small.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Browser

from catalog.tests.factories import make_service
from reports.models import Outage
from reports.tests.web.scenario import ongoing_outage

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# How much of each page: what a visitor meets first (a page is long, and a screenshot of all of it heavy).
HEIGHTS = {"desktop": 1500, "phone": 1700}
MAX_BYTES = 200_000


def test_screenshots_of_home_service_and_outage_pages(browser: Browser, live_server, tmp_path: Path) -> None:
    folder = Path(os.environ.get("OUTAGEHUB_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    service, now = ongoing_outage()
    for slug, name in (("amazon", "Amazon"), ("ebay", "eBay"), ("steam", "Steam"), ("zalando", "Zalando")):
        make_service(slug, name)
    outage = Outage.objects.get(service=service)
    pages = {"home": "/", "service": f"/s/{service.slug}/", "outage": f"/s/{service.slug}/outages/{outage.pk}/"}

    with time_machine.travel(now, tick=False):
        for device, viewport in VIEWPORTS.items():
            context = browser.new_context(viewport=viewport, timezone_id="UTC", device_scale_factor=1)
            page = context.new_page()
            for name, path in pages.items():
                page.goto(live_server.url + path)
                target = folder / f"{name}-{device}.png"
                height = min(HEIGHTS[device], page.evaluate("document.documentElement.scrollHeight"))
                clip = {"x": 0, "y": 0, "width": viewport["width"], "height": height}
                page.screenshot(path=str(target), clip=clip, full_page=True)
                size = target.stat().st_size
                assert 5_000 < size < MAX_BYTES, f"{target.name} is {size} bytes"
            context.close()
