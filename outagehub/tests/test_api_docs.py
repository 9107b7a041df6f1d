"""/api/docs/: Swagger UI from our own static files, nothing from a CDN, served with DEBUG off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import Browser, Page, Request, expect, sync_playwright

from conftest import require

CHROMIUM = Path("/usr/bin/chromium")
SIDECAR = "/static/drf_spectacular_sidecar/swagger-ui-dist/"
ASSET = re.compile(r'(?:src|href)="([^"]*)"')


def assets(html: str) -> list[str]:
    return ASSET.findall(html)


def test_docs_page_loads_swagger_ui_from_our_own_static_files(client: Client) -> None:
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    found = assets(html)
    assert sorted(found) == sorted(
        [
            *(
                SIDECAR + name
                for name in [
                    "favicon-32x32.png",
                    "swagger-ui.css",
                    "swagger-ui-bundle.js",
                    "swagger-ui-standalone-preset.js",
                ]
            ),
            # Its start-up script and page style as files, not inline (the Content-Security-Policy forbids that).
            "/api/docs/?script=",
            "/static/reports/api-docs.css",
        ]
    )
    assert "<style" not in html and not re.search(r"<script>", html)
    # No other origin anywhere on the page: no CDN, and no validator badge from validator.swagger.io.
    assert not re.search(r"https?:|//[a-z]", html, re.IGNORECASE), html
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert '"validatorUrl": null' in script.content.decode()
    assert "/api/v1/schema/" in script.content.decode()


def test_docs_assets_are_served_with_production_static_files(settings, tmp_path: Path) -> None:
    # As deployed: DEBUG off, collectstatic into STATIC_ROOT with hashed, compressed names,
    # whitenoise serving them (no finders).
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    client = Client()  # a new handler: whitenoise reads STATIC_ROOT when it starts

    found = [url for url in assets(client.get("/api/docs/").content.decode()) if url.startswith("/static/")]

    assert len(found) == 5  # Swagger UI's four, and the page's own style
    for url in found:
        if "/reports/" in url:
            continue
        assert url.startswith(SIDECAR), url
        assert re.search(r"\.[0-9a-f]{12}\.(js|css|png)$", url), f"not a hashed name: {url}"
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].split(";")[0] in {"text/javascript", "text/css", "image/png"}, url
        assert len(b"".join(response.streaming_content)) > 0
    assert client.get(SIDECAR + "no-such-file.js").status_code == 404


@pytest.fixture
def browser_page() -> Iterator[Page]:
    """Debian's Chromium with JavaScript on (Swagger UI is a script)."""
    require(CHROMIUM.exists(), f"Chromium at {CHROMIUM} (make chromium)")
    # The sync Playwright API keeps an event loop running in this thread; Django refuses ORM
    # calls from such a thread (pytest-django's flush after the test is one).
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser: Browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"],
            )
            context = browser.new_context()
            context.set_default_timeout(15_000)
            yield context.new_page()
            browser.close()


@pytest.mark.browser
def test_docs_render_the_api_in_a_browser_without_leaving_the_site(browser_page: Page, live_server) -> None:
    requested: list[Request] = []
    browser_page.on("request", lambda request: requested.append(request))
    failed: list[str] = []
    browser_page.on("requestfailed", lambda request: failed.append(request.url))

    browser_page.goto(f"{live_server.url}/api/docs/")

    expect(browser_page.get_by_role("heading", name=re.compile("OutageHub API"))).to_be_visible()
    expect(browser_page.get_by_text("/api/v1/services/{slug}/reports/", exact=True)).to_be_visible()
    browser_page.wait_for_load_state("networkidle")
    urls = [request.url for request in requested]
    assert f"{live_server.url}/api/v1/schema/" in urls
    assert [url for url in urls if not url.startswith(live_server.url + "/")] == []
    assert failed == []
