"""Celery tasks: thin wrappers that call one service each."""

from __future__ import annotations

import random

from celery import shared_task
from django.utils import timezone

from .services import cooldowns_prune, simulator_tick


@shared_task(ignore_result=True)
def reports_simulate_traffic() -> int:
    """Fill the demo traffic up to the current minute (idempotent, see simulator_tick)."""
    return simulator_tick(now=timezone.now(), rng=random.Random())


@shared_task(ignore_result=True)
def reports_prune_cooldowns() -> int:
    return cooldowns_prune()
