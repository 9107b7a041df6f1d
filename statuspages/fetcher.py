"""Fetching one status page through the outbound guard: conditional, bounded in time and size.

Pure-ish: the network is the only outside thing it touches, and every setting comes in as an
argument. The result says what happened; it never raises for what the page or the network does.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from outagehub.outbound import Allow, BlockedAddress, http_client, tls_context

USER_AGENT = "OutageHub-StatusPages/1.0 (+https://github.com/outagehub)"
MAX_REDIRECTS = 3
RETRY_AFTER_MAX_SECONDS = 3600  # a Retry-After of a week is not obeyed to the letter


class FetchOutcome:
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    RATE_LIMITED = "rate_limited"
    FAILED = "failed"


@dataclass(frozen=True)
class Fetched:
    outcome: str  # FetchOutcome
    status_code: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str = ""
    last_modified: str = ""
    retry_after: int | None = None  # seconds, from a 429's (or 503's) Retry-After
    error: str = ""
    elapsed_ms: int = 0


@functools.cache
def _tls() -> ssl.SSLContext:
    # Loading the system CA store takes tens of milliseconds; one context serves every poll
    # (an SSLContext may be shared between threads).
    return tls_context()


def retry_after_seconds(value: str, *, now: dt.datetime) -> int | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP date), capped; None if unreadable."""
    value = value.strip()
    if value.isdigit():
        return min(int(value), RETRY_AFTER_MAX_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0, min(int((when - now).total_seconds()), RETRY_AFTER_MAX_SECONDS))


def fetch(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    timeout: float,
    max_bytes: int,
    allow_private: bool,
    also_allow: Allow | None = None,
    now: dt.datetime,
    clock: Callable[[], float] = time.monotonic,
) -> Fetched:
    """GET `url` once, with If-None-Match / If-Modified-Since when we hold a validator.

    `timeout` (seconds) bounds the whole exchange, redirects and a trickling body included;
    a body over `max_bytes` is a failure (never parsed truncated: half a JSON is no JSON).
    """
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json, application/xml;q=0.9, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = clock()
    try:
        client = http_client(
            allow_private=allow_private,
            timeout=timeout,
            total_timeout=timeout,
            max_redirects=MAX_REDIRECTS,
            also_allow=also_allow,
            verify=_tls(),
        )
        with client, client.stream("GET", url, headers=headers) as response:
            return _read(response, max_bytes=max_bytes, now=now, started=started, clock=clock)
    except BlockedAddress as exc:
        return Fetched(FetchOutcome.FAILED, error=f"blocked: {exc}")
    except httpx.TimeoutException:
        return Fetched(FetchOutcome.FAILED, error=f"timed out after {timeout:g} s")
    except httpx.TooManyRedirects:
        return Fetched(FetchOutcome.FAILED, error=f"more than {MAX_REDIRECTS} redirects")
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
        # ValueError: httpx refusing a URL or a header value it cannot send.
        return Fetched(FetchOutcome.FAILED, error=f"{type(exc).__name__}: {exc}"[:300])


def _read(
    response: httpx.Response, *, max_bytes: int, now: dt.datetime, started: float, clock: Callable[[], float]
) -> Fetched:
    kept = {name: response.headers.get(name, "") for name in ("content-type", "etag", "last-modified")}
    base = {
        "status_code": response.status_code,
        "headers": {k: v for k, v in kept.items() if v},
        "etag": kept["etag"][:200],
        "last_modified": kept["last-modified"][:100],
    }
    if response.status_code == 304:
        return Fetched(FetchOutcome.NOT_MODIFIED, **base, elapsed_ms=_ms(started, clock))
    if response.status_code in (429, 503) and "retry-after" in response.headers:
        wait = retry_after_seconds(response.headers["retry-after"], now=now)
        return Fetched(
            FetchOutcome.RATE_LIMITED,
            **base,
            retry_after=wait,
            error=f"HTTP {response.status_code}, Retry-After {response.headers['retry-after'][:40]!r}",
        )
    if response.status_code == 429:
        return Fetched(FetchOutcome.RATE_LIMITED, **base, error="HTTP 429 without Retry-After")
    if response.status_code != 200:
        return Fetched(FetchOutcome.FAILED, **base, error=f"HTTP {response.status_code}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return Fetched(FetchOutcome.FAILED, **base, error=f"body of {declared} bytes is over the {max_bytes} limit")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            return Fetched(FetchOutcome.FAILED, **base, error=f"body is over the {max_bytes} byte limit")
        chunks.append(chunk)
    return Fetched(FetchOutcome.OK, **base, body=b"".join(chunks), elapsed_ms=_ms(started, clock))


def _ms(started: float, clock: Callable[[], float]) -> int:
    return int((clock() - started) * 1000)
