"""A circuit breaker for the cache: after one failure, leave the cache alone for a few seconds.

A Redis that refuses connections fails fast, but one that hangs (paused, overloaded, a network
partition) costs every request its socket timeout, once for the rate limiter and once for
conditional GET: about 2 s per request, which starves a small pool of web workers. The cache
only ever serves best-effort features here, so after a failure each process skips it for
`cooldown` seconds and then tries again with one request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Breaker:
    def __init__(self, name: str, *, cooldown: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.name, self.cooldown, self.clock = name, cooldown, clock
        self._open_until = 0.0
        self._lock = threading.Lock()

    @property
    def closed(self) -> bool:
        """Whether the cache may be tried now."""
        return self.clock() >= self._open_until

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            already_open = not self.closed
            self._open_until = self.clock() + self.cooldown
        if not already_open:
            logger.warning("%s unavailable (%s): skipped for %.0f s", self.name, type(exc).__name__, self.cooldown)


# One per process for the Redis behind both caches (the limiter's and conditional GET's).
CACHE = Breaker("cache")
