"""Rate limits: reports per client address and per network, admin logins per address, API reads per address.

Reports and logins go through an atomic limiter (`reserve`): a request takes its place in the
log *before* it is handled, in one step no other request can interleave with, so 60
simultaneous reports from one address let exactly the limit through, on any number of
processes. (DRF's throttle reads the history, then writes it: concurrent requests all read
the same history and all pass.) A request that turns out not to count (a refused body, a
login that works) gives its place back (`release`).

Each limit is a sliding log, as DRF's: the times of the hits within the last period, so a
client over the limit is told exactly when the oldest hit leaves it. It lives in Redis when
the cache is Redis (a sorted set per key, checked and written by one Lua script), else in the
database (a row per key, read and written under a row lock in one transaction).

Reads keep DRF's throttle on the cache: for hundreds of reads a minute a few extra in a race
do not matter, and a read costs one cache round trip and no database write.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import secrets
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import InterfaceError, OperationalError, transaction
from redis.exceptions import RedisError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from outagehub import breaker
from reports.intake.identity import address_key, client_ip, network_key
from reports.models import ApiKey, RateLimitLog

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Where a request's reservations wait to be released (on the HttpRequest, so DRF's and Django's agree).
_RESERVATION_ATTR = "_outagehub_reservations"


def parse_rate(rate: str) -> tuple[int, int]:
    """`"10/min"` -> (10, 60): requests per period in seconds (settings validate the format at start)."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0]]


@dataclass(frozen=True)
class Limit:
    """At most `count` hits of `key` (a keyed hash, never an address) in any `period` seconds."""

    key: str
    count: int
    period: int

    @classmethod
    def from_rate(cls, key: str, rate: str) -> Limit:
        count, period = parse_rate(rate)
        return cls(key=key, count=count, period=period)


@dataclass(frozen=True)
class Refusal:
    """The limit that is full, and when its oldest hit within the period leaves it (a Unix time)."""

    limit: Limit
    oldest: float

    def wait(self, now: float) -> float:
        """Seconds until one more hit fits, if no one else hits meanwhile (at most the period)."""
        # Clamped: a concurrent request that took its time a moment after `now` may be the oldest.
        return min(float(self.limit.period), max(0.0, self.oldest + self.limit.period - now))


@dataclass(frozen=True)
class Reservation:
    """One hit, at `at`, taken in each of `limits`, and its id in the Redis logs: what release() takes back."""

    limits: tuple[Limit, ...]
    at: float
    member: str


# KEYS: one sorted set per limit (hit id -> time). ARGV: now, the hit's id, then count and period
# (seconds) per limit. All or nothing: if any limit is full nothing is written, and which one
# comes back with the time of its oldest hit.
_RESERVE_LUA = """
local now = tonumber(ARGV[1])
for i = 1, #KEYS do
  local period = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - period)
  if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[1 + 2 * i]) then
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    return {i, oldest[2]}
  end
end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[i], math.ceil(tonumber(ARGV[2 + 2 * i]) * 1000))
end
return {0, '0'}
"""


class _RedisLimiter:
    def __init__(self, cache: RedisCache) -> None:
        self.cache = cache
        self.client = cache._cache.get_client(write=True)

    def _key(self, limit: Limit) -> str:
        return self.cache.make_key(f"rl:{limit.key}")

    def reserve(self, limits: tuple[Limit, ...], now: float, member: str) -> Refusal | None:
        args: list[str] = [repr(now), member]
        for limit in limits:
            args += [str(limit.count), str(limit.period)]
        script = self.client.register_script(_RESERVE_LUA)
        index, oldest = script(keys=[self._key(limit) for limit in limits], args=args)
        return None if index == 0 else Refusal(limits[index - 1], float(oldest))

    def release(self, reservation: Reservation) -> None:
        with self.client.pipeline() as pipe:
            for limit in reservation.limits:
                pipe.zrem(self._key(limit), reservation.member)
            pipe.execute()


