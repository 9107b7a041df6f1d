"""Reads for probes."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from outagehub.timebuckets import HOUR, bucket_floor, bucket_starts, rolled_split
from probes.models import Probe, ProbeEvent, ProbeResult, ProbeRollup
from probes.services import rollup_values


def probe_list(*, service_slug: str | None = None) -> QuerySet[Probe]:
    """Enabled probes of active services, optionally of one service."""
    probes = Probe.objects.filter(enabled=True, service__active=True).select_related("service")
    if service_slug:
        probes = probes.filter(service__slug=service_slug)
    return probes.order_by("service__name", "name")


def probe_get(*, probe_id: int) -> Probe | None:
    return probe_list().filter(pk=probe_id).first()


def probe_results(
    *, probe: Probe, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> QuerySet[ProbeResult]:
    """Raw results, newest first (kept PROBES_RESULT_RETENTION_DAYS days)."""
    results = ProbeResult.objects.filter(probe=probe)
    if since:
        results = results.filter(checked_at__gte=since)
    if until:
        results = results.filter(checked_at__lt=until)
    return results.order_by("-checked_at", "-id")


def probe_events(*, probe: Probe) -> QuerySet[ProbeEvent]:
    """State changes, newest first: per region (`region` set) and by quorum (`region` empty)."""
    return ProbeEvent.objects.filter(probe=probe).order_by("-at", "-id")


@dataclass(frozen=True)
class UptimeBucket:
    """A probe's checks in one bucket, all regions together.

    Latencies are the highest hourly percentile of any region in the bucket
    (percentiles of different hours or regions cannot be merged): an upper
    bound, in milliseconds; None without conclusive checks.
    """

    start: dt.datetime
    up: int = 0
    degraded: int = 0
    down: int = 0
    inconclusive: int = 0
    latency_p50_ms: int | None = None
    latency_p95_ms: int | None = None

    @property
    def uptime_percent(self) -> float | None:
        """As `ProbeRollup.uptime_percent`: up or degraded among conclusive checks."""
        return ProbeRollup(up=self.up, degraded=self.degraded, down=self.down).uptime_percent


def probe_uptime(*, probe: Probe, since: dt.datetime, until: dt.datetime, size: dt.timedelta) -> list[UptimeBucket]:
    """Check outcomes per bucket of `size` (an hour or a day) in [since, until), both aligned, oldest first.

    From the hourly rollups; the hours after this probe's last rolled-up hour
    (normally just the current one) are summarised from raw results the same way.
    """
    last = ProbeRollup.objects.filter(probe=probe).order_by("-hour").values_list("hour", flat=True).first()
    split = rolled_split(since, until, last + HOUR if last else None)
    hourly = list(
        ProbeRollup.objects.filter(probe=probe, hour__gte=since, hour__lt=split).values_list(
            "hour", "up", "degraded", "down", "inconclusive", "latency_p50_ms", "latency_p95_ms"
        )
    )
    hourly += _raw_hours(probe, split, until)
    folded: dict[dt.datetime, list[Any]] = {}
    for hour, up, degraded, down, inconclusive, p50, p95 in hourly:
        b = folded.setdefault(bucket_floor(hour, size), [0, 0, 0, 0, None, None])
        b[0], b[1], b[2], b[3] = b[0] + up, b[1] + degraded, b[2] + down, b[3] + inconclusive
        b[4], b[5] = _max(b[4], p50), _max(b[5], p95)
    return [
        UptimeBucket(start, *folded.get(start, [0, 0, 0, 0, None, None])) for start in bucket_starts(since, until, size)
    ]


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _raw_hours(probe: Probe, since: dt.datetime, until: dt.datetime) -> list[tuple[Any, ...]]:
    """The rollup rows the periodic job would write for these hours, from raw results."""
    per_hour: dict[tuple[str, dt.datetime], list[tuple[str, int | None]]] = defaultdict(list)
    rows = probe.results.filter(checked_at__gte=since, checked_at__lt=until).values_list(
        "region", "checked_at", "outcome", "latency_ms"
    )
    for region, checked_at, outcome, latency in rows:
        per_hour[(region, bucket_floor(checked_at, HOUR))].append((outcome, latency))
    hours = []
    for (_, hour), results in per_hour.items():
        v = rollup_values(results)
        hours.append(
            (hour, v["up"], v["degraded"], v["down"], v["inconclusive"], v["latency_p50_ms"], v["latency_p95_ms"])
        )
    return hours
