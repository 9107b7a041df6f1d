"""Best-effort memos of computed reads in the default cache, under keys that change when their inputs do.

A memo is never the record: its key names every input of the value (a service, the last minute
the detector processed, the window...), so a hit is what computing it again would give, and a
new minute or a changed row is a new key rather than an invalidation to remember. The timeout
only bounds how long an unused entry stays. The cache is optional: a failing one is skipped for
a few seconds (outagehub.breaker), and the value is computed as if it had never been cached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import caches
from django.utils.connection import ConnectionProxy
from redis.exceptions import RedisError

from outagehub import breaker

T = TypeVar("T")

# A cache of its own (settings.CACHES["memo"]), so memos never crowd out the rate limiter's entries.
MEMO_CACHE = "memo"
cache: Any = ConnectionProxy(caches, MEMO_CACHE)

_MISSING = object()


def memo_key(*parts: Any) -> str:
    """A short cache key from the `repr` of `parts`: give it everything the value depends on.

    The repr of dataclasses, datetimes and numbers is exact, so equal inputs give equal keys.
    """
    return "memo:" + hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def memoized(key: str, compute: Callable[[], T], *, timeout: int) -> T:
    """The value cached under `key`, else `compute()`, cached for `timeout` seconds."""
    if breaker.CACHE.closed:
        try:
            value = cache.get(key, _MISSING)
        except (RedisError, OSError) as exc:
            breaker.CACHE.failed(exc)
        else:
            if value is not _MISSING:
                return value
    value = compute()
    if breaker.CACHE.closed:
        try:
            cache.set(key, value, timeout)
        except (RedisError, OSError) as exc:
            breaker.CACHE.failed(exc)
    return value
