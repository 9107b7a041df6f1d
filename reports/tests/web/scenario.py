"""A simulated outage for the page tests and the screenshots: reports spiking, a probe down, comments.

From T0 (12:00 UTC) three quiet hours, then from 15:00 payment and server reports
at 20 a minute; the homepage probe fails from 15:05. At 15:31, when the page is
looked at, the detector has opened the outage (on reports, confirmed by the probe).
"""

from __future__ import annotations

import datetime as dt
from ipaddress import ip_address

from catalog.models import Service
from catalog.tests.factories import make_service
from probes.models import Probe, ProbeEvent, ProbeResult
from reports.detection.tick import detection_tick
from reports.tests.factories import file_report
from reports.tests.web.test_pages import MINUTE, T0, add_reports, quiet

SPIKE_START = T0 + 180 * MINUTE  # 15:00
PROBE_DOWN_AT = SPIKE_START + 5 * MINUTE
NOW = SPIKE_START + 31 * MINUTE  # 15:31


def add_probe(service: Service, *, down_at: dt.datetime | None, until: dt.datetime) -> Probe:
    """An HTTP probe checked every minute from T0, up (about 120 ms) until `down_at`, then failing."""
    probe = Probe.objects.create(
        service=service, name="homepage", kind="http", target=service.homepage, regions=["local"]
    )
    results = []
    at = T0
    while at < until:
        down = down_at is not None and at >= down_at
        results.append(
            ProbeResult(
                probe=probe,
                region="local",
                slot=at,
                checked_at=at + dt.timedelta(seconds=1),
                outcome="down" if down else "up",
                latency_ms=None if down else 110 + (at.minute % 5) * 7,
                error="timeout" if down else "",
            )
        )
        at += MINUTE
    ProbeResult.objects.bulk_create(results)
    ProbeEvent.objects.create(probe=probe, at=T0, from_state="unknown", to_state="up")
    state, since = "up", T0
    if down_at is not None:
        ProbeEvent.objects.create(probe=probe, at=down_at, from_state="up", to_state="down")
        state, since = "down", down_at
    Probe.objects.filter(pk=probe.pk).update(state=state, state_since=since)
    return probe


def ongoing_outage(service: Service | None = None, *, probe: bool = True) -> tuple[Service, dt.datetime]:
    """The scenario above on `service` (TikTok Shop by default); returns it and NOW."""
    service = service or make_service()
    add_reports(service, T0, quiet(180), "server", country="DE")
    add_reports(service, SPIKE_START, [14] * 31, "payment", country="DE")
    add_reports(service, SPIKE_START, [4] * 31, "server", country="FR")
    add_reports(service, SPIKE_START, [2] * 31, "payment", country="US")
    if probe:
        add_probe(service, down_at=PROBE_DOWN_AT, until=NOW)
    for i, text in enumerate(("Checkout spins forever", "Payment declined twice, card is fine", "<b>App</b> says 502")):
        file_report(service, "payment", comment=text, client=ip_address(f"10.9.0.{i + 1}"), now=NOW - (3 - i) * MINUTE)
    detection_tick(service_id=service.pk, now=NOW)
    return service, NOW
