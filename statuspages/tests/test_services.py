"""Claiming and polling pages against a real loopback server: levels, snapshots, incidents, back-off."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading

import pytest
from django.db import connections

from statuspages.demo.server import Route, fixture
from statuspages.kinds import IncidentStatus, OfficialLevel, PageKind
from statuspages.models import ProviderIncident, StatusPage, StatusSnapshot
from statuspages.services import incidentio_fallback_url, status_page_poll, status_page_poll_now, status_pages_claim_due
from statuspages.tests.conftest import NOW
from statuspages.tests.factories import make_page

pytestmark = pytest.mark.django_db
MINUTE = dt.timedelta(minutes=1)


def poll(page, now=NOW):
    return status_page_poll_now(page=page, now=now, rng=random.Random(1))


def serve(pages, path, name, encoding="utf-8", anchor=NOW, **kwargs):
    pages.routes[path] = Route(fixture(name, anchor, encoding), **kwargs)
    return pages.url(path)


# --- claiming ---------------------------------------------------------------------------------


def test_a_due_page_is_claimed_once_even_by_two_schedulers(allowed):
    page = make_page(allowed.url("/s.json"), next_poll_at=NOW - MINUTE)
    first = status_pages_claim_due(now=NOW)
    second = status_pages_claim_due(now=NOW)
    assert [c.page_id for c in first] == [page.pk]
    assert second == []


def test_a_claim_is_polled_once_a_redelivered_task_does_nothing(allowed):
    url = serve(allowed, "/s.json", "atlassian_ok.json")
    make_page(url, next_poll_at=NOW - MINUTE)
    (claim,) = status_pages_claim_due(now=NOW)
    assert status_page_poll(page_id=claim.page_id, token=claim.token, now=NOW) is not None
    assert status_page_poll(page_id=claim.page_id, token=claim.token, now=NOW) is None
    assert len(allowed.requests) == 1


def test_a_disabled_page_or_an_inactive_service_is_not_claimed(allowed):
    page = make_page(allowed.url("/s.json"), next_poll_at=NOW - MINUTE, enabled=False)
    assert status_pages_claim_due(now=NOW) == []
    page.enabled = True
    page.save()
    page.service.active = False
    page.service.save()
    assert status_pages_claim_due(now=NOW) == []


def test_the_next_poll_is_the_interval_plus_jitter(allowed, settings):
    settings.STATUSPAGES_JITTER_SECONDS = 30
    page = poll(make_page(serve(allowed, "/s.json", "atlassian_ok.json"), interval_seconds=60))
    assert NOW + dt.timedelta(seconds=60) <= page.next_poll_at <= NOW + dt.timedelta(seconds=90)
    assert page.claim == ""


# --- levels and snapshots ---------------------------------------------------------------------


def test_a_page_with_an_incident_is_read_and_its_incident_stored(allowed):
    page = poll(make_page(serve(allowed, "/s.json", "atlassian_incident.json")))
    assert (page.level, page.stale, page.fetched_at, page.failures) == (OfficialLevel.PARTIAL_OUTAGE, False, NOW, 0)
    assert page.snapshot.components[2] == {"name": "Payments", "level": "major_outage"}
    incident = ProviderIncident.objects.get(page=page)
    assert (incident.provider_id, incident.status, incident.resolved_at) == (
        "p31zjtct2jer",
        IncidentStatus.IDENTIFIED,
        None,
    )
    assert [u["id"] for u in incident.updates] == ["0pq9k3lr8m2c", "h6kl0tqcbx5v"]


def test_304_keeps_the_snapshot_and_counts_as_fresh(allowed):
    page = poll(make_page(serve(allowed, "/s.json", "atlassian_incident.json")))
    page = poll(page, now=NOW + 2 * MINUTE)
    assert allowed.requests[-1][1]["If-None-Match"] == page.etag
    assert (page.level, page.stale, page.fetched_at) == (OfficialLevel.PARTIAL_OUTAGE, False, NOW + 2 * MINUTE)
    assert StatusSnapshot.objects.filter(page=page).count() == 1


def test_a_failed_fetch_is_unknown_never_operational_and_keeps_the_last_good_snapshot_stale(allowed):
    url = serve(allowed, "/s.json", "atlassian_ok.json")
    page = poll(make_page(url))
    good = page.snapshot
    assert page.level == OfficialLevel.OPERATIONAL
    allowed.routes["/s.json"] = Route(b"upstream down", status=502, conditional=False)
    page = poll(page, now=NOW + 2 * MINUTE)
    assert (page.level, page.stale, page.reason) == (OfficialLevel.UNKNOWN, True, "HTTP 502")
    assert page.snapshot == good
    assert page.fetched_at == NOW  # the last good reading
    assert page.failures == 1
    # Back to normal: fresh again.
    allowed.routes["/s.json"] = Route(fixture("atlassian_ok.json", NOW))
    page = poll(page, now=NOW + 10 * MINUTE)
    assert (page.level, page.stale, page.failures) == (OfficialLevel.OPERATIONAL, False, 0)


@pytest.mark.parametrize(
    "route",
    [
        Route(b'{"status": {"indicator": "none"', conditional=False),  # malformed
        Route(b"[" + b"0," * 600_000 + b"0]", conditional=False),  # huge
        Route(b'{"status": {"indicator": "none"}}' * 3, drip=0.05, conditional=False),  # slow
        Route('{"status": {"indicator": "café"}}'.encode("utf-16-le"), conditional=False),  # wrong encoding
    ],
    ids=["malformed", "huge", "slow", "wrong-encoding"],
)
def test_hostile_pages_make_the_level_unknown_with_a_reason(allowed, settings, route):
    settings.STATUSPAGES_MAX_BYTES = 1_000_000
    settings.STATUSPAGES_TIMEOUT_SECONDS = 1
    allowed.routes["/s.json"] = route
    page = poll(make_page(allowed.url("/s.json")))
    assert page.level == OfficialLevel.UNKNOWN
    assert page.stale
    assert page.reason


def test_429_backs_off_for_retry_after_and_marks_the_page_unknown(allowed):
    page = poll(make_page(serve(allowed, "/s.json", "atlassian_ok.json"), interval_seconds=60))
    allowed.routes["/s.json"] = Route(b"", status=429, headers={"Retry-After": "900"}, conditional=False)
    page = poll(page, now=NOW + 2 * MINUTE)
    assert page.level == OfficialLevel.UNKNOWN
    assert page.reason.startswith("rate limited")
    assert page.next_poll_at >= NOW + 2 * MINUTE + dt.timedelta(seconds=900)
    assert page.etag  # kept: the body it describes is still the last good one


def test_consecutive_failures_back_off_up_to_an_hour(allowed, settings):
    settings.STATUSPAGES_JITTER_SECONDS = 0
    allowed.routes["/s.json"] = Route(b"", status=500, conditional=False)
    page = make_page(allowed.url("/s.json"), interval_seconds=60)
    delays = []
    for i in range(8):
        page = poll(page, now=NOW + i * dt.timedelta(hours=2))
        delays.append((page.next_poll_at - (NOW + i * dt.timedelta(hours=2))).total_seconds())
    assert delays[:3] == [120, 240, 480]
    assert max(delays) == 3600


def test_snapshots_are_stored_on_change_only_and_bounded(allowed, monkeypatch):
    monkeypatch.setattr("statuspages.services.SNAPSHOTS_KEPT", 6)
    page = make_page(allowed.url("/s.json"))
    ok = fixture("atlassian_ok.json", NOW)
    minor = ok.replace(b'"indicator": "none"', b'"indicator": "minor"')
    for i in range(10):
        # A body without validators each time, alternating: every reading is a change.
        allowed.routes["/s.json"] = Route(minor if i % 2 else ok, conditional=False)
        page = poll(page, now=NOW + i * MINUTE)
    assert StatusSnapshot.objects.filter(page=page).count() == 6
    allowed.routes["/s.json"] = Route(ok, conditional=False)
    page = poll(page, now=NOW + 1000 * MINUTE)
    page = poll(page, now=NOW + 1001 * MINUTE)
    assert StatusSnapshot.objects.filter(page=page, fetched_at=NOW + 1001 * MINUTE).count() == 0


# --- incidents --------------------------------------------------------------------------------


def test_an_incident_that_leaves_the_summary_is_resolved_when_noticed(allowed):
    page = poll(make_page(serve(allowed, "/s.json", "atlassian_incident.json")))
    allowed.routes["/s.json"] = Route(fixture("atlassian_ok.json", NOW))
    page = poll(page, now=NOW + 5 * MINUTE)
    incident = ProviderIncident.objects.get(page=page)
    assert (incident.status, incident.resolved_at) == (IncidentStatus.RESOLVED, NOW + 5 * MINUTE)
    assert page.level == OfficialLevel.OPERATIONAL


def test_new_updates_are_merged_into_the_incident_once(allowed):
    data = json.loads(fixture("atlassian_incident.json", NOW))
    page = poll(make_page(serve(allowed, "/s.json", "atlassian_incident.json")))
    data["incidents"][0]["status"] = "monitoring"
    data["incidents"][0]["incident_updates"].insert(
        0, {"id": "m0n1t0r1ng00", "status": "monitoring", "body": "A fix is out.", "created_at": "2026-11-26T19:29:00Z"}
    )
    allowed.routes["/s.json"] = Route(json.dumps(data).encode())
    page = poll(page, now=NOW + MINUTE)
    page = poll(page, now=NOW + 2 * MINUTE)
    incident = ProviderIncident.objects.get(page=page)
    assert incident.status == IncidentStatus.MONITORING
    assert [u["id"] for u in incident.updates] == ["0pq9k3lr8m2c", "h6kl0tqcbx5v", "m0n1t0r1ng00"]


def test_incidentio_falls_back_to_its_statuspage_summary(allowed):
    allowed.routes["/api/v1/summary"] = Route(b"not found", status=404, conditional=False)
    serve(allowed, "/api/v2/summary.json", "atlassian_incident.json")
    page = poll(make_page(allowed.url("/api/v1/summary"), kind=PageKind.INCIDENTIO))
    assert page.level == OfficialLevel.PARTIAL_OUTAGE
    assert "read /api/v2/summary.json" in page.reason
    assert page.etag == ""  # the fallback's validators are not the widget's
    assert [p for p, _ in allowed.requests] == ["/api/v1/summary", "/api/v2/summary.json"]


@pytest.mark.parametrize(
    ("url", "fallback"),
    [
        ("https://status.example.com/api/v1/summary", "https://status.example.com/api/v2/summary.json"),
        ("https://example.com/status/api/v1/summary?x=1", "https://example.com/status/api/v2/summary.json"),
        ("https://status.example.com/widget", "https://status.example.com/api/v2/summary.json"),
    ],
)
def test_incidentio_fallback_sits_beside_the_widget_endpoint(url, fallback):
    assert incidentio_fallback_url(url) == fallback


def test_incidentio_widget_is_read_when_it_answers(allowed):
    page = poll(make_page(serve(allowed, "/api/v1/summary", "incidentio.json"), kind=PageKind.INCIDENTIO))
    assert (page.level, page.reason) == (OfficialLevel.DEGRADED, "")
    assert ProviderIncident.objects.get(page=page).updates[0]["body"].startswith("A fix has been deployed")


@pytest.mark.parametrize(
    ("kind", "name", "encoding", "level"),
    [
        (PageKind.INSTATUS, "instatus_issues.json", "utf-8", OfficialLevel.PARTIAL_OUTAGE),
        (PageKind.BETTERSTACK, "betterstack.json", "utf-8", OfficialLevel.DEGRADED),
        (PageKind.GCP, "gcp.json", "utf-8", OfficialLevel.PARTIAL_OUTAGE),
        (PageKind.AWS, "aws.json", "utf-16", OfficialLevel.PARTIAL_OUTAGE),
        (PageKind.FEED, "feed_open.rss", "utf-8", OfficialLevel.PARTIAL_OUTAGE),
        (PageKind.FEED, "feed.atom", "utf-8", OfficialLevel.OPERATIONAL),
    ],
)
def test_every_kind_is_polled_over_http(allowed, kind, name, encoding, level):
    page = poll(make_page(serve(allowed, "/page", name, encoding), kind=kind))
    assert page.level == level, page.reason
    assert not page.stale


def test_without_the_allowance_a_loopback_page_is_blocked_and_unknown(pages, settings):
    settings.STATUSPAGES_ALLOW_PRIVATE = False
    settings.STATUSPAGES_ALLOWED_ADDRESSES = []
    page = poll(make_page(serve(pages, "/s.json", "atlassian_ok.json")))
    assert page.level == OfficialLevel.UNKNOWN
    assert page.reason.startswith("blocked:")
    assert pages.requests == []


def test_changing_the_url_forgets_the_validators(allowed):
    from statuspages.catalog import StatusPageSpec, status_page_sync

    page = poll(make_page(serve(allowed, "/s.json", "atlassian_ok.json")))
    assert page.etag
    status_page_sync(service=page.service, spec=StatusPageSpec(PageKind.ATLASSIAN, allowed.url("/t.json"), 120, True))
    page = StatusPage.objects.get(pk=page.pk)
    assert (page.etag, page.stale) == ("", True)


@pytest.mark.django_db(transaction=True)
def test_concurrent_schedulers_claim_each_page_once(postgres):
    from catalog.tests.factories import make_service

    pages = [
        StatusPage.objects.create(
            service=make_service(f"s{i}", f"S{i}"), kind="atlassian", url="https://s.example/", next_poll_at=NOW
        )
        for i in range(20)
    ]
    barrier = threading.Barrier(4)
    claimed: list[int] = []
    lock = threading.Lock()

    def scheduler() -> None:
        try:
            barrier.wait()
            got = status_pages_claim_due(now=NOW)
            with lock:
                claimed.extend(c.page_id for c in got)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(p.pk for p in pages)