class _DatabaseLimiter:
    """The embedded default's: each key's row is locked for the transaction (SELECT ... FOR UPDATE on
    PostgreSQL; SQLite's write transaction), so reading the log and adding to it is one step."""

    def _locked(self, limits: tuple[Limit, ...]) -> dict[str, RateLimitLog]:
        keys = sorted({limit.key for limit in limits})  # one order for everyone: no deadlocks
        now = dt.datetime.now(dt.UTC)
        RateLimitLog.objects.bulk_create(
            [RateLimitLog(key=key, hits=[], expires_at=now) for key in keys], ignore_conflicts=True
        )
        return {log.key: log for log in RateLimitLog.objects.select_for_update().filter(key__in=keys).order_by("key")}

    def reserve(self, limits: tuple[Limit, ...], now: float, member: str) -> Refusal | None:
        with transaction.atomic():
            logs = self._locked(limits)
            for limit in limits:
                log = logs[limit.key]
                log.hits = [at for at in log.hits if at > now - limit.period]
                if len(log.hits) >= limit.count:
                    return Refusal(limit, min(log.hits))
            for limit in limits:
                log = logs[limit.key]
                log.hits.append(now)
                log.expires_at = dt.datetime.fromtimestamp(now + limit.period, dt.UTC)
                log.save(update_fields=["hits", "expires_at"])
        return None

    def release(self, reservation: Reservation) -> None:
        with transaction.atomic():
            logs = self._locked(reservation.limits)
            for log in logs.values():
                if reservation.at in log.hits:
                    log.hits.remove(reservation.at)
                    log.save(update_fields=["hits"])


def _limiter() -> _RedisLimiter | _DatabaseLimiter:
    cache = caches["default"]
    return _RedisLimiter(cache) if isinstance(cache, RedisCache) else _DatabaseLimiter()


# What makes the limiter unavailable: then the limit fails open (refusing everyone because of an
# infrastructure fault is worse than a burst getting through); a Redis fault also opens the breaker.
_LIMITER_DOWN = (RedisError, OSError, InterfaceError, OperationalError)


def reserve(limits: tuple[Limit, ...], now: float) -> tuple[Reservation | None, Refusal | None]:
    """Take one hit in every limit, or in none: (reservation, None), or (None, the limit that is full).

    (None, None) when the limiter is unavailable: the request passes, uncounted.
    """
    if not limits or not breaker.CACHE.closed:
        return None, None
    member = f"{now!r}:{secrets.token_hex(6)}"  # two hits in one microsecond stay two hits
    try:
        refusal = _limiter().reserve(limits, now, member)
    except _LIMITER_DOWN as exc:
        _limiter_failed(exc)
        return None, None
    if refusal is not None:
        return None, refusal
    return Reservation(limits, now, member), None


def release(reservation: Reservation) -> None:
    """Take back the hit `reservation` took."""
    if not breaker.CACHE.closed:
        return
    try:
        _limiter().release(reservation)
    except _LIMITER_DOWN as exc:
        _limiter_failed(exc)


def _limiter_failed(exc: BaseException) -> None:
    if isinstance(exc, RedisError | OSError):
        breaker.CACHE.failed(exc)
    else:
        logger.warning("rate limiter unavailable (%s): request let through", type(exc).__name__)


class FloodGate:
    """Per process: limit keys refused moments ago, and until when they stay refused (Unix times).

    A client over its limit usually keeps going. Remembering the refusal until its Retry-After
    lets this process refuse the next attempts without asking Redis or the database again (and,
    in ReportFloodGateMiddleware, before any view runs), so a flood costs the server little and
    its neighbours nothing they would notice. It never refuses longer than the limiter said,
    so it can only be briefly stricter than the limiter (if a place was given back meanwhile).
    """

    MAX_KEYS = 10_000  # bounded: a flood from many addresses cannot grow it without end

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def block(self, key: str, until: float) -> None:
        with self._lock:
            if len(self._until) >= self.MAX_KEYS:
                now = time.time()
                self._until = {k: t for k, t in self._until.items() if t > now}
                if len(self._until) >= self.MAX_KEYS:
                    self._until.clear()
            self._until[key] = max(until, self._until.get(key, 0.0))

    def wait(self, keys: list[str], now: float) -> float:
        """Seconds until none of `keys` is refused here any more (0: none is)."""
        return max((self._until.get(key, 0.0) - now for key in keys), default=0.0)

    def clear(self) -> None:
        with self._lock:
            self._until.clear()


FLOOD_GATE = FloodGate()


def rate_limits_prune(*, now: dt.datetime) -> int:
    """Delete the database logs whose every hit has left its period; returns how many."""
    deleted, _ = RateLimitLog.objects.filter(expires_at__lt=now).delete()
    return deleted


