"""HTTP around the public API: cross-origin reads, Cache-Control and conditional GET.

Only paths under /api/ are touched; the HTML pages and /static/ keep their own headers.
CORS is django-cors-headers, configured in settings (CORS_*) and kept to reads here.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from corsheaders.conf import conf as cors_conf
from corsheaders.middleware import CorsMiddleware
from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.cache import get_conditional_response, set_response_etag
from django.utils.http import http_date, parse_http_date_safe
from redis.exceptions import RedisError

from outagehub import breaker
from outagehub.api.errors import error_body

API_PREFIX = "/api/"
READS = frozenset({"GET", "HEAD"})

# The cache holding, per URL, the ETag last served and since when (see _last_modified).
LAST_MODIFIED_CACHE = "conditional"
LAST_MODIFIED_TTL = 3600  # seconds; a forgotten URL's next read starts a new Last-Modified
KEY_HEADERS = ("Authorization", "X-Api-Key")

Handler = Callable[[HttpRequest], HttpResponseBase]


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


class ApiCorsMiddleware(CorsMiddleware):
    """django-cors-headers, for reads only: reads under /api/ are open to every origin, writes stay same-origin.

    The library puts CORS headers on every method under CORS_URLS_REGEX, and its
    CORS_ALLOW_METHODS cannot keep writes out: POST is a CORS-safelisted method, which a browser
    allows whatever Access-Control-Allow-Methods says, and a form-like POST is sent without any
    preflight. So only a request for a method in CORS_ALLOW_METHODS (for a preflight, the one it
    asks about) gets CORS headers; a write, or a preflight for one, gets none, and a browser
    never lets another site file reports or read the answers to its attempts. The origin is
    always "*", without credentials: nothing here depends on cookies.
    """

    def check_preflight(self, request: HttpRequest) -> HttpResponseBase | None:
        response = super().check_preflight(request)  # answered here, before any view
        if response is not None:
            request.get_host()  # a Host not allowed is refused here as everywhere (DisallowedHost: 400)
        return response

    def add_response_headers(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if _cors_method(request) not in cors_conf.CORS_ALLOW_METHODS:
            return response
        return super().add_response_headers(request, response)


def _cors_method(request: HttpRequest) -> str | None:
    """The method a request asks cross-origin permission for: a preflight's requested one, else its own."""
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return request.headers["Access-Control-Request-Method"]
    return request.method


class ApiConditionalGetMiddleware:
    """Cache-Control on every /api/ answer; ETag, Last-Modified and 304 on successful reads.

    Anonymous successful reads may be kept by any cache for OUTAGEHUB_API_CACHE_SECONDS.
    Reads with an API key, or that set a cookie, are for that client only and revalidated.
    Everything else (errors, writes) is never stored: a 429 kept by a proxy would throttle
    everyone behind it, and a report's answer is for its sender.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not _is_api(request):
            return response
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = _cache_control(request, response)
        # Streamed bodies (StreamingHttpResponse, FileResponse) are no HttpResponse: no ETag for them.
        if request.method not in READS or response.status_code != 200 or not isinstance(response, HttpResponse):
            return response
        if not response.has_header("ETag"):
            set_response_etag(response)  # a hash of the body; none for an empty body
        etag = response.get("ETag")
        if etag is None:
            return response
        last_modified = _last_modified(request, etag)
        if last_modified is not None:
            response["Last-Modified"] = http_date(last_modified)
        _ignore_future_if_modified_since(request)
        conditional = get_conditional_response(request, etag=etag, last_modified=last_modified, response=response)
        assert conditional is not None  # given a response, it returns one
        if conditional.status_code == 412:
            # If-Match or If-Unmodified-Since failed: say so in the one error body.
            conditional = JsonResponse(
                error_body(
                    message="A precondition (If-Match, If-Unmodified-Since) failed.", code="precondition_failed"
                ),
                status=412,
            )
            conditional["Cache-Control"] = "no-store"
        return conditional


def _cache_control(request: HttpRequest, response: HttpResponseBase) -> str:
    if request.method not in READS or response.status_code != 200:
        return "no-store"
    if response.cookies or any(name in request.headers for name in KEY_HEADERS):
        return "private, no-cache"
    return f"public, max-age={settings.OUTAGEHUB_API_CACHE_SECONDS}"


def _ignore_future_if_modified_since(request: HttpRequest) -> None:
    # A date later than our clock is invalid (RFC 2616 14.25): it would make every representation
    # "not modified since" and pin a client to a stale copy forever.
    since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    if since is not None and since > time.time():
        del request.META["HTTP_IF_MODIFIED_SINCE"]


def _last_modified(request: HttpRequest, etag: str) -> int | None:
    """When this URL first answered with `etag`, in whole seconds since the epoch; None if unknown yet.

    The views' content moves with time (counts over trailing windows), so no row holds a
    modification time: the first time a representation is served stands in for it. Each new
    representation of a URL gets a later second than the one before (within one process; two
    processes racing on the same URL may give two the same second), so an If-Modified-Since
    echoing an older one does not match a newer one; when two changes fall within one second the
    newer one's Last-Modified is withheld until that second has passed. Losing the record (cache
    eviction, restart) only moves Last-Modified later: more 200s, never a wrong 304. Clients
    that send If-None-Match too are safe regardless: it takes precedence.
    """
    key = "lm:" + hashlib.sha256(request.get_full_path().encode()).hexdigest()
    now = int(time.time())
    cache = caches[LAST_MODIFIED_CACHE]
    if not breaker.CACHE.closed:
        return None
    try:
        record = cache.get(key)
        if record is not None and record[0] == etag:
            first_served = record[1]
        else:
            first_served = now if record is None else max(now, record[1] + 1)
            cache.set(key, (etag, first_served), LAST_MODIFIED_TTL)
    except (RedisError, OSError) as exc:
        breaker.CACHE.failed(exc)
        return None  # a cache outage costs Last-Modified, never the read
    return first_served if first_served <= now else None
