"""Content-Security-Policy on every response that has none.

The pages load nothing but their own files: no inline script, no inline style,
no style attribute, no event handler attribute, nothing from another host.
The policy says so, so an injected <script> or a stray third-party asset is
refused by the browser instead of run. The directives are settings.CSP_DIRECTIVES
(outagehub/settings.py, its own block), one string per directive.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

HEADER = "Content-Security-Policy"

Handler = Callable[[HttpRequest], HttpResponseBase]


def csp_header(directives: Mapping[str, str]) -> str:
    """'default-src 'self'; img-src 'self'': the directives in their given order, empty ones left out."""
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items() if value is not None)


class ContentSecurityPolicyMiddleware:
    """Adds the policy to responses that do not set their own (a view may, for a stricter one)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.value = csp_header(settings.CSP_DIRECTIVES)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if self.value and HEADER not in response:
            response[HEADER] = self.value
        return response
