"""Report series, breakdown and timeline over the API, on rollups built by the real detection tick."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.db.models import Sum
from django.test import Client

from catalog.tests.factories import make_service
from outagehub.api.windows import MAX_BUCKETS
from probes.kinds import ProbeState
from probes.models import Probe, ProbeEvent
from reports.detection.detector import band, bands
from reports.detection.tick import detection_tick
from reports.models import OutageEvent, Report, ReportMinute, ServiceMinute
from reports.selectors.series import service_timeline
from reports.tests.detection.test_tick import add_reports, quiet

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
URL = "/api/v1/services/tiktok-shop/"


def iso(at: dt.datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@pytest.fixture
def api() -> Client:
    return Client()


@pytest.fixture
def shop():
    """Three hours of quiet reports from 12:00, rolled up through 14:59 by the detection tick."""
    service = make_service()
    add_reports(service, T0, quiet(180), "server")
    add_reports(service, T0 + 30 * MINUTE, [2] * 10, "payment", country="US")
    add_reports(service, T0 + 90 * MINUTE, [1] * 5, "shipping", country="")
    detection_tick(service_id=service.pk, now=T0 + 181 * MINUTE)
    assert service.detector.last_minute == T0 + 179 * MINUTE
    return service


def series(api: Client, since: dt.datetime, until: dt.datetime, **params) -> dict:
    response = api.get(f"{URL}series/", {"since": iso(since), "until": iso(until), **params})
    assert response.status_code == 200, response.content
    return response.json()


def assert_error(response, status: int, field: str, *needles: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"message", "code", "errors"}
    assert field in body["errors"], body
    text = " ".join(body["errors"][field])
    for needle in needles:
        assert needle in text, body
    return body


# --- series ------------------------------------------------------------------------------


def test_series_has_the_documented_shape(api, shop):
    body = series(api, T0, T0 + 3 * HOUR)
    assert set(body) == {"service", "bucket", "since", "until", "buckets"}
    assert (body["service"], body["bucket"]) == ("tiktok-shop", "15m")
    assert (body["since"], body["until"]) == ("2026-11-20T12:00:00Z", "2026-11-20T15:00:00Z")
    assert len(body["buckets"]) == 12
    assert set(body["buckets"][0]) == {"start", "count", "expected", "band", "level"}
    assert [b["start"] for b in body["buckets"][:2]] == ["2026-11-20T12:00:00Z", "2026-11-20T12:15:00Z"]


def test_bucket_counts_are_the_sums_of_the_minute_rollups(api, shop):
    for bucket, size in (("1m", MINUTE), ("15m", 15 * MINUTE), ("1h", HOUR), ("1d", 24 * HOUR)):
        body = series(api, T0, T0 + 3 * HOUR, bucket=bucket)
        for b in body["buckets"]:
            start = dt.datetime.fromisoformat(b["start"])
            rolled = ReportMinute.objects.filter(service=shop, minute__gte=start, minute__lt=start + size)
            assert b["count"] == (rolled.aggregate(n=Sum("count"))["n"] or 0), (bucket, b)
        assert sum(b["count"] for b in body["buckets"]) == sum(quiet(180)) + 20 + 5


def test_expected_is_the_detectors_sum_and_lies_within_its_band(api, shop):
    body = series(api, T0, T0 + 3 * HOUR, bucket="1h")
    for b in body["buckets"]:
        start = dt.datetime.fromisoformat(b["start"])
        minutes = ServiceMinute.objects.filter(service=shop, minute__gte=start, minute__lt=start + HOUR)
        assert b["expected"] == pytest.approx(minutes.aggregate(e=Sum("expected"))["e"], abs=1e-3)
        low, high = b["band"]
        assert low <= b["expected"] <= high
        assert b["level"] in ("ok", "possible", "outage")


def test_empty_buckets_are_present_with_zero_count_and_no_baseline(api, shop):
    body = series(api, T0 - 2 * HOUR, T0, bucket="15m")
    assert len(body["buckets"]) == 8
    assert all(b["count"] == 0 for b in body["buckets"])
    # Before the detector's first minute (the first report's) there is no baseline.
    assert all(b["expected"] is None and b["band"] is None and b["level"] is None for b in body["buckets"])


def test_minutes_not_rolled_up_yet_are_counted_from_reports_once(api, shop):
    add_reports(shop, T0 + 180 * MINUTE, [3, 4, 5], "payment")
    window = (T0 + 178 * MINUTE, T0 + 184 * MINUTE)
    body = series(api, *window, bucket="1m")
    assert [b["count"] for b in body["buckets"]] == [quiet(180)[178], quiet(180)[179], 3, 4, 5, 0]
    assert [b["expected"] is None for b in body["buckets"]] == [False, False, True, True, True, True]
    quarter = series(api, T0 + 165 * MINUTE, T0 + 195 * MINUTE)["buckets"]
    assert quarter[1]["count"] == 12
    assert quarter[1]["expected"] is None  # partly processed: no expected for part of a bucket

    detection_tick(service_id=shop.pk, now=T0 + 184 * MINUTE)
    rolled = series(api, *window, bucket="1m")
    assert [b["count"] for b in rolled["buckets"]] == [b["count"] for b in body["buckets"]]
    assert [b["expected"] is None for b in rolled["buckets"]] == [False, False, False, False, False, True]
    partly = series(api, T0 + 180 * MINUTE, T0 + 195 * MINUTE)["buckets"][0]
    assert (partly["count"], partly["expected"], partly["band"], partly["level"]) == (12, None, None, "ok")


def test_issue_type_filter_counts_only_that_type_without_a_baseline(api, shop):
    body = series(api, T0, T0 + HOUR, bucket="15m", issue_type="payment")
    assert [b["count"] for b in body["buckets"]] == [0, 0, 20, 0]
    assert all(b["expected"] is None and b["band"] is None and b["level"] is None for b in body["buckets"])


def test_country_filter_reads_hours_and_counts_the_open_hour_raw(api, shop):
    body = series(api, T0, T0 + 3 * HOUR, country="us")
    assert body["bucket"] == "1h"  # the default with a country
    assert [b["count"] for b in body["buckets"]] == [20, 0, 0]
    # Rolled up to 14:59; reports from 15:00 on are counted from raw rows, the hour's rollup left alone.
    add_reports(shop, T0 + 185 * MINUTE, [2, 2], "server", country="US")
    body = series(api, T0, T0 + 4 * HOUR, country="US", bucket="1h")
    assert [b["count"] for b in body["buckets"]] == [20, 0, 0, 4]
    assert series(api, T0, T0 + 24 * HOUR, country="US", bucket="1d")["buckets"][0]["count"] == 24


def test_country_hour_half_rolled_up_is_counted_once(api):
    shop = make_service()
    add_reports(shop, T0, [1] * 50, "server", country="DE")
    detection_tick(service_id=shop.pk, now=T0 + 30 * MINUTE + 30 * dt.timedelta(seconds=1))
    add_reports(shop, T0 + 40 * MINUTE, [1] * 10, "server", country="DE")  # after the tick, same hour
    body = series(api, T0, T0 + HOUR, country="DE", bucket="1h")
    assert body["buckets"][0]["count"] == Report.objects.filter(service=shop, country="DE").count() == 60


def test_default_window_is_the_last_24_hours_including_the_current_bucket(api, shop):
    with time_machine.travel(T0 + 185 * MINUTE + dt.timedelta(seconds=30), tick=False):
        body = api.get(f"{URL}series/").json()
    assert (body["since"], body["until"]) == ("2026-11-19T15:15:00Z", "2026-11-20T15:15:00Z")
    assert len(body["buckets"]) == 96


def test_series_as_csv(api, shop):
    body = series(api, T0, T0 + HOUR)
    for response in (
        api.get(f"{URL}series/", {"since": iso(T0), "until": iso(T0 + HOUR), "format": "csv"}),
        api.get(f"{URL}series/", {"since": iso(T0), "until": iso(T0 + HOUR)}, HTTP_ACCEPT="text/csv"),
        # An explicit format wins over the Accept most HTTP libraries send by default.
        api.get(
            f"{URL}series/",
            {"since": iso(T0), "until": iso(T0 + HOUR), "format": "csv"},
            HTTP_ACCEPT="application/json",
        ),
    ):
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0] == ["start", "count", "expected", "band_low", "band_high", "level"]
        assert len(rows) == 1 + len(body["buckets"])
        first = body["buckets"][0]
        assert rows[1] == [
            first["start"],
            str(first["count"]),
            str(first["expected"]),
            str(first["band"][0]),
            str(first["band"][1]),
            first["level"],
        ]
    empty = api.get(f"{URL}series/", {"since": iso(T0 - HOUR), "until": iso(T0 - 45 * MINUTE), "format": "csv"})
    assert empty.content.decode().splitlines() == [
        "start,count,expected,band_low,band_high,level",
        "2026-11-20T11:00:00Z,0,,,,",
    ]


def test_series_errors_stay_json_when_csv_is_asked(api, shop):
    response = api.get(f"{URL}series/", {"bucket": "5m", "format": "csv"})
    assert_error(response, 400, "bucket")


@pytest.mark.parametrize(
    ("params", "field", "needle"),
    [
        ({"bucket": "5m"}, "bucket", "not a valid choice. Allowed: 1m, 15m, 1h, 1d."),
        ({"since": "yesterday"}, "since", "wrong format"),
        ({"until": "2026-13-01T00:00:00Z"}, "until", "wrong format"),
        ({"since": "1900-01-01T00:00:00Z"}, "since", "1970"),
        ({"since": iso(T0), "until": iso(T0)}, "until", "after since"),
        ({"since": iso(T0), "until": iso(T0 - HOUR)}, "until", "after since"),
        ({"since": "2099-01-01T00:00:00Z"}, "since", "before until"),
        ({"since": iso(T0 - 2 * 24 * HOUR), "until": iso(T0), "bucket": "1m"}, "since", f"at most {MAX_BUCKETS}"),
        ({"since": iso(T0 - 500 * 24 * HOUR), "until": iso(T0), "bucket": "1d"}, "since", "400 days"),
        ({"issue_type": "login"}, "issue_type", "Allowed: server, payment, inventory, shipping"),
        ({"country": "DE", "bucket": "1m"}, "country", "1h or 1d"),
        ({"country": "DE", "bucket": "15m"}, "country", "1h or 1d"),
        ({"country": "ß", "bucket": "1h"}, "country", "ISO 3166-1"),
        ({"country": "XX", "bucket": "1h"}, "country", "ISO 3166-1"),
        ({"country": "DE", "issue_type": "payment"}, "country", "issue_type"),
    ],
)
def test_bad_series_parameters_are_400_naming_the_field(api, shop, params, field, needle):
    with time_machine.travel(T0 + 3 * HOUR, tick=False):
        body = assert_error(api.get(f"{URL}series/", params), 400, field, needle)
    assert body["code"] == "invalid"
    assert field in body["message"]


def test_unknown_service_is_404_for_each_endpoint(api):
    for path in ("series", "breakdown", "timeline"):
        assert_error(api.get(f"/api/v1/services/nope/{path}/"), 404, "service", "nope")


def test_bands_match_the_detectors_band():
    expected = [0.0, 1e-4, 0.3, 1.0, 7.5, 42.0, 380.0, 5000.0] * 3
    dispersion = [0.0] * 8 + [0.05] * 8 + [1.7] * 8
    assert bands(expected, dispersion) == [band(e, d) for e, d in zip(expected, dispersion, strict=True)]
    assert bands([], []) == []


# --- breakdown ---------------------------------------------------------------------------


def test_breakdown_counts_and_shares_by_issue_type_and_country(api, shop):
    add_reports(shop, T0 + 180 * MINUTE, [2], "inventory", country="US")  # not rolled up yet
    body = api.get(f"{URL}breakdown/", {"since": iso(T0), "until": iso(T0 + 181 * MINUTE)}).json()
    assert set(body) == {"since", "until", "total", "issue_types", "countries"}
    server = sum(quiet(180))
    assert body["total"] == server + 20 + 5 + 2
    types = {t["key"]: t for t in body["issue_types"]}
    assert set(types) == {"server", "payment", "inventory", "shipping"}
    assert (types["server"]["count"], types["payment"]["count"], types["inventory"]["count"]) == (server, 20, 2)
    assert types["payment"]["label"] == "Payment"
    assert [t["count"] for t in body["issue_types"]] == sorted((t["count"] for t in body["issue_types"]), reverse=True)
    assert sum(t["percent"] for t in body["issue_types"]) == pytest.approx(100, abs=0.5)
    countries = {c["country"]: c for c in body["countries"]}
    assert countries["DE"]["name"] == "Germany"
    assert countries["US"]["count"] == 22
    assert countries[""] == {"country": "", "name": "Unknown", "count": 5, "percent": countries[""]["percent"]}
    assert body["countries"][0]["country"] == "DE"
    assert sum(c["percent"] for c in body["countries"]) == pytest.approx(100, abs=0.5)


def test_breakdown_of_a_quiet_window_is_zero(api, shop):
    body = api.get(f"{URL}breakdown/", {"since": iso(T0 - 3 * HOUR), "until": iso(T0 - 2 * HOUR)}).json()
    assert body["total"] == 0
    assert body["countries"] == []
    assert all(t["count"] == 0 and t["percent"] == 0 for t in body["issue_types"])


def test_breakdown_validates_its_window(api, shop):
    assert_error(api.get(f"{URL}breakdown/", {"since": iso(T0), "until": iso(T0)}), 400, "until")


# --- timeline ----------------------------------------------------------------------------


@pytest.fixture
def outage_with_probe():
    """A report spike at 15:00 that opens an outage, and a probe that went down at 15:05 and up at 15:40."""
    shop = make_service()
    add_reports(shop, T0, quiet(180), "server")
    add_reports(shop, T0 + 180 * MINUTE, [20] * 20, "payment")
    add_reports(shop, T0 + 200 * MINUTE, quiet(40), "server")
    probe = Probe.objects.create(service=shop, name="homepage", kind="http", target="https://shop.example/")
    for at, state in ((T0 + 185 * MINUTE, ProbeState.DOWN), (T0 + 220 * MINUTE, ProbeState.UP)):
        ProbeEvent.objects.create(probe=probe, at=at, region="", from_state="up", to_state=state, evidence={"n": 1})
    ProbeEvent.objects.create(probe=probe, at=T0 + 184 * MINUTE, region="eu", from_state="up", to_state="down")
    off = Probe.objects.create(service=shop, name="off", kind="tcp", target="shop.example:443", enabled=False)
    ProbeEvent.objects.create(probe=off, at=T0 + 186 * MINUTE, region="", from_state="up", to_state="down")
    detection_tick(service_id=shop.pk, now=T0 + 241 * MINUTE)
    return shop, probe


def test_timeline_merges_outage_events_and_probe_changes_in_time_order(api, outage_with_probe):
    shop, probe = outage_with_probe
    body = api.get(f"{URL}timeline/", {"since": iso(T0), "until": iso(T0 + 5 * HOUR)}).json()
    assert set(body) == {"service", "since", "until", "truncated", "items"}
    assert body["truncated"] is False
    items = body["items"]
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)
    outage_items = [i for i in items if i["type"] == "outage_event"]
    probe_items = [i for i in items if i["type"] == "probe_event"]
    assert len(outage_items) == OutageEvent.objects.filter(outage__service=shop).count() > 0
    assert {i["kind"] for i in outage_items} >= {"opened", "resolved"}
    assert all(i["outage"] and i["probe"] is None for i in outage_items)
    assert [(i["at"], i["kind"]) for i in probe_items] == [
        ("2026-11-20T15:05:00Z", "probe_down"),
        ("2026-11-20T15:40:00Z", "probe_up"),
    ]  # not the region's own change, nor the disabled probe's
    assert probe_items[0]["probe"] == {"id": probe.pk, "name": "homepage"}
    assert probe_items[0]["outage"] is None
    assert probe_items[0]["data"] == {"from_state": "up", "to_state": "down", "evidence": {"n": 1}}
    assert set(items[0]) == {"at", "type", "outage", "kind", "probe", "data"}


def test_timeline_window_and_cap(api, outage_with_probe):
    shop, _ = outage_with_probe
    body = api.get(f"{URL}timeline/", {"since": iso(T0 + 185 * MINUTE), "until": iso(T0 + 186 * MINUTE)}).json()
    assert ("2026-11-20T15:05:00Z", "probe_event") in [(i["at"], i["type"]) for i in body["items"]]
    assert all(i["at"].startswith("2026-11-20T15:05") for i in body["items"])
    items, truncated = service_timeline(service=shop, since=T0, until=T0 + 5 * HOUR, limit=2)
    assert truncated is True
    assert len(items) == 2
    assert items[0].at <= items[1].at
