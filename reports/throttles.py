"""Per-address rate limit on filing reports (API and web form alike)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from .identity import address_key, client_ip

logger = logging.getLogger(__name__)


class ReportRateThrottle(SimpleRateThrottle):
    """OUTAGEHUB_REPORT_RATE_LIMIT reports per client address.

    The cache key is a keyed hash of the address, so not even the cache holds
    it. When the cache is down the limiter fails open: losing a report to an
    infrastructure fault is worse than a burst getting through.
    """

    scope = "reports"

    def get_rate(self) -> str:
        return settings.OUTAGEHUB_REPORT_RATE_LIMIT

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": address_key(client_ip(request.META))}

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as exc:
            logger.warning("rate limiter unavailable, allowing request: %s", type(exc).__name__)
            return True

    def retry_after(self) -> int:
        """Whole seconds until the client may try again (at least 1)."""
        return max(1, int((self.wait() or 1) + 0.999))
