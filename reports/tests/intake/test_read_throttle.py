"""The per-address limit on anonymous API reads (OUTAGEHUB_READ_RATE_LIMIT)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from catalog.tests.factories import make_service
from reports.intake.throttles import ReadRateThrottle

pytestmark = pytest.mark.django_db

READ = "/api/v1/services/"
REPORTS = "/api/v1/services/tiktok-shop/reports/"


@pytest.fixture
def alice() -> Client:
    return Client(REMOTE_ADDR="81.2.69.142")


def test_reads_over_the_limit_are_429_with_retry_after(alice, settings):
    settings.OUTAGEHUB_READ_RATE_LIMIT = "3/min"
    statuses = [alice.get(READ).status_code for _ in range(3)]
    limited = alice.get("/api/v1/outages/")  # every read counts against one limit
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["code"] == "throttled"


def test_another_address_has_its_own_limit(alice, settings):
    settings.OUTAGEHUB_READ_RATE_LIMIT = "1/min"
    assert alice.get(READ).status_code == 200
    assert alice.get(READ).status_code == 429
    assert Client(REMOTE_ADDR="8.8.4.4").get(READ).status_code == 200


def test_filing_reports_counts_only_against_the_report_limit(alice, settings):
    settings.OUTAGEHUB_READ_RATE_LIMIT = "1/min"
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "5/min"
    make_service()
    body = json.dumps({"issue_type": "payment"})
    filed = [alice.post(REPORTS, data=body, content_type="application/json").status_code for _ in range(3)]
    assert filed == [201, 201, 201]
    assert alice.get(READ).status_code == 200  # the reports did not use up the read
    assert alice.get(READ).status_code == 429
    # ...and reads do not use up reports.
    assert alice.post(REPORTS, data=body, content_type="application/json").status_code == 201


def test_reads_are_allowed_when_the_cache_is_down(alice, settings, monkeypatch):
    settings.OUTAGEHUB_READ_RATE_LIMIT = "1/min"

    def unavailable(*args, **kwargs):
        raise RedisConnectionError("down")

    monkeypatch.setattr(ReadRateThrottle.cache, "get", unavailable)
    assert [alice.get(READ).status_code for _ in range(3)] == [200, 200, 200]
