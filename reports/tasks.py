"""Celery tasks: thin wrappers that call one service each."""

from __future__ import annotations

import random

from celery import shared_task
from django.utils import timezone

from .models import Service
from .outages import detection_tick
from .services import cooldowns_prune, simulator_tick


@shared_task(ignore_result=True)
def reports_simulate_traffic() -> int:
    """Fill the demo traffic up to the current minute (idempotent, see simulator_tick)."""
    return simulator_tick(now=timezone.now(), rng=random.Random())


@shared_task(ignore_result=True)
def reports_prune_cooldowns() -> int:
    return cooldowns_prune()


@shared_task(ignore_result=True)
def detection_tick_all() -> int:
    """Fan out one detection tick per active service (each safe to run twice)."""
    ids = list(Service.objects.active().values_list("pk", flat=True))
    for service_id in ids:
        detection_run.delay(service_id)
    return len(ids)


@shared_task(ignore_result=True, acks_late=True)
def detection_run(service_id: int) -> int:
    """Detect over the service's closed minutes not yet processed; opens, updates and resolves outages."""
    return detection_tick(service_id=service_id, now=timezone.now()).minutes
