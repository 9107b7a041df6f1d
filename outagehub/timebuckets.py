"""Time buckets, in UTC and aligned to the Unix epoch: pure arithmetic shared by reads and the detector."""

from __future__ import annotations

import datetime as dt

MINUTE = dt.timedelta(minutes=1)


HOUR = dt.timedelta(hours=1)


DAY = dt.timedelta(days=1)


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


BUCKETS: dict[str, dt.timedelta] = {"1m": MINUTE, "15m": 15 * MINUTE, "1h": HOUR, "1d": DAY}


def bucket_floor(at: dt.datetime, size: dt.timedelta) -> dt.datetime:
    """The start of the bucket of `size` holding `at` (UTC, aligned to the epoch)."""
    return at - (at - EPOCH) % size


def bucket_ceil(at: dt.datetime, size: dt.timedelta) -> dt.datetime:
    """`at` if it starts a bucket, else the start of the next one."""
    floor = bucket_floor(at, size)
    return floor if floor == at else floor + size


def floor_minute(at: dt.datetime) -> dt.datetime:
    return at.replace(second=0, microsecond=0)


def floor_hour(at: dt.datetime) -> dt.datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def rolled_split(since: dt.datetime, until: dt.datetime, rolled: dt.datetime | None) -> dt.datetime:
    """Where [since, until) stops being rolled up: rollups before it, raw reports from it."""
    if rolled is None:
        return since
    return min(max(rolled, since), until)


def bucket_starts(since: dt.datetime, until: dt.datetime, size: dt.timedelta) -> list[dt.datetime]:
    count = (until - since) // size
    return [since + i * size for i in range(count)]
