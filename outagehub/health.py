"""Liveness and readiness for load balancers and Compose, and the metrics endpoint's door.

/healthz: the process answers (and its database). /readyz: it can do its work, the database and
the broker both reachable; a 503 names what is down.

Health checks reach the process by address (Compose: 127.0.0.1:8000; a load balancer: the
container's IP), so their Host header is not one of ALLOWED_HOSTS and Django would answer 400
before any view ran. HealthCheckMiddleware, first in MIDDLEWARE, answers /healthz, /readyz and
/metrics (outagehub/metrics.py, which keeps its own access rule) before anything reads the Host
header; every other path is still held to ALLOWED_HOSTS. The health answers name no host and
hold no secret, so they may go to whoever asks.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return False
    return True


def _broker_ok() -> bool:
    """The broker answers: Redis a PING within a second; the embedded broker's folder is writable."""
    url = settings.CELERY_BROKER_URL
    if url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()
    folder = str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    return os.path.isdir(folder) and os.access(folder, os.W_OK)


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer; else 503 naming each that does not."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    down = [name for name, ok in checks.items() if not ok]
    body = {
        "status": "ok" if not down else "unavailable",
        "checks": {name: "ok" if ok else "unreachable" for name, ok in checks.items()},
        "down": down,
    }
    response = JsonResponse(body, status=503 if down else 200)
    if down:
        response["Retry-After"] = "10"
    return response


class HealthCheckMiddleware:
    """Answers /healthz, /readyz and /metrics whatever the Host header says; must come first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path == "/healthz":
            return healthz(request)
        if path == "/readyz":
            return readyz(request)
        if path == "/metrics":
            from outagehub.metrics import metrics  # prometheus-client only when asked

            return metrics(request)
        return self.get_response(request)
