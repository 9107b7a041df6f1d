"""Fetching through the outbound guard from a real loopback server: conditional GETs, limits, refusals."""

from __future__ import annotations

import ipaddress

import pytest

from statuspages.demo.server import Route
from statuspages.fetcher import FetchOutcome, fetch, retry_after_seconds
from statuspages.tests.conftest import NOW


def get(pages, path, **kwargs):
    options = {"timeout": 2.0, "max_bytes": 1_000_000, "allow_private": True, "now": NOW} | kwargs
    return fetch(pages.url(path), **options)


def test_a_page_is_fetched_with_its_validators(pages):
    pages.routes["/s.json"] = Route(b'{"ok": true}')
    fetched = get(pages, "/s.json")
    assert fetched.outcome == FetchOutcome.OK
    assert fetched.body == b'{"ok": true}'
    assert fetched.etag.startswith('"') and fetched.last_modified.endswith("GMT")


def test_the_etag_sent_back_gets_a_304_and_no_body(pages):
    pages.routes["/s.json"] = Route(b'{"ok": true}')
    first = get(pages, "/s.json")
    again = get(pages, "/s.json", etag=first.etag, last_modified=first.last_modified)
    assert again.outcome == FetchOutcome.NOT_MODIFIED
    assert pages.requests[-1][1]["If-None-Match"] == first.etag
    assert pages.requests[-1][1]["If-Modified-Since"] == first.last_modified


def test_429_with_retry_after_is_rate_limited_with_the_wait(pages):
    pages.routes["/s.json"] = Route(b"slow down", status=429, headers={"Retry-After": "240"}, conditional=False)
    fetched = get(pages, "/s.json")
    assert (fetched.outcome, fetched.retry_after) == (FetchOutcome.RATE_LIMITED, 240)


def test_retry_after_as_a_date_and_absurd_values():
    assert retry_after_seconds("Thu, 26 Nov 2026 19:35:00 GMT", now=NOW) == 300
    assert retry_after_seconds("Thu, 26 Nov 2026 19:00:00 GMT", now=NOW) == 0
    assert retry_after_seconds("99999999", now=NOW) == 3600
    assert retry_after_seconds("soon", now=NOW) is None


def test_an_http_error_is_a_failure_naming_the_status(pages):
    pages.routes["/s.json"] = Route(b"oops", status=500, conditional=False)
    fetched = get(pages, "/s.json")
    assert (fetched.outcome, fetched.error) == (FetchOutcome.FAILED, "HTTP 500")


def test_a_body_over_the_cap_is_refused_not_truncated(pages):
    pages.routes["/big.json"] = Route(b"[" + b"0," * 600_000 + b"0]")
    fetched = get(pages, "/big.json", max_bytes=1_000_000)
    assert fetched.outcome == FetchOutcome.FAILED
    assert "1000000" in fetched.error
    assert fetched.body == b""


def test_a_server_trickling_its_body_is_cut_off_at_the_total_timeout(pages):
    pages.routes["/drip.json"] = Route(b'{"status": {"indicator": "none"}}' * 10, drip=0.05)
    fetched = get(pages, "/drip.json", timeout=0.5)
    assert fetched.outcome == FetchOutcome.FAILED
    assert "timed out" in fetched.error


def test_loopback_is_refused_without_the_operators_allowance(pages):
    pages.routes["/s.json"] = Route(b"{}")
    fetched = get(pages, "/s.json", allow_private=False)
    assert fetched.outcome == FetchOutcome.FAILED
    assert fetched.error.startswith("blocked:")
    assert pages.requests == []


def test_the_allowance_is_for_one_address_and_port_only(pages):
    pages.routes["/s.json"] = Route(b"{}")
    loopback = ipaddress.ip_address("127.0.0.1")
    allowed = get(
        pages, "/s.json", allow_private=False, also_allow=lambda ip, port: (ip, port) == (loopback, pages.port)
    )
    other_port = get(pages, "/s.json", allow_private=False, also_allow=lambda ip, port: (ip, port) == (loopback, 1))
    assert allowed.outcome == FetchOutcome.OK
    assert other_port.outcome == FetchOutcome.FAILED


def test_a_redirect_to_a_private_address_is_refused(pages):
    pages.routes["/moved"] = Route(
        b"", status=302, headers={"Location": "http://10.0.0.1/summary.json"}, conditional=False
    )
    loopback = ipaddress.ip_address("127.0.0.1")
    fetched = get(pages, "/moved", allow_private=False, also_allow=lambda ip, port: ip == loopback)
    assert fetched.outcome == FetchOutcome.FAILED
    assert "10.0.0.1" in fetched.error


@pytest.mark.parametrize("url", ["http://[::1", "ftp://example.com/x"])
def test_a_url_httpx_cannot_send_is_a_failure_not_a_crash(url):
    fetched = fetch(url, timeout=1.0, max_bytes=100, allow_private=True, now=NOW)
    assert fetched.outcome == FetchOutcome.FAILED
