from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connections

from catalog.tests.factories import make_service
from probes.checkers import CheckResult
from probes.kinds import ErrorClass, Outcome, ProbeState
from probes.models import Probe, ProbeEvent, ProbeResult, ProbeRollup
from probes.services import (
    probe_result_record,
    probe_results_prune,
    probe_results_rollup,
    probe_results_rollup_and_prune,
    probes_claim_due,
)

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)

UP = CheckResult(outcome=Outcome.UP, latency_ms=120, status_code=200)
SLOW = CheckResult(outcome=Outcome.DEGRADED, latency_ms=4000, status_code=200, message="slow")
DOWN = CheckResult(outcome=Outcome.DOWN, latency_ms=2000, error=ErrorClass.TIMEOUT, message="timeout after 2.0 s")
OFFLINE = CheckResult(outcome=Outcome.INCONCLUSIVE, latency_ms=None, error=ErrorClass.OFFLINE, message="offline")


def make_probe(**kwargs) -> Probe:
    service = kwargs.pop("service", None) or make_service()
    defaults = {"name": "homepage", "kind": "http", "target": "https://example.com/", "next_run_at": T0}
    return Probe.objects.create(service=service, **(defaults | kwargs))


def feed(probe: Probe, results: list[CheckResult], region: str = "local", start: dt.datetime = T0) -> None:
    for i, result in enumerate(results):
        at = start + i * MINUTE
        probe_result_record(probe_id=probe.pk, region=region, slot=at, result=result, checked_at=at)


def test_results_move_the_probe_only_through_the_thresholds():
    probe = make_probe(failure_threshold=3, success_threshold=2)
    feed(probe, [UP, DOWN, DOWN])
    probe.refresh_from_db()
    assert probe.state == ProbeState.UP
    feed(probe, [DOWN], start=T0 + 3 * MINUTE)
    probe.refresh_from_db()
    assert probe.state == ProbeState.DOWN
    assert probe.state_since == T0 + 3 * MINUTE


def test_each_state_change_is_an_event_with_its_evidence():
    probe = make_probe(failure_threshold=3)
    feed(probe, [UP, DOWN, DOWN, DOWN, UP, UP])
    changes = [
        (e.region, e.from_state, e.to_state) for e in ProbeEvent.objects.filter(probe=probe).order_by("at", "id")
    ]
    assert changes == [
        ("local", "unknown", "up"),
        ("", "unknown", "up"),
        ("local", "up", "down"),
        ("", "up", "down"),
        ("local", "down", "up"),
        ("", "down", "up"),
    ]
    went_down = ProbeEvent.objects.get(probe=probe, region="local", to_state="down")
    evidence = went_down.evidence["results"]
    assert [r["outcome"] for r in evidence] == ["down", "down", "down"]
    assert evidence[0]["message"] == "timeout after 2.0 s"
    assert went_down.at == T0 + 3 * MINUTE


def test_offline_results_never_move_a_probe_down():
    probe = make_probe(failure_threshold=2)
    feed(probe, [UP] + [OFFLINE] * 10)
    probe.refresh_from_db()
    assert probe.state == ProbeState.UP
    assert ProbeResult.objects.filter(probe=probe, outcome=Outcome.INCONCLUSIVE).count() == 10


def test_a_redelivered_result_for_the_same_slot_is_ignored():
    probe = make_probe(failure_threshold=2)
    feed(probe, [UP])
    first = probe_result_record(probe_id=probe.pk, region="local", slot=T0 + MINUTE, result=DOWN, checked_at=T0)
    again = probe_result_record(probe_id=probe.pk, region="local", slot=T0 + MINUTE, result=DOWN, checked_at=T0)
    assert first is not None
    assert again is None
    assert ProbeResult.objects.filter(probe=probe).count() == 2
    probe.refresh_from_db()
    assert probe.state == ProbeState.UP  # one failure, not two


def test_a_late_result_is_stored_but_does_not_move_state():
    probe = make_probe(failure_threshold=1)
    feed(probe, [UP], start=T0 + 5 * MINUTE)
    recorded = probe_result_record(probe_id=probe.pk, region="local", slot=T0, result=DOWN, checked_at=T0)
    assert recorded is not None and recorded.region_event is None
    probe.refresh_from_db()
    assert probe.state == ProbeState.UP


