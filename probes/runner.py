"""Running one probe's check with the operator's settings, and knowing when we are the ones offline."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import httpx
from django.conf import settings

from outagehub.outbound import connect_tcp, http_client

from .checkers import CheckResult, run_check, split_host_port
from .models import ErrorClass, Outcome, Probe

# A prober that cannot reach any canary is offline; remembering the answer
# for a while keeps a burst of failing checks from probing the canaries each.
_CANARY_TTL_SECONDS = 30.0
_canary_cache: dict[tuple[str, ...], tuple[float, bool]] = {}
_canary_lock = threading.Lock()


def _reachable(target: str, timeout: float) -> bool:
    """Whether one canary answers: an HTTP(S) URL must answer HTTP, a host:port accept TCP.

    Prefer URLs: some networks (sandboxes, captive portals, firewalls that
    reset late) accept any TCP connection, so a bare connect proves little,
    while an HTTPS answer needs working DNS, routing and a real peer.
    Canaries are the operator's own choice, so private ones are allowed.
    """
    try:
        if target.startswith(("http://", "https://")):
            with http_client(allow_private=True, timeout=timeout, total_timeout=timeout, max_redirects=0) as client:
                return client.get(target).status_code < 500
        host, port = split_host_port(target, None)
        connect_tcp(host, port, allow_private=True, timeout=timeout).close()
    except (OSError, ValueError, httpx.HTTPError):
        return False
    return True


def prober_online(canaries: Sequence[str], *, timeout: float = 2.0) -> bool:
    """True if any canary answers (or none is configured): our own network works."""
    if not canaries:
        return True
    key = tuple(canaries)
    now = time.monotonic()
    with _canary_lock:
        cached = _canary_cache.get(key)
        if cached and now - cached[0] < _CANARY_TTL_SECONDS:
            return cached[1]
    online = any(_reachable(target, timeout) for target in canaries)
    with _canary_lock:
        _canary_cache[key] = (time.monotonic(), online)
    return online


def forget_connectivity() -> None:
    with _canary_lock:
        _canary_cache.clear()


def check_probe(probe: Probe) -> CheckResult:
    """Run the probe's check once; a failure while we are offline is inconclusive, never down."""
    try:
        result = run_check(
            probe.kind,
            probe.target,
            probe.config or {},
            timeout=probe.timeout_seconds,
            allow_private=settings.PROBES_ALLOW_PRIVATE,
            ca_file=settings.PROBES_CA_FILE or None,
            nameservers=list(settings.PROBES_DNS_NAMESERVERS) or None,
        )
    except ValueError as exc:
        # A definition edited past validation (or a bad resolver setting): our
        # fault, not the service's, so it never counts as down.
        return CheckResult(
            outcome=Outcome.INCONCLUSIVE, latency_ms=None, error=ErrorClass.CONFIG, message=str(exc)[:300]
        )
    canary_timeout = min(2.0, probe.timeout_seconds)
    if result.outcome == Outcome.DOWN and not prober_online(settings.PROBES_CANARIES, timeout=canary_timeout):
        return CheckResult(
            outcome=Outcome.INCONCLUSIVE,
            latency_ms=result.latency_ms,
            status_code=result.status_code,
            error=ErrorClass.OFFLINE,
            message=f"prober offline (no canary reachable); check said: {result.message}"[:300],
        )
    return result
