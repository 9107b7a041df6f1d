"""Celery tasks: thin wrappers that call one service each."""

from __future__ import annotations

import random
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from catalog.models import Service
from reports.detection.rollups import rollups_prune
from reports.detection.tick import detection_batches, detection_tick, detection_tick_many
from reports.intake import writebehind
from reports.intake.services import DATABASE_DOWN, ReportDraft, cooldowns_prune, report_ingest, reports_prune
from reports.intake.throttles import rate_limits_prune
from reports.outages.attribution import outages_attribute, upstream_service_ids
from reports.outages.webhooks import webhook_deliveries_stale, webhook_delivery_attempt
from reports.simulation.services import simulator_tick
from statuspages.kinds import OfficialLevel
from statuspages.selectors import official_levels


@shared_task(ignore_result=True)
def reports_simulate_traffic() -> int:
    """Fill the demo traffic (or only injected outages' traffic) up to the current minute (idempotent)."""
    return simulator_tick(now=timezone.now(), rng=random.Random(), demo=settings.OUTAGEHUB_SIMULATOR)


# While the database is down, intake hands reports to the broker (see reports.api.reports, reports.web.views);
# this stores them once it is back. Retried with backoff for days, never dropped for an outage of ours.
@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=DATABASE_DOWN,
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=1000,
)
def reports_ingest(draft: dict[str, Any]) -> int | None:
    """Store a report received while the database was down; its id, or None if it was dropped."""
    report = report_ingest(draft=ReportDraft.from_message(draft))
    return report.pk if report else None


# Write-behind intake (reports/intake/writebehind.py): beat runs it every second. Entries are
# acknowledged only after their batch commits, so a worker killed mid-batch loses nothing.
@shared_task(ignore_result=True)
def reports_drain() -> int:
    """Write reports queued in Redis to PostgreSQL; how many rows were written."""
    return writebehind.reports_drain()


@shared_task(ignore_result=True)
def reports_prune_old() -> int:
    """Delete raw reports past OUTAGEHUB_REPORT_RETENTION_DAYS (rollups stay)."""
    return reports_prune(now=timezone.now())


@shared_task(ignore_result=True)
def reports_prune_rollups() -> int:
    return rollups_prune(now=timezone.now())


@shared_task(ignore_result=True)
def reports_prune_cooldowns() -> int:
    # The embedded default's rate-limit logs too: like cooldowns, they hold keyed hashes of addresses.
    return cooldowns_prune() + rate_limits_prune(now=timezone.now())


@shared_task(ignore_result=True)
def detection_tick_all() -> int:
    """Fan out the detection tick over the active services, a batch of them per task (each safe to run twice)."""
    ids = list(Service.objects.active().values_list("pk", flat=True))
    for batch in detection_batches(ids):
        detection_run_many.delay(batch)
    return len(ids)


# Two fan-outs at once (two beats) send every batch twice: the second finds the services' detector
# rows locked (skipped) or their minutes done. A batch's queries are shared by its services.
@shared_task(ignore_result=True, acks_late=True)
def detection_run_many(service_ids: list[int]) -> int:
    """Detect over the services' closed minutes not yet processed; opens, updates and resolves outages."""
    return detection_tick_many(service_ids=service_ids, now=timezone.now()).minutes


# Kept for messages an older beat queued before a deploy.
@shared_task(ignore_result=True, acks_late=True)
def detection_run(service_id: int) -> int:
    """Detect over the service's closed minutes not yet processed; opens, updates and resolves outages."""
    return detection_tick(service_id=service_id, now=timezone.now()).minutes


@shared_task(ignore_result=True)
def attribution_tick() -> int:
    """Name the likely upstream cause of recent outages (idempotent: changes are claimed, see outages_attribute)."""
    now = timezone.now()
    # The one place official status-page levels come in; a stale reading is no evidence: unknown.
    official = {
        service_id: OfficialLevel.UNKNOWN.value if state.stale else state.level
        for service_id, state in official_levels(upstream_service_ids(), now=now).items()
    }
    return outages_attribute(now=now, official=official)


@shared_task(ignore_result=True)
def webhook_deliver(delivery_id: int, attempt: int = 1) -> None:
    """Make one attempt of a webhook delivery; enqueue the next one after its backoff if it failed."""
    retry_in = webhook_delivery_attempt(delivery_id=delivery_id, attempt=attempt)
    if retry_in is not None:
        webhook_deliver.apply_async((delivery_id, attempt + 1), countdown=retry_in)


@shared_task(ignore_result=True)
def webhooks_resend_stale() -> int:
    """Re-send deliveries left pending by a dead worker or a lost retry message."""
    stale = webhook_deliveries_stale()
    for delivery_id, attempt in stale:
        webhook_deliver.delay(delivery_id, attempt)
    return len(stale)
