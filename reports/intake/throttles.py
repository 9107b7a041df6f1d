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
from reports.intake import writebehind
from reports.intake.identity import IPAddress, address_key, client_ip, network_key
from reports.intake.limits import INTAKE_KEY_PREFIX, RESERVE_LUA, Limit, Refusal, limit_args, parse_rate
from reports.models import ApiKey, RateLimitLog

__all__ = ["Limit", "Refusal", "parse_rate"]  # their home is limits.py; importable from here as before

logger = logging.getLogger(__name__)

# Where a request's reservations wait to be released (on the HttpRequest, so DRF's and Django's agree).
_RESERVATION_ATTR = "_outagehub_reservations"


@dataclass(frozen=True)
class Reservation:
    """One hit, at `at`, taken in each of `limits`, and its id in the Redis logs: what release() takes back."""

    limits: tuple[Limit, ...]
    at: float
    member: str
    intake: bool = False  # held in the write-behind intake's Redis (see reserve)


# KEYS: one sorted set per limit. ARGV: now, the hit's id, then count and period (seconds) per limit.
_RESERVE_LUA = (
    RESERVE_LUA
    + """
local index, oldest = reserve(1, #KEYS, tonumber(ARGV[1]), ARGV[2], 3)
return {index, oldest}
"""
)


class _RedisLimiter:
    def __init__(self, client: Any, prefix: str) -> None:
        self.client, self.prefix = client, prefix

    def _key(self, limit: Limit) -> str:
        return f"{self.prefix}{limit.key}"

    def reserve(self, limits: tuple[Limit, ...], now: float, member: str) -> Refusal | None:
        script = _script(self.client)
        index, oldest = script(
            keys=[self._key(limit) for limit in limits], args=[repr(now), member, *limit_args(limits)]
        )
        return None if index == 0 else Refusal(limits[index - 1], float(oldest))

    def release(self, reservation: Reservation) -> None:
        with self.client.pipeline() as pipe:
            for limit in reservation.limits:
                pipe.zrem(self._key(limit), reservation.member)
            pipe.execute()


_scripts: dict[int, Any] = {}


def _script(client: Any) -> Any:
    """The reserve script bound to `client`, built once per client (building one hashes the source)."""
    script = _scripts.get(id(client))
    if script is None or script.registered_client is not client:
        script = _scripts[id(client)] = client.register_script(_RESERVE_LUA)
    return script


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


def _limiter(*, intake: bool = False) -> _RedisLimiter | _DatabaseLimiter:
    if intake:
        return _RedisLimiter(writebehind.client(), INTAKE_KEY_PREFIX)
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        return _RedisLimiter(cache._cache.get_client(write=True), cache.make_key("rl:"))
    return _DatabaseLimiter()


# What makes the limiter unavailable: then the limit fails open (refusing everyone because of an
# infrastructure fault is worse than a burst getting through); a Redis fault also opens the breaker.
_LIMITER_DOWN = (RedisError, OSError, InterfaceError, OperationalError)


def reserve(
    limits: tuple[Limit, ...], now: float, *, intake: bool = False
) -> tuple[Reservation | None, Refusal | None]:
    """Take one hit in every limit, or in none: (reservation, None), or (None, the limit that is full).

    (None, None) when the limiter is unavailable: the request passes, uncounted. `intake`: the
    limits live in the write-behind intake's Redis, where report_take checks them too.
    """
    if not limits or not breaker.CACHE.closed:
        return None, None
    member = f"{now!r}:{secrets.token_hex(6)}"  # two hits in one microsecond stay two hits
    try:
        refusal = _limiter(intake=intake).reserve(limits, now, member)
    except _LIMITER_DOWN as exc:
        _limiter_failed(exc)
        return None, None
    if refusal is not None:
        return None, refusal
    return Reservation(limits, now, member, intake), None


def release(reservation: Reservation) -> None:
    """Take back the hit `reservation` took."""
    if not breaker.CACHE.closed:
        return
    try:
        _limiter(intake=reservation.intake).release(reservation)
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

    def on_intake(self) -> bool:
        """Whether this throttle's limits live in the write-behind intake's Redis (see ReportRateThrottle)."""
        return False

    def allow_request(self, request: Any, view: Any) -> bool:
        self.now = self.timer()
        limits = self.limits(request)
        self.gate_wait = FLOOD_GATE.wait([limit.key for limit in limits], self.now)
        if self.gate_wait > 0:
            return False  # refused moments ago: no need to ask the limiter again
        reservation, self.refusal = reserve(limits, self.now, intake=self.on_intake())
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

    def on_intake(self) -> bool:
        # With write-behind intake, report_take checks these same limits in its one script (the
        # lean paths, reports/api/fastpath.py and front.py): both must read and write one log.
        return writebehind.enabled()

    def limits(self, request: Any) -> tuple[Limit, ...]:
        return report_limits(client_ip(request.META))

    def allow_request(self, request: Any, view: Any) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)


def report_limits(ip: IPAddress | None) -> tuple[Limit, ...]:
    """The rate limits a report from `ip` is checked against: its address's, and its network's if known."""
    limits = [Limit.from_rate(f"reports:{address_key(ip)}", settings.OUTAGEHUB_REPORT_RATE_LIMIT)]
    network = network_key(ip)
    if network is not None:
        limits.append(Limit.from_rate(f"reports-net:{network}", settings.OUTAGEHUB_NETWORK_REPORT_RATE_LIMIT))
    return tuple(limits)


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
