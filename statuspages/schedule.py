"""When a page is polled next (pure): its interval with jitter, stretched by failures and Retry-After."""

from __future__ import annotations

import datetime as dt
import random

from statuspages.models import INTERVAL_MAX_SECONDS, INTERVAL_MIN_SECONDS

BACKOFF_MAX_SECONDS = 3600  # a failing or rate-limiting page is still tried at least hourly


def next_poll_delay(
    *, interval: int, jitter: int, failures: int = 0, retry_after: int | None = None, rng: random.Random
) -> dt.timedelta:
    """Seconds until the next poll.

    The interval (clamped to 60 to 300 s) plus up to `jitter` seconds, so pages configured alike
    drift apart instead of polling in the same second (never sooner than the interval).
    Consecutive failures double it (at most an hour);
    a Retry-After is honoured whenever it asks for longer.
    """
    base = min(max(interval, INTERVAL_MIN_SECONDS), INTERVAL_MAX_SECONDS)
    seconds = base * 2 ** min(failures, 6) if failures else base
    seconds = min(seconds, BACKOFF_MAX_SECONDS) + rng.uniform(0, max(jitter, 0))
    if retry_after is not None:
        seconds = max(seconds, min(retry_after, BACKOFF_MAX_SECONDS))
    return dt.timedelta(seconds=seconds)
