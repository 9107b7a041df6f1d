"""Django's Redis cache, with one client per connection pool, cleared by its own keys only.

One client per pool: Django's RedisCacheClient builds a new redis.Redis for every get and set;
with redis-py 8 that construction (its response-callback tables) costs more than the round trip
itself, about 0.2 ms of CPU per operation, which the report path pays several times per request.
A redis.Redis is safe to share between threads (its pool hands each command a connection) and
its pool reconnects after a fork, so one per pool is enough.

Cleared by prefix: Django's RedisCache.clear() is FLUSHDB: on a Redis database shared with
anything else (the Celery broker, whose queues hold reports taken while PostgreSQL was down, or
the write-behind stream) it would delete that too. Here clear() deletes only the keys under this
cache's KEY_PREFIX, so sharing a database is safe, and a database of its own
(OUTAGEHUB_REDIS_CACHE_URL, see README "Redis layout") is safer still.
"""

from __future__ import annotations

import functools
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from django.core.exceptions import ImproperlyConfigured


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, servers: list[str], *, prefix: str, **options: Any) -> None:
        super().__init__(servers, **options)
        self.prefix = prefix
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django: Any = self  # Django's private helpers, which its stubs leave out
        index = django._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = django._client(connection_pool=django._get_connection_pool(write))
        return client

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


class RedisCache(DjangoRedisCache):
    """RedisCache whose KEY_PREFIX must be set, and whose clear() keeps to it."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        if not self.key_prefix:
            raise ImproperlyConfigured("outagehub.cache.RedisCache needs a KEY_PREFIX")
        self._class = functools.partial(RedisCacheClient, prefix=self.key_prefix)
