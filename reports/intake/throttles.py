"""Per-address rate limits: on filing reports (API and web form alike) and on anonymous API reads."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle

from outagehub import breaker
from reports.intake.identity import address_key, client_ip
from reports.models import ApiKey


class AddressRateThrottle(SimpleRateThrottle):
    """A rate per client address, read from the setting named by `rate_setting` on every request.

    Read per request rather than at class definition (as DRF does) so tests and operators can
    change it. The cache key is a keyed hash of the address, so not even the cache holds it.
    When the cache is down the limiter fails open: refusing everyone because of an
    infrastructure fault is worse than a burst getting through.
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

    def retry_after(self) -> int:
        """Whole seconds until the client may try again (at least 1)."""
        return max(1, int((self.wait() or 1) + 0.999))


class ReportRateThrottle(AddressRateThrottle):
    """OUTAGEHUB_REPORT_RATE_LIMIT reports per client address (losing a report to a cache fault is worse).

    Only reports taken count: `allow_request` checks a POST against the reports already taken
    and records nothing; the view calls `record` once it has answered 2xx. A refused body, an
    unknown service or a wrong method (not throttled at all: it gets its 405) costs nothing,
    so a client fixing a typo is not locked out. Concurrent requests may all pass the check
    before any records: DRF's read-then-write limiter has the same race, and the limit is a
    brake on floods, not an exact quota.
    """

    scope = "reports"
    rate_setting = "OUTAGEHUB_REPORT_RATE_LIMIT"

    def allow_request(self, request: Any, view: Any) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)

    def throttle_success(self) -> bool:
        return True  # checked, not recorded: see record()

    def record(self, request: Any) -> None:
        """Count a report just taken (answered 2xx) against its client address."""
        duration = self.duration
        if duration is None or not breaker.CACHE.closed:
            return
        key = self.get_cache_key(request, None)
        try:
            now = self.timer()
            # Newest first, as SimpleRateThrottle keeps it; re-read so a concurrent record is kept.
            history = [at for at in self.cache.get(key, []) if at > now - duration]
            self.cache.set(key, [now, *history], duration)
        except (RedisError, OSError) as exc:
            breaker.CACHE.failed(exc)


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
