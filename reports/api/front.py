"""The report intake's front door: a plain report POST answered before Django's request machinery.

At outage scale nearly every request is the same small report POST. Through Django it pays for
thirteen middlewares, URL resolution and the view's dispatch before any report work starts:
about three times the cost of taking the report itself (see README, Benchmarks). This WSGI
layer, in front of Django (outagehub/wsgi.py), answers exactly the requests fastpath.py
answers, with the same checks, limits and body, using Django's own request object, and adds
the headers the middlewares would add to that answer (tests compare the two answers whole).

Everything else goes to Django untouched (with the body it read put back): another path or
method, anything fastpath.py hands to the DRF view (an unusual body or header, an unknown
service, a throttled client, intake unavailable), a Host not allowed, a request the SSL
redirect must answer. It runs only with write-behind intake (Redis and PostgreSQL): the
embedded default goes the long way.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware

from outagehub import csp
from outagehub.metrics import intake_answered
from reports.api.fastpath import report_post_fast
from reports.intake import writebehind
from reports.intake.gate import REPORT_PATH

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _passthrough(request: Any) -> Any:
    raise AssertionError("the front's middlewares only shape responses")  # pragma: no cover


_headers: dict[tuple[int, bool], list[tuple[str, str]]] = {}


def _shaped_headers(request: WSGIRequest, response: HttpResponse) -> list[tuple[str, str]]:
    """The answer's headers with those the middlewares add (settings.MIDDLEWARE), less Content-Length.

    Built once per status and scheme by the middlewares' own response code (their headers do not
    depend on anything else for this answer), then reused: setting them on every response cost
    more than taking the report.
    """
    key = (response.status_code, request.is_secure())
    headers = _headers.get(key)
    if headers is None:
        XFrameOptionsMiddleware(_passthrough).process_response(request, response)
        policy = csp.csp_header(settings.CSP_DIRECTIVES)
        if policy:
            response[csp.HEADER] = policy  # ContentSecurityPolicyMiddleware
        SecurityMiddleware(_passthrough).process_response(request, response)
        response["Cache-Control"] = "no-store"  # ApiConditionalGetMiddleware: a write's answer is never stored
        headers = _headers[key] = [(k, v) for k, v in response.items() if k != "Content-Length"]
    return headers


class ReportFront:
    """WSGI middleware: answers a plain report POST itself, hands every other request to `app`."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST" and writebehind.enabled():
            match = REPORT_PATH.match(environ.get("PATH_INFO", ""))
            if match is not None:
                answer = self._answer(environ, start_response, match.group(1))
                if answer is not None:
                    return answer
        return self.app(environ, start_response)

    def _answer(self, environ: dict[str, Any], start_response: Callable[..., Any], slug: str) -> Iterable[bytes] | None:
        started = time.perf_counter()
        # As Django's WSGIHandler: request_started lets Django recycle stale database connections
        # (a report may need one: ids reserved a block at a time, or Redis down), request_finished
        # below closes what must not outlive the request.
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            request = WSGIRequest(environ)
            response = self._response(request, slug)
            if response is None:
                if hasattr(request, "_body"):  # read: Django answers it from the start, give the body back
                    environ["wsgi.input"] = io.BytesIO(request._body)
                return None
        finally:
            signals.request_finished.send(sender=self.__class__)
        body = response.content
        headers = [*_shaped_headers(request, response), ("Content-Length", str(len(body)))]  # CommonMiddleware's
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        intake_answered(channel="api", status=response.status_code, seconds=time.perf_counter() - started)
        return [body]

    @staticmethod
    def _response(request: WSGIRequest, slug: str) -> HttpResponse | None:
        try:
            request.get_host()  # a Host not allowed: Django's 400
        except DisallowedHost:
            return None
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return None  # SecurityMiddleware's redirect
        return report_post_fast(request, slug)
