"""Probe checks: one pure function per kind, no ORM; ``run_check`` dispatches on the kind.

Every connection goes through ``outagehub.outbound`` (the private-address guard); a target the
guard refuses gives Outcome.INCONCLUSIVE with ErrorClass.BLOCKED: the check was not made, which
says nothing about the service. Network failures never raise; an invalid kind, target or config
raises ValueError (``validate_config`` catches those when a probe is saved or loaded).

Kinds, targets and ``config`` options:

http -- target an http(s) URL.
    method             "GET" (default), "HEAD", "POST", "PUT", "PATCH", "DELETE" or "OPTIONS"
    headers            {"name": "value"} sent with the request
    expect_status      list of codes and "lo-hi" ranges, e.g. [200, "300-399"]; default ["200-399"]
    degraded_ms        total response time above which the check is DEGRADED (optional)
    body_contains      text the body must contain
    body_not_contains  text the body must not contain
    json_path          dotted path into a JSON body, list items by index: "components.0.status";
                       the path must exist, and equal ``json_equals`` when that is given
    json_equals        any JSON value (needs json_path)
    max_redirects      redirects followed, default 5; more is DOWN (protocol); 0: do not follow,
                       the 3xx itself is checked against expect_status
    max_body_bytes     default 1048576 (1 MiB), at most 10 MiB: the body is read only up to this
                       (plus one network read of at most 64 KiB) and conditions see the truncated body
tcp -- target "host:port" ("[2001:db8::1]:443" for IPv6); UP if a connection opens. No options.
dns -- target a host name, asked of the system resolver (or the configured nameservers).
    record_type        "A" (default), "AAAA", "CNAME", "MX", "TXT" or "NS"
    expected           a value or list of values, one of which the answer must contain (optional);
                       MX matches "mail.example.com" or "10 mail.example.com"
    The guard does not apply: a DNS check connects only to the resolver (operator configuration)
    and a private address in an answer is only data.
tls -- target "host" or "host:port" (443 default); the certificate must verify for the host
    against the system CAs (and those of PROBES_CA_FILE).
    min_days           default 14: DEGRADED when the certificate expires within this many days

Latency is the wall time of the whole check (name resolution, connection, TLS, the body read).
``timeout`` bounds the whole check too, not just each step: a server trickling its answer one
byte at a time is cut off at the timeout like one that never answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from outagehub import outbound
from probes.checkers._common import CheckResult, _result, _Run, json_equal
from probes.checkers.config import split_host_port, validate_config
from probes.checkers.http import _check_http
from probes.checkers.network import _check_dns, _check_tcp, _check_tls
from probes.kinds import ErrorClass, Outcome, ProbeKind

__all__ = ["CheckResult", "json_equal", "run_check", "split_host_port", "validate_config"]

_CHECKS: dict[str, Callable[[str, dict[str, Any], _Run], CheckResult]] = {
    ProbeKind.HTTP: _check_http,
    ProbeKind.TCP: _check_tcp,
    ProbeKind.DNS: _check_dns,
    ProbeKind.TLS: _check_tls,
}


def run_check(
    kind: str,
    target: str,
    config: dict[str, Any],
    *,
    timeout: float,
    allow_private: bool,
    ca_file: str | None = None,
    nameservers: list[str] | None = None,
) -> CheckResult:
    """Run one check of ``kind`` against ``target`` now; ``timeout`` in seconds.

    ``allow_private`` lets the check reach private and loopback addresses (PROBES_ALLOW_PRIVATE);
    ``ca_file`` adds CAs to the system ones for TLS; ``nameservers`` ("ip" or "ip:port") replace the
    system resolver for every lookup the check makes. Raises ValueError if validate_config
    would report a problem; never for a network failure.
    """
    errors = validate_config(kind, target, config)
    if errors:
        details = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
        raise ValueError(f"invalid {kind} probe: {details}")
    run = _Run(timeout, allow_private, ca_file, nameservers, started=time.monotonic())
    try:
        return _CHECKS[kind](target.strip(), config, run)
    except outbound.BlockedAddress as exc:
        return _result(Outcome.INCONCLUSIVE, run, error=ErrorClass.BLOCKED, message=str(exc))
