"""The Content-Security-Policy header: on every response, strict, and nothing on the pages that it would refuse."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client

from catalog.tests.factories import make_service
from outagehub.csp import HEADER, csp_header
from reports.models import Outage
from reports.tests.web.scenario import ongoing_outage

pytestmark = pytest.mark.django_db

# What a strict policy refuses in markup: inline scripts (any <script> without src, except JSON data
# blocks), <style> elements, style attributes and on* event handler attributes.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.I)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
EXTERNAL = re.compile(r"""(?:src|href)=["'](?:https?:)?//""", re.I)


def test_header_lists_directives_in_order_and_skips_unset_ones() -> None:
    assert csp_header({"default-src": "'self'", "img-src": None, "object-src": "'none'"}) == (
        "default-src 'self'; object-src 'none'"
    )


@pytest.mark.parametrize("path", ["/", "/s/tiktok-shop/", "/outages/", "/nowhere/", "/api/v1/services/"])
def test_every_response_carries_the_strict_policy(client: Client, path: str) -> None:
    make_service()
    policy = client.get(path)[HEADER]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "*" not in policy


def test_pages_have_no_inline_script_style_handler_or_outside_asset(client: Client) -> None:
    service, now = ongoing_outage()
    outage = Outage.objects.get(service=service)
    with time_machine.travel(now, tick=False):
        for path in (
            "/",
            "/?q=tik",
            f"/s/{service.slug}/",
            f"/s/{service.slug}/outages/{outage.pk}/",
            "/outages/",
            "/nowhere/",
            "/api/docs/",
        ):
            html = client.get(path).content.decode()
            assert not INLINE_SCRIPT.search(html), path
            assert not INLINE_STYLE.search(html), path
            assert not HANDLER.search(html), path
            # Links to other sites are fine (the service's homepage); loading anything from them is not.
            assets = re.findall(r"<(?:script|link|img)\b[^>]*>", html)
            assert not [a for a in assets if EXTERNAL.search(a) and 'rel="alternate"' not in a], path
