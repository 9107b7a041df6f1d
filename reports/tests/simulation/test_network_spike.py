"""A coordinated fake spike from one network cannot open an outage; the same volume from many networks does.

The simulator fills three quiet hours of demo traffic, then a 20x spike for 20 minutes. The
spike's reports either keep the simulator's own random addresses (diverse networks), or are
all moved into one /24, each address once with its own user agent: many addresses of one
network reporting in lockstep. Both go through intake (report_create), then detection runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest

from catalog.tests.factories import make_service
from reports.detection.tick import detection_tick
from reports.models import Outage, Report
from reports.simulation.model import SimOutage, SimService, generate
from reports.simulation.services import simulated_reports_write, simulator_backfill

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)  # a Tuesday morning, traffic rising
SPIKE_AT = START + dt.timedelta(hours=3)
SPIKE_FOR = dt.timedelta(minutes=20)
VOLUME = 1.0  # counted reports a minute at the daily peak: a small service, where a burst shows most
FACTOR = 20


def spike(rng: random.Random) -> list:
    service = SimService("tiktok-shop", VOLUME, ("payment", "server"))
    outage = SimOutage("tiktok-shop", "payment", SPIKE_AT, SPIKE_AT + SPIKE_FOR, FACTOR)
    return list(generate([service], SPIKE_AT, SPIKE_AT + SPIKE_FOR, [outage], rng))


def from_one_network(reports: list, rng: random.Random) -> list:
    hosts = rng.sample(range(1, 255), k=min(len(reports), 254))
    return [
        dataclasses.replace(r, ip=f"81.2.69.{hosts[i % len(hosts)]}", user_agent=f"Mozilla/5.0 bot {i}")
        for i, r in enumerate(reports)
    ]


def run(*, lockstep: bool) -> tuple[int, bool]:
    """The spike's report count, and whether detection opened an outage."""
    service = make_service(demo_traffic=VOLUME)
    rng = random.Random(7)
    simulator_backfill(start=START, end=SPIKE_AT, rng=rng)
    reports = spike(rng)
    if lockstep:
        reports = from_one_network(reports, rng)
    simulated_reports_write(reports)
    detection_tick(service_id=service.pk, now=SPIKE_AT + SPIKE_FOR + dt.timedelta(minutes=2))
    return len(reports), Outage.objects.filter(service=service).exists()


def test_a_lockstep_spike_from_one_network_is_flagged_and_opens_no_outage():
    volume, opened = run(lockstep=True)
    assert volume > 150  # a real spike's worth of reports...
    assert not opened  # ...that cannot open an outage on its own
    flagged = Report.objects.filter(network_flagged=True)
    assert flagged.count() > volume * 0.8
    assert not flagged.filter(counted=True).exists()


def test_the_same_volume_from_diverse_networks_opens_an_outage():
    volume, opened = run(lockstep=False)
    assert volume > 150
    assert opened
    assert not Report.objects.filter(network_flagged=True).exists()
