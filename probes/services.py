"""Writes for probes: scheduling claims, recording results, state changes, rollups."""

from __future__ import annotations

import datetime as dt
import logging
import statistics
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from probes.checkers import CheckResult
from probes.kinds import Outcome, ProbeState
from probes.models import Probe, ProbeEvent, ProbeRegionState, ProbeResult, ProbeRollup
from probes.state import RegionView, quorum_of, region_next, streak_behind

HOUR = dt.timedelta(hours=1)

logger = logging.getLogger(__name__)


def probe_regions(probe: Probe) -> list[str]:
    return list(probe.regions) or list(settings.PROBES_DEFAULT_REGIONS)


@dataclass(frozen=True)
class Claim:
    probe_id: int
    slot: dt.datetime
    regions: tuple[str, ...]
    interval_seconds: int


def probes_claim_due(*, now: dt.datetime) -> list[Claim]:
    """Claim every due probe's current slot; each slot is claimed by exactly one caller.

    The claim moves `next_run_at` forward with a conditional UPDATE on its
    old value, so two schedulers racing over the same probe cannot both
    win. After downtime a probe runs once now, not once per missed slot.
    A probe whose row cannot be scheduled (an interval of 0, a date past
    year 9999, regions that are not a list) is logged and skipped: it must
    not keep every other probe from running.
    """
    claims = []
    due = Probe.objects.filter(enabled=True, service__active=True, next_run_at__lte=now)
    for probe in due.only("id", "next_run_at", "interval_seconds", "regions"):
        try:
            claim = _claim(probe, now)
        except (ArithmeticError, TypeError, ValueError):
            # Only what a bad value in the row raises; a database error still stops the run.
            logger.exception("probe %s cannot be scheduled; skipped", probe.pk)
            continue
        if claim is not None:
            claims.append(claim)
    return claims


