"""Shared fixtures: named actors, clean cache, and services the tests require."""

from __future__ import annotations

import contextlib
import os

import pytest
from django.core.cache import cache, caches

# Set by .ci/run: there a test that needs PostgreSQL or Redis fails instead of skipping.
IN_CI = os.environ.get("OUTAGEHUB_CI") == "1"


def require(condition: bool, what: str) -> None:
    """Skip locally, fail in CI, when a real service the test needs is not configured."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but not configured", pytrace=False)
    pytest.skip(f"{what} not configured (set it, or run bash .ci/run)")


@pytest.fixture(autouse=True)
def _clean_cache():
    from outagehub import breaker
    from reports.intake.throttles import FLOOD_GATE

    cache.clear()
    caches["memo"].clear()  # memoized reads (outagehub/memo.py): ids repeat from test to test
    _intake_limits_clear()
    FLOOD_GATE.clear()  # refusals remembered by this process must not reach into the next test
    breaker.CACHE = breaker.Breaker("cache")  # a test that broke the cache must not leave it skipped
    yield
    breaker.CACHE = breaker.Breaker("cache")
    cache.clear()
    caches["memo"].clear()
    _intake_limits_clear()


def _intake_limits_clear() -> None:
    """With write-behind intake, report rate limits live in the intake's Redis, not the cache."""
    from django.conf import settings
    from redis.exceptions import RedisError

    from reports.intake import writebehind
    from reports.intake.limits import INTAKE_KEY_PREFIX

    if not settings.OUTAGEHUB_INTAKE_REDIS_URL:
        return
    # Unreachable: nothing to clear here, and a test that needs this Redis fails on its own.
    with contextlib.suppress(RedisError, OSError):
        r = writebehind.client()
        keys = list(r.scan_iter(f"{INTAKE_KEY_PREFIX}*", count=1000))
        if keys:
            r.delete(*keys)


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    require(bool(url), "REDIS_URL")
    return url


@pytest.fixture
def postgres(settings) -> None:
    from django.db import connection

    require(connection.vendor == "postgresql", "DATABASE_URL (PostgreSQL)")
