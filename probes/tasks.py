"""Celery tasks for probes: thin, idempotent, safe on many workers and two schedulers."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from probes.models import TIMEOUT_MAX_SECONDS, Probe, ProbeResult
from probes.runner import check_probe
from probes.services import probe_result_record, probe_results_rollup_and_prune, probes_claim_due

# A check ends by its own timeout (at most TIMEOUT_MAX_SECONDS); the canaries and our resolvers
# may take a few seconds more (2 s each at most), and recording a little. A task still running
# past that is stuck somewhere no timeout reaches: the soft limit raises SoftTimeLimitExceeded in
# it, the hard limit kills the worker process (prefork pool). Either way the message is
# acknowledged, not redelivered, and the next slot runs as usual.
CHECK_SOFT_TIME_LIMIT = int(TIMEOUT_MAX_SECONDS) + 30  # seconds
CHECK_TIME_LIMIT = CHECK_SOFT_TIME_LIMIT + 30  # seconds


def region_queue(region: str) -> str:
    """Each region is a queue, served by the workers running there."""
    return f"probes.{region}"


@shared_task(ignore_result=True)
def probes_enqueue_due() -> int:
    """Claim due probes and send one check per region to that region's queue."""
    claims = probes_claim_due(now=timezone.now())
    for claim in claims:
        for region in claim.regions:
            probes_run_check.apply_async(
                (claim.probe_id, region, claim.slot.isoformat()),
                queue=region_queue(region),
                # A check still queued when its next slot comes is stale: drop it.
                expires=claim.interval_seconds,
            )
    return len(claims)


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=CHECK_SOFT_TIME_LIMIT, time_limit=CHECK_TIME_LIMIT)
def probes_run_check(probe_id: int, region: str, slot: str) -> str | None:
    """Run one probe's check for one slot in this worker's region and record it (once)."""
    slot_at = dt.datetime.fromisoformat(slot)
    probe = Probe.objects.filter(pk=probe_id, enabled=True).first()
    if probe is None or ProbeResult.objects.filter(probe_id=probe_id, region=region, slot=slot_at).exists():
        return None
    result = check_probe(probe)
    recorded = probe_result_record(
        probe_id=probe_id, region=region, slot=slot_at, result=result, checked_at=timezone.now()
    )
    return recorded.result.outcome if recorded else None


@shared_task(ignore_result=True)
def probes_rollup_and_prune() -> tuple[int, int]:
    """Hourly rollups of recent results, then pruning of raw results past retention."""
    return probe_results_rollup_and_prune()
