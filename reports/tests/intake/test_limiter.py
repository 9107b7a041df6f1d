"""The atomic limiter itself: all-or-nothing reservations, release, waits, pruning, and threads on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import threading

import pytest
from django.core.cache.backends.redis import RedisCache
from django.db import connections

from conftest import require
from reports.intake.throttles import Limit, Refusal, rate_limits_prune, release, reserve
from reports.models import RateLimitLog

pytestmark = pytest.mark.django_db

T = 1_800_000_000.0  # a Unix time


@pytest.fixture(params=["database", "redis"], autouse=True)
def backend(request, settings):
    """Each test on the embedded default's limiter (the database) and on Redis's (REDIS_URL)."""
    if request.param == "redis":
        if "postgresql" in request.node.name or "prune" in request.node.name:
            pytest.skip("about the database limiter only")
        require(bool(os.environ.get("REDIS_URL")), "REDIS_URL")
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]}
        }
    else:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()  # the limits' keys of an earlier test on the same Redis
    return request.param


def hits(key: str) -> list[float]:
    """The hits a limit holds, wherever the limiter keeps them."""
    from django.core.cache import caches

    cache = caches["default"]
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        return [score for _, score in client.zrange(cache.make_key(f"rl:{key}"), 0, -1, withscores=True)]
    return RateLimitLog.objects.get(key=key).hits


def test_a_limit_takes_count_hits_per_period_and_refuses_the_next_until_the_oldest_leaves():
    limit = Limit("k", count=3, period=60)
    assert [reserve((limit,), T + i)[0] is not None for i in range(4)] == [True, True, True, False]
    _, refusal = reserve((limit,), T + 10)
    assert refusal == Refusal(limit, oldest=T)
    assert refusal.wait(T + 10) == 50
    assert reserve((limit,), T + 60.5)[0] is not None  # the first hit has left the period


def test_a_refusal_by_one_limit_takes_nothing_from_the_others():
    address, network = Limit("address", 5, 60), Limit("network", 1, 60)
    assert reserve((address, network), T)[0] is not None
    assert reserve((address, network), T + 1)[1].limit == network
    assert hits("address") == [T]  # the refused request left no hit


def test_release_gives_the_place_back():
    limit = Limit("k", count=1, period=60)
    reservation, _ = reserve((limit,), T)
    assert reserve((limit,), T + 1)[1] is not None
    release(reservation)
    assert reserve((limit,), T + 2)[0] is not None


def test_prune_deletes_only_logs_whose_hits_all_left_their_period():
    reserve((Limit("old", 5, 60),), T)
    reserve((Limit("new", 5, 60),), T + 100)
    assert rate_limits_prune(now=dt.datetime.fromtimestamp(T + 120, dt.UTC)) == 1
    assert list(RateLimitLog.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db(transaction=True)
def test_threads_reserving_at_once_on_postgresql_get_exactly_the_limit(postgres):
    limit = Limit("race", count=10, period=60)
    start = threading.Barrier(40)
    granted: list[bool] = []

    def one() -> None:
        try:
            start.wait()
            reservation, _ = reserve((limit,), T)
            granted.append(reservation is not None)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 10 and len(granted) == 40
    assert len(hits("race")) == 10


def test_a_refused_client_is_refused_by_the_gate_without_asking_the_limiter_until_its_retry_after(
    settings, django_assert_num_queries, time_machine
):
    from django.test import Client

    from catalog.tests.factories import make_service

    time_machine.move_to(dt.datetime.fromtimestamp(T, dt.UTC), tick=False)
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "1/min"
    make_service()
    client = Client(REMOTE_ADDR="81.2.69.142")
    url, body = "/api/v1/services/tiktok-shop/reports/", '{"issue_type": "payment"}'
    assert client.post(url, body, content_type="application/json").status_code == 201
    assert client.post(url, body, content_type="application/json").status_code == 429  # the limiter says so
    time_machine.shift(30)
    with django_assert_num_queries(0):  # the gate says so, from memory
        refused = client.post(url, body, content_type="application/json")
    assert refused.status_code == 429 and refused["Retry-After"] == "30"
    assert refused.json()["code"] == "throttled"
    time_machine.shift(31)  # past the Retry-After: the limiter decides again
    assert client.post(url, body, content_type="application/json").status_code == 201