def test_probe_is_down_only_when_a_majority_of_regions_says_so():
    probe = make_probe(regions=["eu", "us", "ap"], failure_threshold=1)
    for region in ("eu", "us", "ap"):
        feed(probe, [UP], region=region)
    feed(probe, [DOWN], region="eu", start=T0 + MINUTE)
    probe.refresh_from_db()
    assert probe.state == ProbeState.UP
    assert ProbeEvent.objects.filter(probe=probe, region="eu", to_state="down").exists()
    feed(probe, [DOWN], region="us", start=T0 + MINUTE)
    probe.refresh_from_db()
    assert probe.state == ProbeState.DOWN
    event = ProbeEvent.objects.get(probe=probe, region="", to_state="down")
    assert event.evidence["regions"] == {"eu": "down", "us": "down", "ap": "up"}


def test_two_regions_need_both_down():
    probe = make_probe(regions=["eu", "us"], failure_threshold=1)
    feed(probe, [UP, DOWN], region="eu")
    feed(probe, [UP], region="us")
    probe.refresh_from_db()
    assert probe.state == ProbeState.UP
    feed(probe, [DOWN], region="us", start=T0 + MINUTE)
    probe.refresh_from_db()
    assert probe.state == ProbeState.DOWN


def test_editing_regions_moves_the_probe_to_the_quorum_of_the_new_ones_on_the_next_result():
    probe = make_probe(regions=["eu", "us", "ap"], failure_threshold=1)
    for region in ("eu", "us", "ap"):
        feed(probe, [UP], region=region)
    for region in ("eu", "us"):
        feed(probe, [DOWN], region=region, start=T0 + MINUTE)
    probe.refresh_from_db()
    assert probe.state == ProbeState.DOWN
    # Only ap, which is up, is configured now; its next result changes no region's state.
    Probe.objects.filter(pk=probe.pk).update(regions=["ap"])
    recorded = probe_result_record(probe_id=probe.pk, region="ap", slot=T0 + 2 * MINUTE, result=UP, checked_at=T0)
    assert recorded is not None and recorded.region_event is None
    probe.refresh_from_db()
    assert probe.state == ProbeState.UP
    event = recorded.probe_event
    assert (event.from_state, event.to_state, event.evidence["trigger"]) == ("down", "up", None)


def test_a_degraded_event_from_down_carries_the_results_that_were_not_down():
    probe = make_probe(failure_threshold=1, success_threshold=2)
    feed(probe, [DOWN, UP, SLOW])
    event = ProbeEvent.objects.get(probe=probe, region="local", to_state="degraded")
    assert [r["outcome"] for r in event.evidence["results"]] == ["degraded", "up"]


def test_a_probe_whose_row_cannot_be_scheduled_does_not_stop_the_others(caplog):
    broken = make_probe(name="broken")
    Probe.objects.filter(pk=broken.pk).update(interval_seconds=0)  # past validation, as raw SQL could
    healthy = make_probe(name="healthy", service=broken.service)
    claims = probes_claim_due(now=T0)
    assert [c.probe_id for c in claims] == [healthy.pk]
    assert f"probe {broken.pk} cannot be scheduled" in caplog.text
    broken.refresh_from_db()
    assert broken.next_run_at == T0  # not claimed, so not lost: it runs once fixed


def test_claim_gives_each_due_slot_to_exactly_one_scheduler():
    probe = make_probe(interval_seconds=60)
    make_probe(name="later", next_run_at=T0 + 10 * MINUTE, service=probe.service)
    first = probes_claim_due(now=T0)
    second = probes_claim_due(now=T0)
    assert [(c.probe_id, c.slot) for c in first] == [(probe.pk, T0)]
    assert second == []
    probe.refresh_from_db()
    assert probe.next_run_at == T0 + MINUTE


def test_after_downtime_a_probe_runs_once_not_once_per_missed_slot():
    probe = make_probe(interval_seconds=60)
    claims = probes_claim_due(now=T0 + 60 * MINUTE + dt.timedelta(seconds=5))
    assert len(claims) == 1
    probe.refresh_from_db()
    assert probe.next_run_at == T0 + 61 * MINUTE
    assert probes_claim_due(now=T0 + 60 * MINUTE + dt.timedelta(seconds=59)) == []


