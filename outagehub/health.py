"""Liveness for load balancers and Compose: the process answers and the database too.

Health checks reach the process by address (Compose: 127.0.0.1:8000; a load balancer: the
container's IP), so their Host header is not one of ALLOWED_HOSTS and Django would answer 400
before any view ran. HealthCheckMiddleware, first in MIDDLEWARE, answers GET /healthz before
anything reads the Host header; every other path is still held to ALLOWED_HOSTS. The answer
names no host and holds no secret, so it may go to whoever asks.
"""

from __future__ import annotations

from collections.abc import Callable

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


class HealthCheckMiddleware:
    """Answers /healthz whatever the Host header says; must come before Security/CommonMiddleware."""

    PATH = "/healthz"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == self.PATH:
            return healthz(request)
        return self.get_response(request)
