"""The Django cache on Redis, cleared by its own keys only.

Django's RedisCache.clear() is FLUSHDB: on a Redis database shared with anything else (the Celery
broker, whose queues hold reports taken while PostgreSQL was down) it would delete that too. Here
clear() deletes only the keys under this cache's KEY_PREFIX, so sharing a database is safe, and a
database of its own (OUTAGEHUB_REDIS_CACHE_URL, see README "Redis layout") is safer still.
"""

from __future__ import annotations

import functools
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.core.exceptions import ImproperlyConfigured


class PrefixedRedisCacheClient(RedisCacheClient):
    def __init__(self, servers: list[str], *, prefix: str, **options: Any) -> None:
        super().__init__(servers, **options)
        self.prefix = prefix

    def clear(self) -> bool:
        """Delete this cache's keys (those under its prefix), in batches; never FLUSHDB."""
        client = self.get_client(None, write=True)
        batch: list[Any] = []
        for key in client.scan_iter(match=f"{self.prefix}:*", count=1000):
            batch.append(key)
            if len(batch) == 1000:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
        return True


class PrefixedRedisCache(RedisCache):
    """RedisCache whose KEY_PREFIX must be set, and whose clear() keeps to it."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        if not self.key_prefix:
            raise ImproperlyConfigured("PrefixedRedisCache needs a KEY_PREFIX")
        self._class = functools.partial(PrefixedRedisCacheClient, prefix=self.key_prefix)