def test_disabled_probes_and_inactive_services_are_not_scheduled():
    make_probe(enabled=False)
    make_probe(name="x", service=make_service("gone", "Gone", active=False))
    assert probes_claim_due(now=T0 + MINUTE) == []


def test_claims_default_to_the_configured_regions(settings):
    settings.PROBES_DEFAULT_REGIONS = ["local"]
    make_probe()
    make_probe(name="multi", regions=["eu", "us"], service=Probe.objects.get().service)
    regions = sorted(c.regions for c in probes_claim_due(now=T0))
    assert regions == [("eu", "us"), ("local",)]


@pytest.mark.django_db(transaction=True)
def test_concurrent_schedulers_claim_a_slot_once(postgres):
    probes = [make_probe(name=f"p{i}") for i in range(1)]
    for i in range(1, 20):
        probes.append(make_probe(name=f"p{i}", service=probes[0].service))
    barrier = threading.Barrier(4)
    claimed: list[int] = []
    lock = threading.Lock()

    def scheduler() -> None:
        try:
            barrier.wait()
            got = probes_claim_due(now=T0)
            with lock:
                claimed.extend(c.probe_id for c in got)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(p.pk for p in probes)


@pytest.mark.django_db(transaction=True)
def test_results_from_regions_arriving_at_once_all_apply(postgres):
    probe = make_probe(regions=["eu", "us", "ap"], failure_threshold=1)
    barrier = threading.Barrier(3)

    def report(region: str) -> None:
        try:
            barrier.wait()
            probe_result_record(probe_id=probe.pk, region=region, slot=T0, result=DOWN, checked_at=T0)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=report, args=(r,)) for r in ("eu", "us", "ap")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    probe.refresh_from_db()
    assert probe.state == ProbeState.DOWN
    assert ProbeEvent.objects.filter(probe=probe, region="").count() == 1


def test_rollup_counts_outcomes_and_latency_percentiles_per_hour():
    probe = make_probe()
    results = [UP] * 8 + [SLOW, DOWN] + [OFFLINE] * 2
    feed(probe, results)
    feed(probe, [UP], start=T0 + dt.timedelta(hours=1))
    assert probe_results_rollup(since=T0, until=T0 + dt.timedelta(hours=2)) == 2
    first = ProbeRollup.objects.get(probe=probe, hour=T0)
    assert (first.up, first.degraded, first.down, first.inconclusive) == (8, 1, 1, 2)
    assert first.uptime_percent == 90.0
    assert first.latency_p50_ms == 120
    assert first.latency_p95_ms == 4000
    # Idempotent: a second run writes the same numbers, no duplicates.
    probe_results_rollup(since=T0, until=T0 + dt.timedelta(hours=2))
    assert ProbeRollup.objects.filter(probe=probe).count() == 2
    assert ProbeRollup.objects.get(probe=probe, hour=T0).up == 8


def test_rollup_skips_the_hour_still_open():
    probe = make_probe()
    feed(probe, [UP, UP])
    assert probe_results_rollup(since=T0, until=T0 + 30 * MINUTE) == 0
    assert not ProbeRollup.objects.exists()


def test_prune_deletes_old_results_after_rolling_them_up(settings):
    settings.PROBES_RESULT_RETENTION_DAYS = 7
    probe = make_probe()
    feed(probe, [UP, DOWN, UP])
    now = T0 + dt.timedelta(days=8)
    feed(probe, [UP], start=now - MINUTE)
    assert probe_results_prune(now=now) == 3
    assert ProbeResult.objects.filter(probe=probe).count() == 1
    rollup = ProbeRollup.objects.get(probe=probe, hour=T0)
    assert (rollup.up, rollup.down) == (2, 1)


def test_periodic_rollup_catches_up_hours_missed_while_stopped():
    probe = make_probe()
    feed(probe, [UP])
    probe_results_rollup(since=T0, until=T0 + dt.timedelta(hours=1))
    for h in range(1, 6):
        feed(probe, [DOWN], start=T0 + dt.timedelta(hours=h))
    probe_results_rollup_and_prune(now=T0 + dt.timedelta(hours=6, minutes=5))
    assert ProbeRollup.objects.filter(probe=probe).count() == 6
