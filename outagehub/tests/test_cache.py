"""The Redis cache clears only its own keys: a broker sharing its database keeps its queues."""

from __future__ import annotations

import redis
from django.core.cache import caches

from outagehub.cache import RedisCache


def test_clearing_the_cache_keeps_what_else_lives_in_its_redis_database(redis_url):
    client = redis.Redis.from_url(redis_url)
    # What Kombu keeps for a queue holding a report taken while the database was down.
    client.rpush("celery", b'{"task": "reports.tasks.reports_ingest"}')
    cache = RedisCache(redis_url, {"KEY_PREFIX": "cache-under-test"})
    try:
        for i in range(2500):  # more than one delete batch
            cache.set(f"rate:{i}", i)
        cache.clear()
        assert cache.get("rate:1") is None
        assert client.keys("cache-under-test:*") == []
        assert client.lrange("celery", -1, -1) == [b'{"task": "reports.tasks.reports_ingest"}']
    finally:
        client.rpop("celery")
        client.close()


def test_the_settings_give_each_cache_its_own_prefix(settings):
    prefixes = {name: caches[name].key_prefix for name in ("default", "conditional")}
    if settings.REDIS_CACHE_URL:
        # (outagehub/test.py adds the xdist worker's name, so parallel test processes stay apart.)
        assert prefixes["default"].startswith("cache") and prefixes["conditional"].startswith("conditional")
        assert settings.CACHES["default"]["BACKEND"] == "outagehub.cache.RedisCache"