class ReservingThrottle(BaseThrottle, ABC):
    """A DRF throttle over `reserve`: a request that passes holds its places until released.

    Whoever handles the request calls `release_request(request)` when it turns out not to count.
    """

    scope: str

    def __init__(self) -> None:
        self.refusal: Refusal | None = None
        self.gate_wait = 0.0
        self.now = 0.0

    @abstractmethod
    def limits(self, request: Any) -> tuple[Limit, ...]:
        """The limits this request is checked against (each subclass names its own)."""

    def timer(self) -> float:
        return time.time()

    def allow_request(self, request: Any, view: Any) -> bool:
        self.now = self.timer()
        limits = self.limits(request)
        self.gate_wait = FLOOD_GATE.wait([limit.key for limit in limits], self.now)
        if self.gate_wait > 0:
            return False  # refused moments ago: no need to ask the limiter again
        reservation, self.refusal = reserve(limits, self.now)
        if self.refusal is not None:
            FLOOD_GATE.block(self.refusal.limit.key, self.now + self.refusal.wait(self.now))
        if reservation is not None:
            http_request = getattr(request, "_request", request)
            setattr(http_request, _RESERVATION_ATTR, [*getattr(http_request, _RESERVATION_ATTR, []), reservation])
        return self.refusal is None

    def wait(self) -> float | None:
        if self.gate_wait > 0:
            return self.gate_wait
        return None if self.refusal is None else self.refusal.wait(self.now)

    def retry_after(self) -> int:
        """Whole seconds until the client may try again (at least 1)."""
        return max(1, math.ceil(self.wait() or 1))


def release_request(request: Any) -> None:
    """Give back every place a request took: it turned out not to count (refused, or a login that worked)."""
    http_request = getattr(request, "_request", request)
    for reservation in getattr(http_request, _RESERVATION_ATTR, []):
        release(reservation)
    setattr(http_request, _RESERVATION_ATTR, [])


class ReportRateThrottle(ReservingThrottle):
    """Reports per client address (OUTAGEHUB_REPORT_RATE_LIMIT) and per network
    (OUTAGEHUB_NETWORK_REPORT_RATE_LIMIT, an IPv4 /24 or IPv6 /48), on the API and the form alike.

    Only reports taken count: the view releases the request's places when it answers anything
    but 2xx, so a refused body or an unknown service costs nothing and a client fixing a typo
    is not locked out. Other methods are not throttled (a wrong one gets its 405).
    """

    scope = "reports"

    def limits(self, request: Any) -> tuple[Limit, ...]:
        ip = client_ip(request.META)
        limits = [Limit.from_rate(f"reports:{address_key(ip)}", settings.OUTAGEHUB_REPORT_RATE_LIMIT)]
        network = network_key(ip)
        if network is not None:
            limits.append(Limit.from_rate(f"reports-net:{network}", settings.OUTAGEHUB_NETWORK_REPORT_RATE_LIMIT))
        return tuple(limits)

    def allow_request(self, request: Any, view: Any) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)


class AdminLoginThrottle(ReservingThrottle):
    """Failed admin logins per client address (OUTAGEHUB_ADMIN_LOGIN_RATE_LIMIT); a login that works is given back."""

    scope = "admin-login"

    def limits(self, request: Any) -> tuple[Limit, ...]:
        key = f"admin-login:{address_key(client_ip(request.META))}"
        return (Limit.from_rate(key, settings.OUTAGEHUB_ADMIN_LOGIN_RATE_LIMIT),)


class AddressRateThrottle(SimpleRateThrottle):
    """A rate per client address, read from the setting named by `rate_setting` on every request.

    Read per request rather than at class definition (as DRF does) so tests and operators can
    change it. The cache key is a keyed hash of the address, so not even the cache holds it.
    When the cache is down the limiter fails open.
    """

    rate_setting: str
    duration: int | None  # seconds; parsed from the rate by SimpleRateThrottle.__init__

    def get_rate(self) -> str:
        return getattr(settings, self.rate_setting)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": address_key(client_ip(request.META))}

    def allow_request(self, request: Any, view: Any) -> bool:
        if not breaker.CACHE.closed:
            return True  # the cache failed moments ago: fail open without waiting on it again
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as exc:
            breaker.CACHE.failed(exc)
            return True


class ReadRateThrottle(AddressRateThrottle):
    """OUTAGEHUB_READ_RATE_LIMIT reads (GET, HEAD, OPTIONS) per client address, over every API view.

    The default throttle of every DRF view (REST_FRAMEWORK in settings); writes pass untouched,
    so filing a report counts only against its own limit. A valid API key lifts it (a bad one
    is a 401 before any throttle runs).
    """

    scope = "reads"
    rate_setting = "OUTAGEHUB_READ_RATE_LIMIT"

    def allow_request(self, request: Any, view: Any) -> bool:
        if request.method not in SAFE_METHODS or isinstance(request.auth, ApiKey):
            return True
        return super().allow_request(request, view)
