"""Validation of a probe's kind, target and config options, before it is saved, loaded or run."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import dns.exception
import dns.name
import httpx

from probes.checkers._common import MiB
from probes.kinds import ProbeKind


def split_host_port(target: str, default_port: int | None) -> tuple[str, int]:
    """Parse "host:port", "[v6]:port" or "host" (with a default port) into (host, port); ValueError if invalid."""
    port_text: str | None = None
    if target.startswith("["):
        host, closed, rest = target[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise ValueError("write an IPv6 address as [2001:db8::1] or [2001:db8::1]:443")
        port_text = rest[1:] if rest else None
    elif target.count(":") > 1:
        raise ValueError("write an IPv6 address in brackets, e.g. [2001:db8::1]:443")
    else:
        host, _, port_text = target.partition(":") if ":" in target else (target, "", None)
    if not host or any(c in host for c in "/@ \t\r\n"):
        raise ValueError("expected a host name or address (and port), not a URL")
    if port_text is None:
        if default_port is None:
            raise ValueError("a port is required, e.g. example.com:443")
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"port must be 1-65535, got {port_text!r}")
    return host, int(port_text)


def _status_ranges(spec: Any) -> list[tuple[int, int]]:
    if not isinstance(spec, list) or not spec:
        raise ValueError('a non-empty list of codes and ranges, e.g. [200, "300-399"]')
    ranges = []
    for item in spec:
        text = str(item) if _is_int(item) else item if isinstance(item, str) else ""
        low, _, high = text.partition("-")
        if not (low.strip().isdigit() and (high.strip().isdigit() or not high)):
            raise ValueError(f'{item!r} is neither a status code nor a range like "200-299"')
        bounds = (int(low), int(high or low))
        if not 100 <= bounds[0] <= bounds[1] <= 599:
            raise ValueError(f"{item!r} is not within 100-599 (low to high)")
        ranges.append(bounds)
    return ranges


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
_RECORD_TYPES = {"A", "AAAA", "CNAME", "MX", "TXT", "NS"}
_OPTIONS: dict[str, set[str]] = {
    ProbeKind.HTTP: {
        "method",
        "headers",
        "expect_status",
        "degraded_ms",
        "body_contains",
        "body_not_contains",
        "json_path",
        "json_equals",
        "max_redirects",
        "max_body_bytes",
    },
    ProbeKind.TCP: set(),
    ProbeKind.DNS: {"record_type", "expected"},
    ProbeKind.TLS: {"min_days"},
}


def _http_target(target: str) -> None:
    try:
        url = httpx.URL(target)
    except httpx.InvalidURL as exc:
        raise ValueError(f"not a valid URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("expected an http:// or https:// URL with a host")


def _dns_target(target: str) -> None:
    if not target or any(c in target for c in "/:@ \t\r\n"):
        raise ValueError("expected a host name, e.g. example.com")
    try:
        dns.name.from_text(target)
    except dns.exception.DNSException as exc:
        raise ValueError(f"not a valid host name: {exc}") from None


def _http_option_errors(config: dict[str, Any]) -> Iterator[tuple[str, str]]:
    method = config.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in _HTTP_METHODS:
        yield "method", f"one of {', '.join(sorted(_HTTP_METHODS))}"
    headers = config.get("headers", {})
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and "\n" not in k + v and "\r" not in k + v
        for k, v in headers.items()
    ):
        yield "headers", "an object of header names to single-line string values"
    try:
        _status_ranges(config.get("expect_status", ["200-399"]))
    except ValueError as exc:
        yield "expect_status", str(exc)
    for key, low, high in (("degraded_ms", 1, 3_600_000), ("max_redirects", 0, 20), ("max_body_bytes", 1, 10 * MiB)):
        value = config.get(key, low)
        if not _is_int(value) or not low <= value <= high:
            yield key, f"an integer from {low} to {high}"
    for key in ("body_contains", "body_not_contains", "json_path"):
        if key in config and (not isinstance(config[key], str) or not config[key]):
            yield key, "a non-empty string"
    if isinstance(config.get("json_path"), str) and "" in config["json_path"].split("."):
        yield "json_path", 'a dotted path without empty parts, e.g. "status.indicator"'
    if "json_equals" in config and "json_path" not in config:
        yield "json_equals", "needs json_path"
    body_keys = {"body_contains", "body_not_contains", "json_path"} & config.keys()
    if isinstance(method, str) and method.upper() == "HEAD" and body_keys:
        yield "method", f"HEAD returns no body to check {', '.join(sorted(body_keys))} against"


def _dns_option_errors(config: dict[str, Any]) -> Iterator[tuple[str, str]]:
    record_type = config.get("record_type", "A")
    if not isinstance(record_type, str) or record_type.upper() not in _RECORD_TYPES:
        yield "record_type", f"one of {', '.join(sorted(_RECORD_TYPES))}"
    expected = config.get("expected", [])
    if isinstance(expected, str):
        expected = [expected]
    if not isinstance(expected, list) or not all(isinstance(e, str) and e for e in expected):
        yield "expected", "a string or a list of strings"


def _tls_option_errors(config: dict[str, Any]) -> Iterator[tuple[str, str]]:
    min_days = config.get("min_days", 14)
    if not _is_int(min_days) or not 0 <= min_days <= 3650:
        yield "min_days", "an integer from 0 to 3650"


_TARGETS: dict[str, Callable[[str], object]] = {
    ProbeKind.HTTP: _http_target,
    ProbeKind.TCP: lambda target: split_host_port(target, None),
    ProbeKind.DNS: _dns_target,
    ProbeKind.TLS: lambda target: split_host_port(target, 443),
}
_OPTION_CHECKS: dict[str, Callable[[dict[str, Any]], Iterator[tuple[str, str]]]] = {
    ProbeKind.HTTP: _http_option_errors,
    ProbeKind.TCP: lambda config: iter(()),
    ProbeKind.DNS: _dns_option_errors,
    ProbeKind.TLS: _tls_option_errors,
}


def validate_config(kind: str, target: str, config: dict[str, Any]) -> dict[str, list[str]]:
    """Problems with a probe's target and config: {field: [messages]}, {} if it can run.

    Fields are "kind", "target", "config" (not an object) or the name of a config option.
    """
    if kind not in _OPTIONS:
        return {"kind": [f"unknown kind {kind!r}; one of {', '.join(_OPTIONS)}"]}
    errors: dict[str, list[str]] = {}
    try:
        if not isinstance(target, str):
            raise ValueError("must be a string")
        _TARGETS[kind](target.strip())
    except ValueError as exc:
        errors["target"] = [str(exc)]
    if not isinstance(config, dict):
        return {**errors, "config": ["must be a JSON object"]}
    try:
        # YAML and Python have values JSON lacks (dates, NaN, infinity): they would fail only when saved.
        json.dumps(config, allow_nan=False)
    except (TypeError, ValueError):
        return {**errors, "config": ["JSON values only: quote dates and times; no NaN or infinity"]}
    allowed = ", ".join(sorted(_OPTIONS[kind])) or "none"
    for key in config.keys() - _OPTIONS[kind]:
        errors[str(key)] = [f"unknown {kind} option; allowed: {allowed}"]
    for key, message in _OPTION_CHECKS[kind](config):
        errors.setdefault(key, []).append(message)
    return errors
