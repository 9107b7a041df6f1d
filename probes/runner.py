"""Running one probe's check with the operator's settings, and knowing when we are the ones offline.

A failed check says the service is down only if our own side works. Two things of ours can fail:

- the network: then no canary answers. Canaries resolve their names through the very resolvers
  the checks use (PROBES_DNS_NAMESERVERS, else the system's), so a dead resolver takes the
  canaries down with the checks instead of leaving them "online" through another path;
- the configured resolvers alone (canaries given as addresses need no DNS): a check that failed
  at name resolution is inconclusive when none of those resolvers answers anything at all.

Either way the failure is INCONCLUSIVE (ErrorClass.OFFLINE) and never counts towards DOWN.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import httpx
from django.conf import settings

from outagehub.outbound import connect_tcp, http_client, nameservers_answer
from probes.checkers import CheckResult, run_check, split_host_port
from probes.kinds import ErrorClass, Outcome, ProbeKind
from probes.models import Probe

# A prober that cannot reach any canary is offline; remembering the answer
# for a while keeps a burst of failing checks from probing the canaries each.
_CONNECTIVITY_TTL_SECONDS = 30.0
_connectivity_cache: dict[tuple[str, ...], tuple[float, bool]] = {}
_connectivity_lock = threading.Lock()


def _remembered(key: tuple[str, ...], measure: Callable[[], bool]) -> bool:
    """``measure()``, or its answer from less than _CONNECTIVITY_TTL_SECONDS ago."""
    now = time.monotonic()
    with _connectivity_lock:
        cached = _connectivity_cache.get(key)
        if cached and now - cached[0] < _CONNECTIVITY_TTL_SECONDS:
            return cached[1]
    answer = measure()
    with _connectivity_lock:
        _connectivity_cache[key] = (time.monotonic(), answer)
    return answer


def _reachable(target: str, timeout: float, nameservers: list[str] | None) -> bool:
    """Whether one canary answers: an HTTP(S) URL must answer HTTP, a host:port accept TCP.

    Prefer URLs: some networks (sandboxes, captive portals, firewalls that
    reset late) accept any TCP connection, so a bare connect proves little,
    while an HTTPS answer needs working DNS, routing and a real peer.
    Canaries are the operator's own choice, so private ones are allowed.
    """
    try:
        if target.startswith(("http://", "https://")):
            client = http_client(
                allow_private=True, timeout=timeout, total_timeout=timeout, max_redirects=0, nameservers=nameservers
            )
            with client:
                return client.get(target).status_code < 500
        host, port = split_host_port(target, None)
        connect_tcp(host, port, allow_private=True, timeout=timeout, nameservers=nameservers).close()
    except (OSError, ValueError, httpx.HTTPError):
        return False
    return True


def prober_online(canaries: Sequence[str], *, timeout: float = 2.0, nameservers: list[str] | None = None) -> bool:
    """True if any canary answers (or none is configured): our own network works.

    ``nameservers``: the resolvers the checks use (None: the system's), so canaries see DNS as
    the checks see it.
    """
    if not canaries:
        return True
    key = ("canaries", *canaries, "resolvers", *(nameservers or ()))
    return _remembered(key, lambda: any(_reachable(target, timeout, nameservers) for target in canaries))


def resolvers_answer(nameservers: list[str], *, timeout: float = 2.0) -> bool:
    """True if any of our configured resolvers answers at all (an error answer counts)."""
    return _remembered(("resolvers", *nameservers), lambda: nameservers_answer(nameservers, timeout=timeout))


def forget_connectivity() -> None:
    with _connectivity_lock:
        _connectivity_cache.clear()


def _failed_resolving(kind: str, result: CheckResult) -> bool:
    # A DNS check that times out waited on the resolver; any other kind reports a failed
    # lookup as ErrorClass.DNS (its own timeouts are connections or reads, not DNS).
    return result.error == ErrorClass.DNS or (kind == ProbeKind.DNS and result.error == ErrorClass.TIMEOUT)


def _inconclusive(result: CheckResult, why: str) -> CheckResult:
    return CheckResult(
        outcome=Outcome.INCONCLUSIVE,
        latency_ms=result.latency_ms,
        status_code=result.status_code,
        error=ErrorClass.OFFLINE,
        message=f"{why}; check said: {result.message}"[:300],
    )


def check_probe(probe: Probe) -> CheckResult:
    """Run the probe's check once; a failure while we are offline is inconclusive, never down."""
    nameservers = list(settings.PROBES_DNS_NAMESERVERS) or None
    try:
        result = run_check(
            probe.kind,
            probe.target,
            probe.config or {},
            timeout=probe.timeout_seconds,
            allow_private=settings.PROBES_ALLOW_PRIVATE,
            ca_file=settings.PROBES_CA_FILE or None,
            nameservers=nameservers,
        )
    except ValueError as exc:
        # A definition edited past validation (or a bad resolver setting): our
        # fault, not the service's, so it never counts as down.
        return CheckResult(
            outcome=Outcome.INCONCLUSIVE, latency_ms=None, error=ErrorClass.CONFIG, message=str(exc)[:300]
        )
    if result.outcome != Outcome.DOWN:
        return result
    timeout = min(2.0, probe.timeout_seconds)
    if not prober_online(settings.PROBES_CANARIES, timeout=timeout, nameservers=nameservers):
        return _inconclusive(result, "prober offline (no canary reachable)")
    if nameservers and _failed_resolving(probe.kind, result) and not resolvers_answer(nameservers, timeout=timeout):
        return _inconclusive(result, f"our DNS resolvers ({', '.join(nameservers)}) do not answer")
    return result
