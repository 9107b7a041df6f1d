"""While the database is unreachable (a restart, a failover), a request that needs it gets a 503, not a 500.

The database restarting is an outage of ours that passes by itself: the client should come back
in a moment (Retry-After), a load balancer should not count it as a bug, and no stack trace
should reach anyone. Django reconnects by itself once the database is back (CONN_HEALTH_CHECKS
and close_old_connections at each request's start), so no process needs a restart. Report
intake does not get here: with write-behind it needs no database, and otherwise it defers the
report to the broker (202).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.translation import gettext as _

from outagehub.api.errors import error_body

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 15
DATABASE_DOWN = (OperationalError, InterfaceError)


class DatabaseUnavailableMiddleware:
    """Turns a view's lost database connection into 503 + Retry-After (JSON under /api/, a short page elsewhere)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponseBase | None:
        if not isinstance(exception, DATABASE_DOWN):
            return None
        logger.warning("database unavailable (%s): answered 503", type(exception).__name__)
        message = _("OutageHub is briefly unavailable. Please try again in a minute.")
        response: HttpResponseBase
        if request.path.startswith("/api/"):
            response = JsonResponse(error_body(message=message, code="unavailable"), status=503)
        else:
            response = HttpResponse(
                f"<!doctype html><meta charset=utf-8><title>{message}</title><h1>{message}</h1>", status=503
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
