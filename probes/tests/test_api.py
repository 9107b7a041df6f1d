from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.test import Client

from catalog.tests.factories import make_service
from probes.kinds import ProbeState
from probes.models import Probe
from probes.services import probe_result_record
from probes.tests.test_services import DOWN, T0, UP, make_probe

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def api() -> Client:
    return Client()


@pytest.fixture
def probe():
    probe = make_probe(failure_threshold=2)
    for i, result in enumerate([UP, DOWN, DOWN, UP]):
        at = T0 + i * MINUTE
        probe_result_record(probe_id=probe.pk, region="local", slot=at, result=result, checked_at=at)
    probe.refresh_from_db()
    return probe


def test_probe_list_shows_state_and_filters_by_service(api, probe):
    other = make_service("amazon", "Amazon")
    make_probe(service=other, name="home")
    make_probe(service=other, name="off", enabled=False)
    body = api.get("/api/v1/probes/").json()
    assert body["count"] == 2
    only = api.get("/api/v1/probes/?service=tiktok-shop").json()["results"]
    assert len(only) == 1
    item = only[0]
    assert item["id"] == probe.pk
    assert item["service"] == "tiktok-shop"
    assert item["state"] == ProbeState.DOWN
    assert item["regions"] == ["local"]
    assert item["kind"] == "http"
    assert api.get("/api/v1/probes/?service=nope").json()["count"] == 0


def test_probe_targets_are_shown_without_their_credentials(api, probe):
    target = "https://monitor:s3cret-pw@shop.example/health?region=eu&api_key=k-123&Access_Token=t-456&sig=x9#top"
    Probe.objects.filter(pk=probe.pk).update(target=target)
    response = api.get("/api/v1/probes/")
    shown = response.json()["results"][0]["target"]
    assert shown == "https://***@shop.example/health?region=eu&api_key=***&Access_Token=***&sig=***#top"
    for secret in ("monitor", "s3cret-pw", "k-123", "t-456", "x9"):
        assert secret not in response.content.decode()


def test_a_secret_in_the_fragment_is_redacted_too(api, probe):
    Probe.objects.filter(pk=probe.pk).update(target="https://shop.example/cb#access_token=t-789&state=ok")
    shown = api.get("/api/v1/probes/").json()["results"][0]["target"]
    assert shown == "https://shop.example/cb#access_token=***&state=ok"


@pytest.mark.parametrize(
    "target",
    ["https://shop.example/health?region=eu", "shop.example:443", "shop.example", "http://[2001:db8::1]:8080/"],
)
def test_targets_without_credentials_are_shown_as_written(api, probe, target):
    Probe.objects.filter(pk=probe.pk).update(target=target)
    assert api.get("/api/v1/probes/").json()["results"][0]["target"] == target


def test_results_are_newest_first_and_windowed(api, probe):
    body = api.get(f"/api/v1/probes/{probe.pk}/results/").json()
    assert [r["outcome"] for r in body["results"]] == ["up", "down", "down", "up"]
    assert body["results"][1]["error"] == "timeout"
    assert set(body["results"][0]) == {
        "region",
        "checked_at",
        "outcome",
        "latency_ms",
        "status_code",
        "error",
        "message",
    }
    since = (T0 + MINUTE).isoformat().replace("+00:00", "Z")
    until = (T0 + 3 * MINUTE).isoformat().replace("+00:00", "Z")
    window = api.get(f"/api/v1/probes/{probe.pk}/results/", {"since": since, "until": until}).json()
    assert [r["outcome"] for r in window["results"]] == ["down", "down"]


def test_results_paginate_with_a_cursor(api, probe):
    first = api.get(f"/api/v1/probes/{probe.pk}/results/?page_size=3").json()
    assert len(first["results"]) == 3
    second = api.get(first["next"]).json()
    assert [r["outcome"] for r in second["results"]] == ["up"]
    assert second["next"] is None


@pytest.mark.parametrize(
    "position",
    ["0001-01-01 00:00:00%2B14:00", "9999-12-31 23:59:59-14:00", "not a date", "2026-13-45 99:00:00"],
)
@pytest.mark.parametrize("path", ["results", "events"])
def test_a_crafted_cursor_is_404_invalid_cursor_not_500(probe, position, path):
    cursor = base64.b64encode(f"o=0&r=0&p={position}".encode()).decode()
    api = Client(raise_request_exception=False)
    response = api.get(f"/api/v1/probes/{probe.pk}/{path}/", {"cursor": cursor})
    assert response.status_code == 404, response.content
    assert response.json()["errors"] == {"cursor": ["Invalid cursor: follow the next and previous links as given."]}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=yesterday", "since"),
        ("until=2026-13-01", "until"),
        ("since=2026-11-27T00:00Z&until=2026-11-26T00:00Z", "until"),
    ],
)
def test_bad_time_ranges_are_400_naming_the_field(api, probe, query, field):
    response = api.get(f"/api/v1/probes/{probe.pk}/results/?{query}")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_events_list_state_changes_with_evidence(api, probe):
    events = api.get(f"/api/v1/probes/{probe.pk}/events/").json()["results"]
    overall = [(e["from_state"], e["to_state"]) for e in events if e["region"] == ""]
    assert overall == [("up", "down"), ("unknown", "up")]
    went_down = next(e for e in events if e["region"] == "local" and e["to_state"] == "down")
    assert [r["outcome"] for r in went_down["evidence"]["results"]] == ["down", "down"]


def test_unknown_probe_is_404(api):
    for path in ("results", "events"):
        response = api.get(f"/api/v1/probes/999999/{path}/")
        assert response.status_code == 404
        assert "probe" in response.json()["errors"]
