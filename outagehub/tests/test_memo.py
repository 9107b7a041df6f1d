"""outagehub.memo: values computed once per key, and a cache that fails costs the saving only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from redis.exceptions import ConnectionError as RedisConnectionError

from outagehub import breaker, memo
from outagehub.memo import memo_key, memoized

T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Window:
    since: dt.datetime
    minutes: int


def counter() -> tuple[list[int], Callable[[], int]]:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    return calls, compute


def test_equal_inputs_give_equal_keys_and_any_difference_a_new_one():
    assert memo_key("x", 1, T0, Window(T0, 15)) == memo_key("x", 1, T0, Window(T0, 15))
    keys = {
        memo_key("x", 1, T0, Window(T0, 15)),
        memo_key("x", 2, T0, Window(T0, 15)),
        memo_key("x", 1, T0 + dt.timedelta(microseconds=1), Window(T0, 15)),
        memo_key("x", 1, T0, Window(T0, 16)),
        memo_key("y", 1, T0, Window(T0, 15)),
        memo_key("x", "1", T0, Window(T0, 15)),
    }
    assert len(keys) == 6


def test_a_value_is_computed_once_per_key():
    calls, compute = counter()
    assert memoized("memo:a", compute, timeout=60) == 1
    assert memoized("memo:a", compute, timeout=60) == 1
    assert memoized("memo:b", compute, timeout=60) == 2
    assert len(calls) == 2


def test_a_falsy_value_is_a_hit_too():
    calls: list[int] = []

    def nothing() -> list[int]:
        calls.append(1)
        return []

    assert memoized("memo:empty", nothing, timeout=60) == []
    assert memoized("memo:empty", nothing, timeout=60) == []
    assert len(calls) == 1


class DownCache:
    """A cache whose every call fails like a Redis that refuses connections; counts the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def get(self, *args: object, **kwargs: object) -> object:
        self.calls += 1
        raise RedisConnectionError("cache down")

    set = get


def test_a_failing_cache_computes_the_value_and_is_left_alone_for_a_while(monkeypatch):
    down = DownCache()
    monkeypatch.setattr(memo, "cache", down)
    _, compute = counter()
    assert memoized("memo:c", compute, timeout=60) == 1
    assert not breaker.CACHE.closed and down.calls == 1
    # While the breaker is open the cache is not even tried: each read computes.
    assert memoized("memo:c", compute, timeout=60) == 2
    assert down.calls == 1


class ReadOnlyCache(DownCache):
    """A cache that misses every read and fails every write."""

    def get(self, key: str, default: object = None) -> object:
        return default

    def set(self, *args: object, **kwargs: object) -> None:
        super().get()


def test_a_cache_failing_to_store_still_gives_the_value(monkeypatch):
    down = ReadOnlyCache()
    monkeypatch.setattr(memo, "cache", down)
    _, compute = counter()
    assert memoized("memo:d", compute, timeout=60) == 1
    assert not breaker.CACHE.closed and down.calls == 1
