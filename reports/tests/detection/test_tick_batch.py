"""The batched detection tick: what each service's own tick does, for many at once, each minute once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connections

from catalog.models import Service
from catalog.tests.factories import make_service
from reports.detection import tick
from reports.detection.tick import detection_tick, detection_tick_many
from reports.models import (
    CountryHour,
    DetectorState,
    EventKind,
    Outage,
    OutageEvent,
    OutageStatus,
    ReportMinute,
    ServiceMinute,
)
from reports.tests.detection.test_tick import add_reports, probe_down, quiet

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
END = T0 + 240 * MINUTE  # the last tick processes every minute before this
RESOLVING_SPIKE = T0 + 150 * MINUTE
KINDS = ("spiking", "quiet", "resolving", "probe")


def world(prefix: str) -> dict[str, Service]:
    """Four services: a spike, quiet traffic, a spike whose outage resolves later, a probe down for 10 minutes."""
    services = {kind: make_service(f"{prefix}-{kind}", f"{prefix} {kind}") for kind in KINDS}
    add_reports(services["spiking"], T0, quiet(180), "server")
    add_reports(services["spiking"], T0 + 180 * MINUTE, [20] * 20, "payment", country="US")
    add_reports(services["spiking"], T0 + 200 * MINUTE, quiet(40), "server")
    add_reports(services["quiet"], T0, quiet(240), "server")
    add_reports(services["resolving"], T0, quiet(150), "server")
    add_reports(services["resolving"], RESOLVING_SPIKE, [25] * 15, "shipping")
    add_reports(services["resolving"], RESOLVING_SPIKE + 15 * MINUTE, quiet(75), "server")
    add_reports(services["probe"], T0, quiet(240), "server")
    probe_down(services["probe"], T0 + 90 * MINUTE, up_at=T0 + 100 * MINUTE)
    return services


def record(service: Service) -> dict:
    """Everything a tick leaves for a service, in terms that do not depend on row ids."""
    state = DetectorState.objects.get(service=service)
    outages = []
    for outage in Outage.objects.filter(service=service).order_by("started_at"):
        events = []
        for kind, at, data in (
            OutageEvent.objects.filter(outage=outage).order_by("at", "id").values_list("kind", "at", "data")
        ):
            events.append((kind, at, {k: v for k, v in data.items() if k != "probe"}))  # a probe's id differs
        outages.append(
            (
                outage.status,
                outage.confidence,
                outage.level,
                outage.started_at,
                outage.resolved_at,
                outage.ended_at,
                (outage.peak_at, outage.peak_count, outage.peak_expected),
                outage.issue_types,
                outage.countries,
                (outage.reports_confirmed, outage.probes_confirmed, outage.official_confirmed),
                events,
            )
        )
    return {
        "minutes": list(
            ServiceMinute.objects.filter(service=service)
            .order_by("minute")
            .values_list("minute", "count", "expected", "dispersion", "level")
        ),
        "state": (state.last_minute, state.level, state.level_since, state.state),
        "outages": outages,
        "report_minutes": sorted(
            ReportMinute.objects.filter(service=service).values_list("minute", "issue_type__key", "count")
        ),
        "country_hours": sorted(CountryHour.objects.filter(service=service).values_list("hour", "country", "count")),
    }


@pytest.mark.parametrize("chunk, budget", [(tick.CHUNK_MINUTES, tick.BATCH_MINUTES), (60, 100)])
def test_a_batch_tick_leaves_each_service_what_its_own_tick_leaves(monkeypatch, chunk, budget):
    # (60, 100): every service catches up in chunks over several passes, each pass in several transactions.
    monkeypatch.setattr(tick, "CHUNK_MINUTES", chunk)
    monkeypatch.setattr(tick, "BATCH_MINUTES", budget)
    alone, together = world("alone"), world("together")
    with time_machine.travel(END, tick=False):  # a new detector row is stamped with the wall clock
        # The resolving service's outage opens in an earlier tick; the last tick resolves it.
        detection_tick(service_id=alone["resolving"].pk, now=RESOLVING_SPIKE + 10 * MINUTE)
        before = detection_tick_many(service_ids=[together["resolving"].pk], now=RESOLVING_SPIKE + 10 * MINUTE)
        assert Outage.objects.get(service=together["resolving"]).status == OutageStatus.OPEN
        for service in alone.values():
            detection_tick(service_id=service.pk, now=END + MINUTE)
        result = detection_tick_many(service_ids=[s.pk for s in together.values()], now=END + MINUTE)
    for kind in KINDS:
        assert record(together[kind]) == record(alone[kind]), kind
    assert result.minutes == 4 * 240 - before.minutes
    assert result.opened == 2  # the spike's and the probe's
    outages = {kind: list(Outage.objects.filter(service=together[kind])) for kind in KINDS}
    assert [o.status for o in outages["resolving"]] == [OutageStatus.RESOLVED]
    assert [o.confidence for o in outages["probe"]] == ["probe"] and outages["quiet"] == []
    assert [o.status for o in outages["spiking"]] == [OutageStatus.RESOLVED]
    assert outages["spiking"][0].countries["US"] == 20 * 20


def test_a_batch_skips_inactive_services_and_a_second_batch_finds_nothing_to_do():
    services = world("batch")
    services["quiet"].active = False
    services["quiet"].save()
    ids = [s.pk for s in services.values()]
    first = detection_tick_many(service_ids=ids, now=END + MINUTE)
    assert first.minutes == 3 * 240
    assert not DetectorState.objects.filter(service=services["quiet"]).exists()
    events = OutageEvent.objects.count()
    again = detection_tick_many(service_ids=ids, now=END + MINUTE)
    assert (again.minutes, again.opened, OutageEvent.objects.count()) == (0, 0, events)


@pytest.mark.django_db(transaction=True)
def test_two_batch_ticks_at_once_process_each_service_minute_once(postgres, monkeypatch):
    monkeypatch.setattr(tick, "BATCH_MINUTES", 500)  # several transactions each, for the two to interleave
    services = [make_service(f"shop-{i}", f"Shop {i}") for i in range(6)]
    for i, service in enumerate(services):
        add_reports(service, T0, quiet(180), "server")
        add_reports(service, T0 + 180 * MINUTE, [20 if i % 2 == 0 else 1] * 20, "payment")
        add_reports(service, T0 + 200 * MINUTE, quiet(40), "server")
    ids = [s.pk for s in services]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(detection_tick_many(service_ids=ids, now=END + MINUTE))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    # Between them the two did every service-minute exactly once.
    assert sum(r.minutes for r in results) == len(services) * 240
    assert sum(r.opened for r in results) == 3 == Outage.objects.count()
    assert OutageEvent.objects.filter(kind=EventKind.OPENED).count() == 3
    events = list(OutageEvent.objects.values_list("outage", "kind", "at"))
    assert len(events) == len(set(events))
    for service in services:
        assert ServiceMinute.objects.filter(service=service).count() == 240
    assert detection_tick_many(service_ids=ids, now=END + MINUTE).minutes == 0


def test_the_fan_out_sends_batches_and_a_second_fan_out_does_nothing_again(monkeypatch):
    from reports.tasks import detection_run_many, detection_tick_all

    services = world("fan")
    monkeypatch.setattr(tick, "BATCH_SERVICES", 3)
    sent = []

    def run_now(service_ids):
        sent.append(service_ids)
        return detection_run_many(service_ids)

    monkeypatch.setattr(detection_run_many, "delay", run_now)
    with time_machine.travel(END + MINUTE, tick=False):
        assert detection_tick_all() == 4
        assert sent == [sorted(s.pk for s in services.values())[:3], sorted(s.pk for s in services.values())[3:]]
        assert set(DetectorState.objects.values_list("last_minute", flat=True)) == {END - MINUTE}
        events = OutageEvent.objects.count()
        detection_tick_all()
    assert OutageEvent.objects.count() == events and Outage.objects.count() == 3
