"""Real loopback servers of status page fixtures, and the operator allowance that lets us reach them."""

from __future__ import annotations

import datetime as dt

import pytest

from statuspages.demo.server import FixtureServer

NOW = dt.datetime(2026, 11, 26, 19, 30, tzinfo=dt.UTC)


@pytest.fixture
def pages():
    """A fixture server on 127.0.0.1, reachable by the poller (only it: one address:port allowed)."""
    with FixtureServer() as server:
        yield server


@pytest.fixture
def allowed(settings, pages):
    """The operator's allowance for the test server, as the demo sets it: that address:port only."""
    settings.STATUSPAGES_ALLOW_PRIVATE = False
    settings.STATUSPAGES_ALLOWED_ADDRESSES = [f"127.0.0.1:{pages.port}"]
    settings.STATUSPAGES_TIMEOUT_SECONDS = 2
    return pages
