"""The service page's probe panel: each probe's state, uptime and latency, from probes.selectors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from catalog.models import Service
from outagehub.timebuckets import HOUR, bucket_floor
from probes.selectors import UptimeBucket, probe_list, probe_uptime

MONTH = dt.timedelta(days=30)


@dataclass(frozen=True)
class ProbeRow:
    id: int
    name: str
    kind: str  # ProbeKind label ("HTTP(S)")
    state: str  # ProbeState value
    state_label: str
    state_since: dt.datetime
    uptime_day: float | None  # percent of conclusive checks up or degraded, last 24 hours
    uptime_month: float | None  # the same over 30 days
    # The latest hour with conclusive checks: its median and 95th percentile (of the slowest region).
    latency_p50_ms: int | None
    latency_p95_ms: int | None


def service_probe_rows(*, service: Service, now: dt.datetime) -> list[ProbeRow]:
    """The service's enabled probes by name, with uptime over the last day and month and the last day's latency."""
    until = bucket_floor(now, HOUR) + HOUR  # the current hour too: probe_uptime reads its raw results
    rows = []
    for probe in probe_list(service_slug=service.slug):
        hours = probe_uptime(probe=probe, since=until - MONTH, until=until, size=HOUR)
        day, month = _total(hours[-24:]), _total(hours)
        latest = next((h for h in reversed(hours[-24:]) if h.latency_p50_ms is not None), None)
        rows.append(
            ProbeRow(
                id=probe.pk,
                name=probe.name,
                kind=probe.get_kind_display(),
                state=probe.state,
                state_label=probe.get_state_display(),
                state_since=probe.state_since,
                uptime_day=day.uptime_percent,
                uptime_month=month.uptime_percent,
                latency_p50_ms=latest.latency_p50_ms if latest else None,
                latency_p95_ms=latest.latency_p95_ms if latest else None,
            )
        )
    return rows


def _total(hours: list[UptimeBucket]) -> UptimeBucket:
    """The hours' outcomes summed into one bucket (for its uptime_percent)."""
    return UptimeBucket(
        start=hours[0].start,
        up=sum(h.up for h in hours),
        degraded=sum(h.degraded for h in hours),
        down=sum(h.down for h in hours),
        inconclusive=sum(h.inconclusive for h in hours),
    )