def _claim(probe: Probe, now: dt.datetime) -> Claim | None:
    """Claim the probe's due slot; None if another scheduler claimed it first."""
    slot = probe.next_run_at
    interval = dt.timedelta(seconds=probe.interval_seconds)
    # The first slot after now on the probe's own grid: late runs do not shift it.
    following = slot + ((now - slot) // interval + 1) * interval
    # Computed before the claim, so a failure here leaves the slot unclaimed rather than lost.
    regions = tuple(probe_regions(probe))
    if not Probe.objects.filter(pk=probe.pk, next_run_at=slot).update(next_run_at=following):
        return None
    return Claim(probe.pk, slot, regions, probe.interval_seconds)


@dataclass(frozen=True)
class Recorded:
    result: ProbeResult
    region_event: ProbeEvent | None
    probe_event: ProbeEvent | None


def _evidence(probe: Probe, region: str, limit: int) -> list[dict[str, object]]:
    """The region's latest conclusive results, newest first: what moved its state."""
    rows = (
        ProbeResult.objects.filter(probe=probe, region=region)
        .exclude(outcome=Outcome.INCONCLUSIVE)
        .order_by("-slot")[:limit]
    )
    return [
        {
            "id": r.pk,
            "checked_at": r.checked_at.isoformat(),
            "outcome": r.outcome,
            "latency_ms": r.latency_ms,
            "status_code": r.status_code,
            "error": r.error,
            "message": r.message,
        }
        for r in rows
    ]


def probe_result_record(
    *, probe_id: int, region: str, slot: dt.datetime, result: CheckResult, checked_at: dt.datetime
) -> Recorded | None:
    """Store one check's result and move the region's and the probe's state.

    Idempotent: a result for a (probe, region, slot) already stored (a
    redelivered task) returns None and changes nothing. The probe row is
    locked for the update so results from several regions arriving at once
    apply one after another. A result older than the region's latest is
    stored but does not move the region's state. The probe's quorum is
    recomputed on every result, not only when a region changes state: after
    its regions are edited, the next result of any region brings it in line.
    """
    with transaction.atomic():
        probe = Probe.objects.select_for_update().filter(pk=probe_id).first()
        if probe is None:
            return None
        try:
            with transaction.atomic():
                stored = ProbeResult.objects.create(
                    probe=probe,
                    region=region,
                    slot=slot,
                    checked_at=checked_at,
                    outcome=result.outcome,
                    latency_ms=result.latency_ms,
                    status_code=result.status_code,
                    error=result.error,
                    message=result.message[:300],
                )
        except IntegrityError:
            return None
        region_event = _region_advance(probe, region, slot, Outcome(result.outcome), checked_at)
        probe_event = _probe_requorum(probe, checked_at, trigger=region_event)
        return Recorded(stored, region_event, probe_event)


def _region_advance(
    probe: Probe, region: str, slot: dt.datetime, outcome: Outcome, checked_at: dt.datetime
) -> ProbeEvent | None:
    """Apply one result to the region's streaks and state; the event if its state changed."""
    rs, _ = ProbeRegionState.objects.get_or_create(probe=probe, region=region)
    if rs.last_slot is not None and slot <= rs.last_slot:
        return None
    before = RegionView(
        state=ProbeState(rs.state),
        failures=rs.failures,
        degradations=rs.degradations,
        successes=rs.successes,
        recoveries=rs.recoveries,
    )
    after = region_next(
        before, outcome, failure_threshold=probe.failure_threshold, success_threshold=probe.success_threshold
    )
    rs.state, rs.last_slot = after.state, slot
    rs.failures, rs.degradations, rs.successes, rs.recoveries = (
        after.failures,
        after.degradations,
        after.successes,
        after.recoveries,
    )
    rs.save()
    if after.state == before.state:
        return None
    return ProbeEvent.objects.create(
        probe=probe,
        at=checked_at,
        region=region,
        from_state=before.state,
        to_state=after.state,
        evidence={"results": _evidence(probe, region, max(streak_behind(before.state, after), 1))},
    )


def _probe_requorum(probe: Probe, checked_at: dt.datetime, *, trigger: ProbeEvent | None) -> ProbeEvent | None:
    """Set the probe's state to the quorum of its configured regions; the event if it changed."""
    states = dict(ProbeRegionState.objects.filter(probe=probe).values_list("region", "state"))
    overall = quorum_of({r: ProbeState(s) for r, s in states.items()}, probe_regions(probe))
    if overall == probe.state:
        return None
    event = ProbeEvent.objects.create(
        probe=probe,
        at=checked_at,
        region="",
        from_state=probe.state,
        to_state=overall,
        # trigger None: no region changed state, the probe's configured regions did.
        evidence={"regions": states, "trigger": trigger.pk if trigger else None},
    )
    probe.state, probe.state_since = overall, checked_at
    probe.save(update_fields=["state", "state_since"])
    return event


def probe_results_rollup(*, since: dt.datetime, until: dt.datetime) -> int:
    """(Re)compute hourly rollups for the whole hours in [since, until); returns rows written.

    Recomputing an hour gives the same numbers, so this can run any number
    of times and late results are folded in on the next run.
    """
    start = since.replace(minute=0, second=0, microsecond=0)
    end = until.replace(minute=0, second=0, microsecond=0)
    if start >= end:
        return 0
    buckets: dict[tuple[int, str, dt.datetime], list[tuple[str, int | None]]] = defaultdict(list)
    rows = ProbeResult.objects.filter(checked_at__gte=start, checked_at__lt=end).values_list(
        "probe_id", "region", "checked_at", "outcome", "latency_ms"
    )
    for probe_id, region, checked_at, outcome, latency in rows.iterator():
        hour = checked_at.replace(minute=0, second=0, microsecond=0)
        buckets[(probe_id, region, hour)].append((outcome, latency))
    with transaction.atomic():
        for (probe_id, region, hour), results in buckets.items():
            ProbeRollup.objects.update_or_create(
                probe_id=probe_id, region=region, hour=hour, defaults=rollup_values(results)
            )
    return len(buckets)


def rollup_values(results: list[tuple[str, int | None]]) -> dict[str, int | None]:
    counts = {o.value: 0 for o in Outcome}
    for outcome, _ in results:
        counts[outcome] += 1
    # Latency percentiles over conclusive checks only: an offline prober's
    # timeouts say nothing about the service.
    latencies = sorted(lat for o, lat in results if lat is not None and o != Outcome.INCONCLUSIVE)
    p50 = p95 = None
    if latencies:
        p50 = round(statistics.median(latencies))
        p95 = latencies[min(len(latencies) - 1, max(0, round(0.95 * len(latencies)) - 1))]
    return {
        "up": counts[Outcome.UP],
        "degraded": counts[Outcome.DEGRADED],
        "down": counts[Outcome.DOWN],
        "inconclusive": counts[Outcome.INCONCLUSIVE],
        "latency_p50_ms": p50,
        "latency_p95_ms": p95,
    }


def probe_results_prune(*, now: dt.datetime | None = None) -> int:
    """Delete raw results past the retention period (their hours are rolled up first)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.PROBES_RESULT_RETENTION_DAYS)
    oldest = ProbeResult.objects.filter(checked_at__lt=cutoff).order_by("checked_at").first()
    if oldest is not None:
        probe_results_rollup(since=oldest.checked_at, until=cutoff + HOUR)
    deleted, _ = ProbeResult.objects.filter(checked_at__lt=cutoff.replace(minute=0, second=0, microsecond=0)).delete()
    return deleted


def probe_results_rollup_and_prune(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """The periodic job: roll up the recent hours (late results included), then prune."""
    now = now or timezone.now()
    latest = ProbeRollup.objects.order_by("-hour").values_list("hour", flat=True).first()
    since = min(latest, now - 3 * HOUR) if latest else now - 3 * HOUR
    rolled = probe_results_rollup(since=since, until=now)
    return rolled, probe_results_prune(now=now)
