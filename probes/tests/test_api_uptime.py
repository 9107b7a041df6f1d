"""Probe uptime over the API: hourly rollups summed per bucket, the hours not rolled up read raw."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from probes.models import ProbeRollup
from probes.services import probe_result_record, probe_results_rollup
from probes.tests.test_services import DOWN, UP, make_probe

pytestmark = pytest.mark.django_db

DAY0 = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)


def iso(at: dt.datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@pytest.fixture
def api() -> Client:
    return Client()


@pytest.fixture
def probe():
    """Two regions, rolled up for 22:00 and 23:00 on the 20th and 00:00 on the 21st."""
    probe = make_probe(regions=["eu", "us"])
    rows = [
        ("eu", DAY0 + 22 * HOUR, 58, 1, 1, 0, 100, 200),
        ("us", DAY0 + 22 * HOUR, 60, 0, 0, 2, 150, 180),
        ("eu", DAY0 + 23 * HOUR, 30, 0, 30, 0, 900, 2000),
        ("eu", DAY0 + 24 * HOUR, 0, 0, 0, 60, None, None),
    ]
    for region, hour, up, degraded, down, inconclusive, p50, p95 in rows:
        ProbeRollup.objects.create(
            probe=probe,
            region=region,
            hour=hour,
            up=up,
            degraded=degraded,
            down=down,
            inconclusive=inconclusive,
            latency_p50_ms=p50,
            latency_p95_ms=p95,
        )
    return probe


def uptime(api, probe, since, until, **params) -> dict:
    response = api.get(f"/api/v1/probes/{probe.pk}/uptime/", {"since": iso(since), "until": iso(until), **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_hourly_uptime_sums_the_regions_of_each_hour(api, probe):
    body = uptime(api, probe, DAY0 + 21 * HOUR, DAY0 + 25 * HOUR)
    assert set(body) == {"probe", "bucket", "since", "until", "buckets"}
    assert (body["probe"], body["bucket"]) == (probe.pk, "1h")
    first, two, three, four = body["buckets"]
    assert first == {
        "start": "2026-11-20T21:00:00Z",
        "up": 0,
        "degraded": 0,
        "down": 0,
        "inconclusive": 0,
        "uptime_percent": None,
        "latency_p50_ms": None,
        "latency_p95_ms": None,
    }
    assert (two["up"], two["degraded"], two["down"], two["inconclusive"]) == (118, 1, 1, 2)
    assert two["uptime_percent"] == pytest.approx(100 * 119 / 120, abs=1e-3)
    assert (two["latency_p50_ms"], two["latency_p95_ms"]) == (150, 200)  # the highest region's
    assert three["uptime_percent"] == 50.0
    assert four["inconclusive"] == 60
    assert four["uptime_percent"] is None


def test_daily_uptime_sums_the_hours(api, probe):
    body = uptime(api, probe, DAY0 + 12 * HOUR, DAY0 + 25 * HOUR, bucket="1d")
    assert (body["since"], body["until"]) == ("2026-11-20T00:00:00Z", "2026-11-22T00:00:00Z")
    day, next_day = body["buckets"]
    assert (day["up"], day["degraded"], day["down"], day["inconclusive"]) == (148, 1, 31, 2)
    assert day["uptime_percent"] == pytest.approx(100 * 149 / 180, abs=1e-3)
    assert (day["latency_p50_ms"], day["latency_p95_ms"]) == (900, 2000)
    assert next_day["inconclusive"] == 60


def test_hours_not_rolled_up_yet_are_read_from_raw_results(api):
    probe = make_probe(regions=["local"])
    start = DAY0 + 10 * HOUR
    for i, result in enumerate([UP] * 50 + [DOWN] * 10 + [UP] * 30):
        at = start + i * MINUTE
        probe_result_record(probe_id=probe.pk, region="local", slot=at, result=result, checked_at=at)
    probe_results_rollup(since=start, until=start + HOUR)  # 10:00 rolled up; 11:00 not yet
    assert ProbeRollup.objects.filter(probe=probe).count() == 1
    body = uptime(api, probe, start, start + 2 * HOUR)
    assert [(b["up"], b["down"]) for b in body["buckets"]] == [(50, 10), (30, 0)]
    assert body["buckets"][1]["latency_p50_ms"] == 120
    probe_results_rollup(since=start, until=start + 2 * HOUR)
    assert uptime(api, probe, start, start + 2 * HOUR) == body


@pytest.mark.parametrize(
    ("params", "field", "needle"),
    [
        ({"bucket": "15m"}, "bucket", "Allowed: 1h, 1d."),
        ({"since": "not a time"}, "since", ""),
        ({"since": iso(DAY0), "until": iso(DAY0)}, "until", ""),
        ({"since": iso(DAY0 - 100 * 24 * HOUR), "until": iso(DAY0), "bucket": "1h"}, "since", ""),
        ({"since": iso(DAY0 - 401 * 24 * HOUR), "until": iso(DAY0), "bucket": "1d"}, "since", ""),
    ],
)
def test_bad_uptime_parameters_are_400(api, probe, params, field, needle):
    response = api.get(f"/api/v1/probes/{probe.pk}/uptime/", params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"message", "code", "errors"}
    assert field in body["errors"]
    assert needle in " ".join(body["errors"][field])


def test_unknown_probe_is_404(api):
    response = api.get("/api/v1/probes/999/uptime/")
    assert response.status_code == 404
    assert "probe" in response.json()["errors"]
