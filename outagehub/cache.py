"""Django's Redis cache with one client per connection pool instead of one per operation.

Django's RedisCacheClient builds a new redis.Redis for every get and set; with redis-py 8 that
construction (its response-callback tables) costs more than the round trip itself, about 0.2 ms
of CPU per operation, which the report path pays several times per request. A redis.Redis is
safe to share between threads (its pool hands each command a connection) and its pool
reconnects after a fork, so one per pool is enough.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from django.utils.functional import cached_property


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django: Any = self  # Django's private helpers, which its stubs leave out
        index = django._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = django._client(connection_pool=django._get_connection_pool(write))
        return client


class RedisCache(DjangoRedisCache):
    @cached_property
    def _cache(self) -> RedisCacheClient:
        django: Any = self
        return RedisCacheClient(django._servers, **django._options)
