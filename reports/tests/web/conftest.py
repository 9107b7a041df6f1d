"""Fixtures of the page tests: Debian's Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from conftest import require

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, launched once for the module."""
    require(CHROMIUM.exists(), f"Chromium at {CHROMIUM} (make chromium)")
    # The sync Playwright API keeps an event loop running in this thread, and
    # Django refuses ORM calls from a thread with a running loop. The test's
    # own queries (and pytest-django's flush) are plain synchronous code.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh profile (no cookies) with JavaScript disabled: the pages must work without it."""
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()
