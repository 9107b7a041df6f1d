"""The report intake's front door: a plain report POST answered before Django's request machinery.

At outage scale nearly every request is the same small report POST. Through Django it pays for
thirteen middlewares, URL resolution and the view's dispatch before any report work starts:
about three times the cost of taking the report itself (see README, Benchmarks). This WSGI
layer, in front of Django (outagehub/wsgi.py), answers exactly the requests fastpath.py
answers, with the same checks, limits and body, reading the WSGI environ itself (Django's
request code decides the Host and the scheme, once per set of those headers), and adds the
headers the middlewares would add to that answer (tests compare the two answers whole).

Everything else goes to Django untouched (with the body it read put back): another path or
method, anything fastpath.py hands to the DRF view (an unusual body or header, an unknown
service, a throttled client, intake unavailable), a Host not allowed, a request the SSL
redirect must answer. It runs only with write-behind intake (Redis and PostgreSQL): the
embedded default goes the long way.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import setting_changed
from django.db import close_old_connections
from django.dispatch import receiver
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware

from outagehub import csp
from outagehub.metrics import intake_answered
from reports.api.fastpath import ALLOW, DECLINED, body_fields, plain_length, report_take_answer
from reports.intake import writebehind
from reports.intake.gate import REPORT_PATH

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _passthrough(request: Any) -> Any:
    raise AssertionError("the front's middlewares only shape responses")  # pragma: no cover


# What the front learnt once and reuses; forgotten when a setting changes (tests, never in service).
_headers: dict[tuple[int, bool], list[tuple[str, str]]] = {}
_verdicts: dict[tuple[Any, ...], bool | None] = {}
_VERDICTS_MAX = 1024  # distinct Host (and proxy) header combinations remembered; hostile ones can't grow it
# Every WSGI variable Django reads to find the host and the scheme (get_host, is_secure).
_HOST_KEYS = (
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "wsgi.url_scheme",
)
_STATUS = {code: f"{code} {HTTPStatus(code).phrase}" for code in (201, 202)}  # the front's only answers

# Django runs close_old_connections around every request (request_started, request_finished): it
# closes a connection past CONN_MAX_AGE or broken (a database restart) and re-arms its health
# check. A call costs about 10 µs (asgiref locals, async-safety checks): around every report that
# was half the front's own work, for a database the front rarely touches (an id block per 1,000
# reports, the catalog every few seconds, the fallbacks). So the front does it at most once per
# HYGIENE_SECONDS per thread, and after any report that did not end in a 201: a 202 or an error
# means the database or Redis failed it. A broken connection used within that second fails its
# report over to the broker (202, durable), and is dropped right after.
HYGIENE_SECONDS = 1.0
_hygiene = threading.local()


def _hygiene_due() -> bool:
    now = time.monotonic()
    if now < getattr(_hygiene, "next", 0.0):
        return False
    _hygiene.next = now + HYGIENE_SECONDS
    return True


@receiver(setting_changed)
def _forget(**kwargs: Any) -> None:
    _headers.clear()
    _verdicts.clear()


def _verdict(environ: dict[str, Any]) -> bool | None:
    """Whether the request is over HTTPS, or None when Django must answer it: a Host not allowed (400)
    or a plain-HTTP request the SSL redirect must answer.

    Decided by Django's own request code, once per distinct set of the headers it reads for this.
    """
    proxy = settings.SECURE_PROXY_SSL_HEADER
    key = (*(environ.get(name) for name in _HOST_KEYS), environ.get(proxy[0]) if proxy else None)
    try:
        return _verdicts[key]
    except KeyError:
        pass
    request = WSGIRequest(environ)  # reads no body
    verdict: bool | None
    try:
        request.get_host()
    except DisallowedHost:
        verdict = None
    else:
        secure = request.is_secure()
        verdict = None if settings.SECURE_SSL_REDIRECT and not secure else secure
    if len(_verdicts) >= _VERDICTS_MAX:
        _verdicts.clear()
    _verdicts[key] = verdict
    return verdict


def _shaped_headers(environ: dict[str, Any], status: int, secure: bool) -> list[tuple[str, str]]:
    """The answer's headers with those the middlewares add (settings.MIDDLEWARE), less Content-Length.

    Built once per status and scheme by the middlewares' own response code (their headers do not
    depend on anything else for this answer), then reused: setting them on every response cost
    more than taking the report.
    """
    key = (status, secure)
    headers = _headers.get(key)
    if headers is None:
        request = WSGIRequest(environ)
        response = HttpResponse(status=status, content_type="application/json")
        response["Allow"] = ALLOW
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

    @staticmethod
    def _answer(environ: dict[str, Any], start_response: Callable[..., Any], slug: str) -> Iterable[bytes] | None:
        started = time.perf_counter()
        length = plain_length(environ)
        if length is None:
            return None
        secure = _verdict(environ)
        if secure is None:
            return None
        body = environ["wsgi.input"].read(length)
        fields = body_fields(body)
        if fields is None:
            return ReportFront._to_django(environ, body)
        if _hygiene_due():
            close_old_connections()  # see HYGIENE_SECONDS; only the database: the front opens no cache
        try:
            answer = report_take_answer(environ, fields, slug)
        except BaseException:
            close_old_connections()
            raise
        if answer is None:
            return ReportFront._to_django(environ, body)  # Django's own request_started cleans up first
        status, content = answer
        if status != 201:
            close_old_connections()
        start_response(
            _STATUS[status], [*_shaped_headers(environ, status, secure), ("Content-Length", str(len(content)))]
        )
        intake_answered(channel="api", status=status, seconds=time.perf_counter() - started)
        return [content]

    @staticmethod
    def _to_django(environ: dict[str, Any], body: bytes) -> None:
        environ["wsgi.input"] = io.BytesIO(body)  # Django answers it from the start: give the body back
        environ[DECLINED] = True  # and its view need not try what the front just tried
