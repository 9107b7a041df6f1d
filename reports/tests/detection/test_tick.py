"""The detection tick over real rows: rollups, outages, timelines, probes, catch-up, concurrency."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connections
from django.test import Client

from catalog.models import IssueType
from catalog.tests.factories import make_service
from probes.kinds import ProbeState
from probes.models import Probe, ProbeEvent
from reports.detection.rollups import rollups_refresh
from reports.detection.tick import detection_tick
from reports.models import (
    Channel,
    Confidence,
    DetectorState,
    EventKind,
    Level,
    Outage,
    OutageEvent,
    OutageStatus,
    Report,
    ReportMinute,
    ServiceMinute,
)

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def add_reports(service, start: dt.datetime, per_minute: list[int], issue_type: str = "payment", country="DE"):
    """Counted reports, `per_minute[i]` of them in minute i after `start` (test data, written in bulk)."""
    it = IssueType.objects.get(service=service, key=issue_type)
    rows = []
    for i, n in enumerate(per_minute):
        for j in range(n):
            at = start + i * MINUTE + dt.timedelta(seconds=(j * 7) % 60)
            rows.append(
                Report(
                    service=service,
                    issue_type=it,
                    created_at=at,
                    channel=Channel.API,
                    counted=True,
                    country=country,
                )
            )
    Report.objects.bulk_create(rows)


def quiet(minutes: int, rate_pattern=(1, 0, 2, 1, 1, 0, 1, 2)) -> list[int]:
    return [rate_pattern[i % len(rate_pattern)] for i in range(minutes)]


@pytest.fixture
def shop():
    return make_service()


def scenario(shop, *, spike_at=180, spike=20, spike_minutes=20, after=40):
    """Three quiet hours, a spike of `spike` reports a minute, then quiet again."""
    add_reports(shop, T0, quiet(spike_at), "server")
    add_reports(shop, T0 + spike_at * MINUTE, [spike] * spike_minutes, "payment")
    add_reports(shop, T0 + (spike_at + spike_minutes) * MINUTE, quiet(after), "server")
    return T0 + spike_at * MINUTE, T0 + (spike_at + spike_minutes + after) * MINUTE


def test_spike_opens_an_outage_with_a_timeline_and_resolves_after_it(shop):
    spike, end = scenario(shop)
    detection_tick(service_id=shop.pk, now=end + MINUTE)
    outage = Outage.objects.get(service=shop)
    assert outage.status == OutageStatus.RESOLVED
    assert outage.confidence == Confidence.CROWD
    assert spike <= outage.started_at <= spike + 2 * MINUTE
    assert spike + 20 * MINUTE <= outage.resolved_at <= spike + 40 * MINUTE
    # Back to normal when the spike ended (the short windows clear within minutes), resolved
    # only once that calm has held for resolve_minutes.
    assert spike + 20 * MINUTE <= outage.ended_at <= spike + 26 * MINUTE
    assert outage.resolved_at - outage.ended_at >= 15 * MINUTE - MINUTE
    resolved = OutageEvent.objects.get(outage=outage, kind=EventKind.RESOLVED)
    assert outage.ended_at.isoformat() == resolved.data["back_to_normal_at"]
    assert outage.peak_count == 20 and spike <= outage.peak_at < spike + 20 * MINUTE
    assert outage.issue_types["payment"] >= 20 * 18
    assert outage.countries == {"DE": outage.countries["DE"]} and outage.countries["DE"] > 0
    kinds = list(OutageEvent.objects.filter(outage=outage).values_list("kind", flat=True))
    assert kinds[0] in (EventKind.OPENED, EventKind.REPORTS_RISING)
    assert EventKind.PEAK in kinds and kinds[-1] == EventKind.RESOLVED
    opened = OutageEvent.objects.get(outage=outage, kind=EventKind.OPENED)
    assert opened.data["actual"] > opened.data["expected"]
    state = DetectorState.objects.get(service=shop)
    assert state.level == Level.OK and state.last_minute == end - MINUTE
    assert ServiceMinute.objects.filter(service=shop).count() >= 240


def test_issue_mix_change_is_on_the_timeline(shop):
    add_reports(shop, T0, quiet(180), "server")
    spike = T0 + 180 * MINUTE
    add_reports(shop, spike, [20] * 10, "payment")
    add_reports(shop, spike + 10 * MINUTE, [40] * 15, "shipping")
    add_reports(shop, spike + 25 * MINUTE, quiet(40), "server")
    detection_tick(service_id=shop.pk, now=spike + 66 * MINUTE)
    outage = Outage.objects.get()
    change = OutageEvent.objects.get(outage=outage, kind=EventKind.ISSUE_MIX_CHANGED)
    assert (change.data["from"], change.data["to"]) == ("payment", "shipping")
    assert spike + 10 * MINUTE < change.at < spike + 25 * MINUTE
    assert max(outage.issue_types, key=outage.issue_types.get) == "shipping"


def test_ticking_minute_by_minute_gives_the_same_outage_as_catching_up_at_once(shop):
    spike, end = scenario(shop)
    other = make_service("amazon", "Amazon")
    add_reports(other, T0, quiet(180), "server")
    add_reports(other, spike, [20] * 20, "payment")
    add_reports(other, spike + 20 * MINUTE, quiet(40), "server")
    now = T0 + 2 * MINUTE
    while now <= end + MINUTE:
        detection_tick(service_id=shop.pk, now=now)
        now += 7 * MINUTE
    detection_tick(service_id=shop.pk, now=end + MINUTE)
    detection_tick(service_id=other.pk, now=end + MINUTE)
    a, b = Outage.objects.get(service=shop), Outage.objects.get(service=other)
    assert (a.started_at, a.resolved_at, a.peak_at) == (b.started_at, b.resolved_at, b.peak_at)


def test_a_second_tick_for_the_same_minutes_does_nothing(shop):
    _, end = scenario(shop)
    detection_tick(service_id=shop.pk, now=end + MINUTE)
    events = OutageEvent.objects.count()
    assert detection_tick(service_id=shop.pk, now=end + MINUTE).minutes == 0
    assert OutageEvent.objects.count() == events
    assert Outage.objects.count() == 1


def test_a_new_spike_soon_after_resolution_reopens_the_same_outage(shop):
    add_reports(shop, T0, quiet(180), "server")
    s1 = T0 + 180 * MINUTE
    add_reports(shop, s1, [20] * 15, "payment")
    add_reports(shop, s1 + 15 * MINUTE, quiet(25), "server")  # resolves ~20 minutes after the spike
    s2 = s1 + 40 * MINUTE
    add_reports(shop, s2, [25] * 10, "payment")
    add_reports(shop, s2 + 10 * MINUTE, quiet(40), "server")
    detection_tick(service_id=shop.pk, now=s2 + 51 * MINUTE)
    outage = Outage.objects.get()
    kinds = list(OutageEvent.objects.filter(outage=outage).values_list("kind", flat=True))
    assert kinds.count(EventKind.RESOLVED) == 2
    assert EventKind.REOPENED in kinds
    assert outage.peak_count == 25


def probe_down(shop, at: dt.datetime, up_at: dt.datetime | None = None) -> Probe:
    probe = Probe.objects.create(service=shop, name="homepage", kind="http", target="https://example.com/")
    ProbeEvent.objects.create(probe=probe, at=at, region="", from_state="up", to_state=ProbeState.DOWN, evidence={})
    if up_at:
        ProbeEvent.objects.create(probe=probe, at=up_at, region="", from_state="down", to_state=ProbeState.UP)
    return probe


def test_a_probe_down_by_quorum_opens_a_probe_outage(shop):
    add_reports(shop, T0, quiet(120), "server")
    probe_down(shop, T0 + 90 * MINUTE, up_at=T0 + 100 * MINUTE)
    detection_tick(service_id=shop.pk, now=T0 + 121 * MINUTE)
    outage = Outage.objects.get()
    assert outage.confidence == Confidence.PROBE
    assert outage.started_at == T0 + 90 * MINUTE
    kinds = list(OutageEvent.objects.filter(outage=outage).values_list("kind", flat=True))
    assert EventKind.PROBE_DOWN in kinds and EventKind.PROBE_UP in kinds and kinds[-1] == EventKind.RESOLVED
    assert outage.resolved_at >= T0 + 100 * MINUTE


def test_reports_and_probes_together_are_confirmed(shop):
    spike, end = scenario(shop)
    probe_down(shop, spike + 3 * MINUTE, up_at=spike + 15 * MINUTE)
    detection_tick(service_id=shop.pk, now=end + MINUTE)
    assert Outage.objects.get().confidence == Confidence.CONFIRMED


def test_probe_events_of_other_regions_do_not_count(shop):
    add_reports(shop, T0, quiet(120), "server")
    probe = Probe.objects.create(service=shop, name="homepage", kind="http", target="https://example.com/")
    ProbeEvent.objects.create(probe=probe, at=T0 + 60 * MINUTE, region="eu", from_state="up", to_state="down")
    detection_tick(service_id=shop.pk, now=T0 + 121 * MINUTE)
    assert not Outage.objects.exists()


def test_rollups_are_idempotent_and_take_late_reports(shop):
    add_reports(shop, T0, [3, 0, 2])
    rollups_refresh(service=shop, since=T0, until=T0 + 3 * MINUTE)
    rollups_refresh(service=shop, since=T0, until=T0 + 3 * MINUTE)
    assert list(ReportMinute.objects.order_by("minute").values_list("count", flat=True)) == [3, 2]
    add_reports(shop, T0 + MINUTE, [4])  # late: its minute was rolled up already
    rollups_refresh(service=shop, since=T0, until=T0 + 3 * MINUTE)
    assert list(ReportMinute.objects.order_by("minute").values_list("count", flat=True)) == [3, 4, 2]


@pytest.mark.django_db(transaction=True)
def test_two_workers_ticking_at_once_make_one_outage(postgres, shop):
    _, end = scenario(shop)
    barrier = threading.Barrier(2)
    errors = []

    def tick():
        try:
            barrier.wait()
            detection_tick(service_id=shop.pk, now=end + MINUTE)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Outage.objects.count() == 1
    assert OutageEvent.objects.filter(kind=EventKind.OPENED).count() == 1
    detection_tick(service_id=shop.pk, now=end + MINUTE)
    assert ServiceMinute.objects.filter(service=shop).count() == (end - T0) // MINUTE


def test_outages_api_lists_and_shows_the_timeline(shop):
    _, end = scenario(shop)
    detection_tick(service_id=shop.pk, now=end + MINUTE)
    api = Client()
    listing = api.get("/api/v1/outages/?service=tiktok-shop&status=resolved").json()
    assert len(listing["results"]) == 1 and listing["next"] is None
    outage_id = listing["results"][0]["id"]
    detail = api.get(f"/api/v1/outages/{outage_id}/").json()
    assert detail["service"] == "tiktok-shop" and detail["confidence"] == "crowd"
    times = [e["at"] for e in detail["timeline"]]
    assert times == sorted(times)
    assert detail["timeline"][-1]["kind"] == "resolved"
    assert api.get("/api/v1/outages/?status=bogus").status_code == 400
    assert api.get("/api/v1/outages/999999/").status_code == 404


def test_service_detail_shows_status_and_expected_vs_actual(shop):
    spike, _ = scenario(shop)
    detection_tick(service_id=shop.pk, now=spike + 10 * MINUTE)
    body = Client().get("/api/v1/services/tiktok-shop/").json()
    assert body["status"] == "outage"
    outage = Outage.objects.get(service=shop)
    assert body["status_since"] == outage.started_at.strftime("%Y-%m-%dT%H:%M:%SZ")  # the same minute everywhere
    assert body["window_minutes"] == 15
    assert body["actual"] > 5 * body["expected"] > 0


def test_an_open_outages_countries_keep_up_with_its_reports(shop):
    spike, _ = scenario(shop)  # the spike starts on the hour: its hour holds only outage reports
    detection_tick(service_id=shop.pk, now=spike + 5 * MINUTE)
    detection_tick(service_id=shop.pk, now=spike + 15 * MINUTE)  # minutes without a timeline event
    outage = Outage.objects.get(service=shop, status=OutageStatus.OPEN)
    # The crowd needs two rows to open an outage (issue 12): the spike's first minute is in
    # the hour's countries but before the outage's own issue-type counts.
    assert sum(outage.issue_types.values()) > 20 * 10
    assert sum(outage.countries.values()) - sum(outage.issue_types.values()) == 20


def test_service_detail_says_how_old_its_status_is(shop):
    spike, _ = scenario(shop)
    now = spike + 10 * MINUTE
    detection_tick(service_id=shop.pk, now=now)  # processes up to 2 minutes before now
    with time_machine.travel(now, tick=False):
        fresh = Client().get("/api/v1/services/tiktok-shop/").json()
    assert fresh["status_as_of"] == (now - MINUTE).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert fresh["status_stale"] is False
    with time_machine.travel(now + 10 * MINUTE, tick=False):  # the workers stopped meanwhile
        stale = Client().get("/api/v1/services/tiktok-shop/").json()
    assert stale["status_stale"] is True and stale["status"] == "outage"  # the old verdict, flagged


def test_service_page_shows_the_verdict(shop):
    spike, _ = scenario(shop)
    page = Client().get("/s/tiktok-shop/").content.decode()
    assert "No problems detected at TikTok Shop" in page
    detection_tick(service_id=shop.pk, now=spike + 10 * MINUTE)
    page = Client().get("/s/tiktok-shop/").content.decode()
    assert "Outage: users report problems with TikTok Shop" in page


def test_service_detail_lists_most_reported_problems_with_the_spiking_one(shop):
    spike, _ = scenario(shop)
    detection_tick(service_id=shop.pk, now=spike + 10 * MINUTE)
    body = Client().get("/api/v1/services/tiktok-shop/").json()
    top = body["problems"][0]
    assert (top["key"], top["spiking"]) == ("payment", True)
    assert top["percent"] > 80
    assert {p["key"] for p in body["problems"]} == {"server", "payment", "inventory", "shipping"}
    assert body["band"][0] <= body["expected"] <= body["band"][1] < body["actual"]


def test_after_an_outage_of_one_type_the_others_are_not_flagged_as_spiking(shop):
    # Right after a payment outage, server reports are back at their usual rate: the outage's
    # minutes must not count as the usual mix, or server would look far above its share.
    _, end = scenario(shop, after=20)
    detection_tick(service_id=shop.pk, now=end + MINUTE)
    body = Client().get("/api/v1/services/tiktok-shop/").json()
    assert body["status"] == "ok"
    assert not any(p["spiking"] for p in body["problems"]), body["problems"]


def test_inconclusive_probe_results_never_open_an_outage(shop):
    from probes.checkers import CheckResult
    from probes.kinds import ErrorClass, Outcome
    from probes.services import probe_result_record

    add_reports(shop, T0, quiet(120), "server")
    probe = Probe.objects.create(service=shop, name="homepage", kind="http", target="https://example.com/")
    offline = CheckResult(outcome=Outcome.INCONCLUSIVE, latency_ms=None, error=ErrorClass.OFFLINE, message="offline")
    for i in range(30):
        at = T0 + (60 + i) * MINUTE
        probe_result_record(probe_id=probe.pk, region="local", slot=at, result=offline, checked_at=at)
    detection_tick(service_id=shop.pk, now=T0 + 121 * MINUTE)
    assert not Outage.objects.exists()
    probe.refresh_from_db()
    assert probe.state == ProbeState.UNKNOWN


def test_report_counts_read_closed_minutes_from_rollups_and_only_the_open_minute_raw(shop):
    from reports.selectors.status import report_counts

    add_reports(shop, T0, [2] * 30)  # 12:00-12:29
    detection_tick(service_id=shop.pk, now=T0 + 30 * MINUTE)  # 12:29 is not settled yet: rolls up to 12:28
    add_reports(shop, T0 + 30 * MINUTE, [3])  # the open minute, 12:30
    now = T0 + 30 * MINUTE + dt.timedelta(seconds=50)
    counts = report_counts(service=shop, now=now)
    assert (counts.last_15_minutes, counts.last_24_hours) == (31, 63)  # 14 x 2 + 3; 30 x 2 + 3
    # Proof the rolled-up minutes come from rollups: their raw reports can go.
    Report.objects.filter(created_at__lt=T0 + 29 * MINUTE).delete()
    counts = report_counts(service=shop, now=now)
    assert (counts.last_15_minutes, counts.last_24_hours) == (31, 63)


def test_status_is_outage_exactly_while_one_is_open(shop):
    _, end = scenario(shop)
    detection_tick(service_id=shop.pk, now=end + MINUTE)
    outage = Outage.objects.get()
    levels = dict(ServiceMinute.objects.filter(service=shop).values_list("minute", "level"))
    outage_minutes = {m for m, level in levels.items() if level == Level.OUTAGE}
    # Shown as an outage from the minute it opened (before that, live, it was "possible"); the
    # outage itself is dated from where the surge began, a minute or more earlier.
    opened = OutageEvent.objects.get(outage=outage, kind=EventKind.OPENED).at
    assert min(outage_minutes) == opened and outage.started_at <= opened
    assert max(outage_minutes) < outage.resolved_at
    assert all(levels[m] != Level.OUTAGE for m in levels if m >= outage.resolved_at)
    assert DetectorState.objects.get(service=shop).level == Level.OK


def test_services_filter_by_status_and_show_it(shop):
    make_service("amazon", "Amazon")
    spike, _ = scenario(shop)
    detection_tick(service_id=shop.pk, now=spike + 10 * MINUTE)
    api = Client()
    statuses = {s["slug"]: s["status"] for s in api.get("/api/v1/services/").json()["results"]}
    assert statuses == {"tiktok-shop": "outage", "amazon": "ok"}
    assert [s["slug"] for s in api.get("/api/v1/services/?status=outage").json()["results"]] == ["tiktok-shop"]
    assert [s["slug"] for s in api.get("/api/v1/services/?status=ok").json()["results"]] == ["amazon"]
    assert api.get("/api/v1/services/?status=down").status_code == 400


def test_comments_list_only_visible_ones_newest_first_without_reporters(shop):
    from reports.models import CommentState
    from reports.tests.factories import BOB, file_report

    file_report(shop, comment="checkout broken", now=T0)
    file_report(shop, "shipping", client=BOB, comment="parcel lost", now=T0 + MINUTE)
    hidden = file_report(shop, comment="spam", now=T0 + 2 * MINUTE)
    hidden.comment_state = CommentState.HIDDEN
    hidden.save()
    file_report(shop, now=T0 + 3 * MINUTE)  # no comment
    body = Client().get("/api/v1/services/tiktok-shop/comments/").json()
    assert [c["comment"] for c in body["results"]] == ["parcel lost", "checkout broken"]
    assert set(body["results"][0]) == {"created_at", "issue_type", "comment", "country"}
    assert Client().get("/api/v1/services/nope/comments/").status_code == 404
