"""The admin site, with failed logins limited per client address (OUTAGEHUB_ADMIN_LOGIN_RATE_LIMIT)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from reports.intake.throttles import AdminLoginThrottle, release_request


class OutageHubAdminSite(admin.AdminSite):
    site_header = "OutageHub administration"

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Django's login view, behind the limiter: every attempt takes a place, a login that works gives it back.

        Over the limit, a 429 with Retry-After before the password is even checked, so guessing
        costs the guesser time and the server no password hashing.
        """
        if request.method != "POST":
            return super().login(request, extra_context)
        throttle = AdminLoginThrottle()
        if not throttle.allow_request(request, None):
            seconds = throttle.retry_after()
            message = f"Too many failed logins from your address. Try again in {seconds} seconds."
            response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
            response["Retry-After"] = str(seconds)
            return response
        response = super().login(request, extra_context)
        if response.status_code == 302 and request.user.is_authenticated:  # logged in: it was no guess
            release_request(request)
        return response
