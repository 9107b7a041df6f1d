"""Celery tasks for status pages: thin, idempotent, safe on many workers and two schedulers."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from statuspages.services import claim_lease, status_page_poll, status_pages_claim_due


@shared_task(ignore_result=True)
def statuspages_poll_due() -> int:
    """Claim the due pages and send one poll per page (beat runs this every minute)."""
    claims = status_pages_claim_due(now=timezone.now())
    for claim in claims:
        # A poll still queued when its lease ends is stale: the page is due again by then.
        statuspages_poll.apply_async((claim.page_id, claim.token), expires=claim_lease().total_seconds())
    return len(claims)


@shared_task(
    ignore_result=True,
    acks_late=True,
    soft_time_limit=2 * settings.STATUSPAGES_TIMEOUT_SECONDS + 30,
    time_limit=2 * settings.STATUSPAGES_TIMEOUT_SECONDS + 60,
)
def statuspages_poll(page_id: int, token: str) -> str | None:
    """Poll one claimed page and record it; a redelivered task finds its claim spent and does nothing."""
    page = status_page_poll(page_id=page_id, token=token, now=timezone.now())
    return page.level if page else None
