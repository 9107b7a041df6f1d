"""How series/ reads: its rollup part memoized under the detector's last minute, never stale.

The counts and baseline of the minutes the detector has rolled up only change when it rolls up
another one (reports.selectors.series.report_series); the minutes after are read live. Each
test compares an answer with the same answer computed with an empty cache, at the same instant.
"""

from __future__ import annotations

import datetime as dt
import json
from ipaddress import ip_address

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.tests.factories import make_service
from outagehub import memo
from reports.detection.tick import detection_tick
from reports.tests.factories import file_report
from reports.tests.web.test_pages import MINUTE, get, spike_afternoon

pytestmark = pytest.mark.django_db

SERIES = "/api/v1/services/tiktok-shop/series/?bucket=15m"
BY_ISSUE = SERIES + "&issue_type=payment"
# The rollup part: the counts per bucket (1) and, without an issue type, the detector's baseline (1).
ROLLUP_QUERIES = 2


@pytest.fixture
def shop():
    return make_service()


def afresh(client: Client, url: str, at: dt.datetime) -> dict:
    memo.cache.clear()
    return json.loads(get(client, url, at))


def counts(answer: dict) -> list[int]:
    return [bucket["count"] for bucket in answer["buckets"]]


@pytest.mark.parametrize("url", [SERIES, BY_ISSUE])
def test_series_reads_its_rollups_once_per_detector_minute(shop, url, django_assert_num_queries):
    client = Client()
    now = spike_afternoon(shop)
    with CaptureQueriesContext(connection) as first:
        get(client, url, now)
    repeat_queries = len(first.captured_queries) - (ROLLUP_QUERIES if url == SERIES else 1)
    with django_assert_num_queries(repeat_queries):
        again = json.loads(get(client, url, now + dt.timedelta(seconds=20)))
    assert again == afresh(client, url, now + dt.timedelta(seconds=20))


def test_a_report_after_the_detectors_last_minute_is_counted_at_once(shop):
    client = Client()
    now = spike_afternoon(shop)
    before = json.loads(get(client, SERIES, now))
    file_report(shop, "payment", now=now + dt.timedelta(seconds=10))
    later = now + dt.timedelta(seconds=20)
    after = json.loads(get(client, SERIES, later))
    assert sum(counts(after)) == sum(counts(before)) + 1
    assert after == afresh(client, SERIES, later)


def test_the_detectors_next_minute_is_a_new_memo(shop):
    client = Client()
    now = spike_afternoon(shop)
    get(client, SERIES, now)
    for i in range(30):
        file_report(shop, "payment", client=ip_address(f"10.{i}.0.1"), now=now + dt.timedelta(seconds=i))
    later = now + 2 * MINUTE
    detection_tick(service_id=shop.pk, now=later)
    answer = json.loads(get(client, SERIES, later))
    assert answer == afresh(client, SERIES, later)
    assert answer["buckets"][-1]["count"] >= 30
