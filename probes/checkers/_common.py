"""What every check shares: the result type, the run's clock, and turning failures into results."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from probes.kinds import ErrorClass, Outcome

MESSAGE_MAX = 300  # ProbeResult.message max_length
MiB = 1024 * 1024


@dataclass(frozen=True)
class CheckResult:
    outcome: Outcome
    latency_ms: int | None  # wall time of the check
    status_code: int | None = None
    error: ErrorClass = ErrorClass.NONE
    message: str = ""  # short and human, at most MESSAGE_MAX characters


@dataclass(frozen=True)
class _Run:
    """One check's settings and clock (time.monotonic() seconds)."""

    timeout: float  # seconds, for the whole check
    allow_private: bool
    ca_file: str | None
    nameservers: list[str] | None
    started: float

    def left(self) -> float:
        """Seconds left before the check's deadline (a little at least, so a step fails by timing out)."""
        return max(self.started + self.timeout - time.monotonic(), 0.001)


def _result(
    outcome: Outcome,
    run: _Run,
    *,
    status_code: int | None = None,
    error: ErrorClass = ErrorClass.NONE,
    message: str = "",
) -> CheckResult:
    latency_ms = round((time.monotonic() - run.started) * 1000)
    return CheckResult(outcome, latency_ms, status_code, error, message[:MESSAGE_MAX])


def _seconds(value: float) -> str:
    return f"{value:.1f}" if round(value, 1) == value else f"{value:g}"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    # httpx wraps httpcore's exception, which wraps the socket's: the original is the cause.
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _network_failure(exc: BaseException, run: _Run) -> CheckResult:
    """A failed connection, read or handshake as a DOWN result with its error class."""
    chain = list(_causes(exc))
    for cause in chain:
        if isinstance(cause, socket.gaierror):
            return _result(Outcome.DOWN, run, error=ErrorClass.DNS, message=f"DNS lookup failed: {cause}")
        if isinstance(cause, ssl.SSLCertVerificationError):
            return _result(Outcome.DOWN, run, error=ErrorClass.TLS, message=f"TLS: {cause.verify_message}")
        if isinstance(cause, ssl.SSLError):
            return _result(Outcome.DOWN, run, error=ErrorClass.TLS, message=f"TLS: {cause.reason or cause}")
        if isinstance(cause, ConnectionRefusedError):
            return _result(Outcome.DOWN, run, error=ErrorClass.REFUSED, message="connection refused")
    if any(isinstance(cause, TimeoutError | httpx.TimeoutException) for cause in chain):
        return _result(Outcome.DOWN, run, error=ErrorClass.TIMEOUT, message=f"timeout after {_seconds(run.timeout)} s")
    if isinstance(exc, httpx.ProtocolError | httpx.DecodingError | httpx.UnsupportedProtocol):
        return _result(Outcome.DOWN, run, error=ErrorClass.PROTOCOL, message=f"protocol error: {exc}")
    return _result(Outcome.DOWN, run, error=ErrorClass.CONNECTION, message=f"connection failed: {exc}")


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON means it."""
    # Python's == says True == 1 and 1 == 1.0; JSON's true is not 1 (1 and 1.0 are the same number).
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return bool(a == b)
