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
    against the system CAs (or PROBES_CA_FILE).
    min_days           default 14: DEGRADED when the certificate expires within this many days

Latency is the wall time of the whole check (name resolution, connection, TLS, the body read).
``timeout`` bounds the whole check too, not just each step: a server trickling its answer one
byte at a time is cut off at the timeout like one that never answers.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.name
import dns.resolver
import httpx
from cryptography import x509

from outagehub import outbound

from .models import ErrorClass, Outcome, ProbeKind

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


def _quote(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


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


# --- targets and options -----------------------------------------------------------------------


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


def _http_option_errors(config: dict) -> Iterator[tuple[str, str]]:
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


def _dns_option_errors(config: dict) -> Iterator[tuple[str, str]]:
    record_type = config.get("record_type", "A")
    if not isinstance(record_type, str) or record_type.upper() not in _RECORD_TYPES:
        yield "record_type", f"one of {', '.join(sorted(_RECORD_TYPES))}"
    expected = config.get("expected", [])
    if isinstance(expected, str):
        expected = [expected]
    if not isinstance(expected, list) or not all(isinstance(e, str) and e for e in expected):
        yield "expected", "a string or a list of strings"


def _tls_option_errors(config: dict) -> Iterator[tuple[str, str]]:
    min_days = config.get("min_days", 14)
    if not _is_int(min_days) or not 0 <= min_days <= 3650:
        yield "min_days", "an integer from 0 to 3650"


_TARGETS: dict[str, Callable[[str], object]] = {
    ProbeKind.HTTP: _http_target,
    ProbeKind.TCP: lambda target: split_host_port(target, None),
    ProbeKind.DNS: _dns_target,
    ProbeKind.TLS: lambda target: split_host_port(target, 443),
}
_OPTION_CHECKS: dict[str, Callable[[dict], Iterator[tuple[str, str]]]] = {
    ProbeKind.HTTP: _http_option_errors,
    ProbeKind.TCP: lambda config: iter(()),
    ProbeKind.DNS: _dns_option_errors,
    ProbeKind.TLS: _tls_option_errors,
}


def validate_config(kind: str, target: str, config: dict) -> dict[str, list[str]]:
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
    allowed = ", ".join(sorted(_OPTIONS[kind])) or "none"
    for key in config.keys() - _OPTIONS[kind]:
        errors[str(key)] = [f"unknown {kind} option; allowed: {allowed}"]
    for key, message in _OPTION_CHECKS[kind](config):
        errors.setdefault(key, []).append(message)
    return errors


# --- the checks ------------------------------------------------------------------------------------


def _read_body(response: httpx.Response, limit: int) -> bytes:
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk[: limit - len(body)]
        if len(body) >= limit:
            break  # closing a response not read to the end closes its connection: nothing more comes in
    return bytes(body)


def _json_at(document: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(document, dict) and part in document:
            document = document[part]
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            raise KeyError(path)
    return document


def _json_equal(a: Any, b: Any) -> bool:
    # Python's == says True == 1 and 1 == 1.0; JSON's true is not 1 (1 and 1.0 are the same number).
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return a == b


def _http_condition_failure(config: dict, status: int, body: bytes, encoding: str) -> str | None:
    """The first failed condition, as a message; None if all hold."""
    expect_status = config.get("expect_status", ["200-399"])
    if not any(low <= status <= high for low, high in _status_ranges(expect_status)):
        return f"status {status} not in {', '.join(str(s) for s in expect_status)}"
    try:
        text = body.decode(encoding, errors="replace")
    except LookupError:  # a charset Python does not know
        text = body.decode("utf-8", errors="replace")
    if "body_contains" in config and config["body_contains"] not in text:
        return f"body lacks {_quote(config['body_contains'])}"
    if "body_not_contains" in config and config["body_not_contains"] in text:
        return f"body contains {_quote(config['body_not_contains'])}"
    if "json_path" not in config:
        return None
    path = config["json_path"]
    try:
        value = _json_at(json.loads(body), path)
    except ValueError:
        return f"body is not JSON (read {len(body)} bytes)"
    except KeyError:
        return f"JSON has no {path}"
    if "json_equals" in config and not _json_equal(value, config["json_equals"]):
        actual, expected = json.dumps(value)[:80], json.dumps(config["json_equals"])[:80]
        return f"JSON {path} is {actual}, expected {expected}"
    return None


def _check_http(target: str, config: dict, run: _Run) -> CheckResult:
    max_redirects = config.get("max_redirects", 5)
    # Ask for an uncompressed body: max_body_bytes then bounds what we hold, with no
    # decompression in between.
    headers = {"Accept-Encoding": "identity", **config.get("headers", {})}
    client = outbound.http_client(
        allow_private=run.allow_private,
        timeout=run.timeout,
        total_timeout=run.left(),
        verify=outbound.tls_context(run.ca_file),
        max_redirects=max_redirects,
        nameservers=run.nameservers,
    )
    try:
        with client, client.stream(config.get("method", "GET").upper(), target, headers=headers) as response:
            body = _read_body(response, config.get("max_body_bytes", MiB))
    except httpx.TooManyRedirects:
        return _result(Outcome.DOWN, run, error=ErrorClass.PROTOCOL, message=f"more than {max_redirects} redirects")
    except (httpx.HTTPError, OSError) as exc:
        return _network_failure(exc, run)
    status = response.status_code
    failure = _http_condition_failure(config, status, body, response.encoding or "utf-8")
    if failure:
        return _result(Outcome.DOWN, run, status_code=status, error=ErrorClass.CONDITION, message=failure)
    result = _result(Outcome.UP, run, status_code=status, message=f"status {status}")
    degraded_ms = config.get("degraded_ms")
    if degraded_ms is not None and result.latency_ms is not None and result.latency_ms > degraded_ms:
        message = f"status {status} in {result.latency_ms} ms, over {degraded_ms} ms"
        return CheckResult(Outcome.DEGRADED, result.latency_ms, status, message=message)
    return result


def _connect(host: str, port: int, run: _Run) -> socket.socket:
    return outbound.connect_tcp(
        host, port, allow_private=run.allow_private, timeout=run.left(), nameservers=run.nameservers
    )


def _check_tcp(target: str, config: dict, run: _Run) -> CheckResult:
    host, port = split_host_port(target, None)
    try:
        with _connect(host, port, run) as sock:
            peer = sock.getpeername()[0]
    except OSError as exc:
        return _network_failure(exc, run)
    return _result(Outcome.UP, run, message=f"connected to {peer} port {port}")


def _rdata_texts(rdata: Any, record_type: str) -> set[str]:
    """The forms an answer record may be matched by, normalised (lower case, no final dot)."""
    if record_type in ("A", "AAAA"):
        return {str(ipaddress.ip_address(rdata.address))}
    if record_type == "TXT":
        return {b"".join(rdata.strings).decode("utf-8", errors="replace")}
    if record_type == "MX":
        exchange = rdata.exchange.to_text().rstrip(".").lower()
        return {exchange, f"{rdata.preference} {exchange}"}
    return {rdata.to_text().rstrip(".").lower()}


def _normalise_expected(value: str, record_type: str) -> str:
    if record_type in ("A", "AAAA"):
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            return value
    return value if record_type == "TXT" else value.rstrip(".").lower()


def _check_dns(target: str, config: dict, run: _Run) -> CheckResult:
    record_type = config.get("record_type", "A").upper()
    down = Outcome.DOWN
    try:
        resolver = outbound.dns_resolver(run.nameservers)
        answer = resolver.resolve(target, record_type, search=False, lifetime=run.left())
    except dns.resolver.NoResolverConfiguration:
        return _result(Outcome.INCONCLUSIVE, run, error=ErrorClass.DNS, message="no system DNS resolver configured")
    except dns.resolver.NXDOMAIN:
        return _result(down, run, error=ErrorClass.DNS, message=f"{target}: no such domain (NXDOMAIN)")
    except dns.resolver.NoAnswer:
        return _result(down, run, error=ErrorClass.DNS, message=f"{target} has no {record_type} records")
    except dns.exception.Timeout:
        return _result(down, run, error=ErrorClass.TIMEOUT, message=f"no DNS answer after {_seconds(run.timeout)} s")
    except dns.resolver.NoNameservers:
        return _result(down, run, error=ErrorClass.DNS, message="no nameserver answered (SERVFAIL or refused)")
    except dns.exception.DNSException as exc:
        return _result(down, run, error=ErrorClass.DNS, message=f"DNS query failed: {exc}")
    records = [_rdata_texts(rdata, record_type) for rdata in answer]
    shown = ", ".join(sorted(max(texts, key=len) for texts in records))
    expected = config.get("expected", [])
    wanted = {_normalise_expected(e, record_type) for e in ([expected] if isinstance(expected, str) else expected)}
    if wanted and not wanted & set().union(*records):
        message = f"{record_type} answer {shown[:150]} has none of {', '.join(sorted(wanted))[:100]}"
        return _result(down, run, error=ErrorClass.CONDITION, message=message)
    return _result(Outcome.UP, run, message=f"{record_type} {shown}")


def _unverified_leaf_expiry(host: str, port: int, run: _Run) -> dt.datetime | None:
    """The leaf certificate's notAfter, read without verification; None if that fails too."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # Only to read the date of a certificate that already failed verification; nothing is sent.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            _connect(host, port, run) as raw,
            _handshake(raw, context, host, run) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except OSError:
        return None
    return x509.load_der_x509_certificate(der).not_valid_after_utc if der else None


def _verification_failure(exc: ssl.SSLCertVerificationError, host: str, port: int, run: _Run) -> str:
    # OpenSSL's X509_V_ERR_* codes: 9 not yet valid, 10 expired, 62 hostname mismatch.
    if exc.verify_code == 10:
        expiry = _unverified_leaf_expiry(host, port, run)
        if expiry is None:
            return "certificate has expired"
        if expiry > dt.datetime.now(dt.UTC):
            return "a certificate in the chain has expired"
        return f"certificate expired on {expiry:%Y-%m-%d %H:%M} UTC"
    if exc.verify_code == 9:
        return "certificate is not yet valid"
    if exc.verify_code == 62:
        return f"certificate is not valid for {host}"
    return f"certificate not trusted: {exc.verify_message}"


def _handshake(raw: socket.socket, context: ssl.SSLContext, host: str, run: _Run) -> ssl.SSLSocket:
    raw.settimeout(run.left())  # the handshake gets what the connection left of the timeout
    return context.wrap_socket(raw, server_hostname=host)


def _check_tls(target: str, config: dict, run: _Run) -> CheckResult:
    host, port = split_host_port(target, 443)
    min_days = config.get("min_days", 14)
    try:
        with (
            _connect(host, port, run) as raw,
            _handshake(raw, outbound.tls_context(run.ca_file), host, run) as tls,
        ):
            not_after = tls.getpeercert()["notAfter"]
    except ssl.SSLCertVerificationError as exc:
        message = _verification_failure(exc, host, port, run)
        return _result(Outcome.DOWN, run, error=ErrorClass.TLS, message=message)
    except OSError as exc:
        return _network_failure(exc, run)
    remaining = ssl.cert_time_to_seconds(not_after) - time.time()  # seconds
    days = int(remaining // 86400)
    message = f"certificate expires in {days} day{'' if days == 1 else 's'}"
    outcome = Outcome.UP if remaining > min_days * 86400 else Outcome.DEGRADED
    return _result(outcome, run, message=message)


_CHECKS: dict[str, Callable[[str, dict, _Run], CheckResult]] = {
    ProbeKind.HTTP: _check_http,
    ProbeKind.TCP: _check_tcp,
    ProbeKind.DNS: _check_dns,
    ProbeKind.TLS: _check_tls,
}


def run_check(
    kind: str,
    target: str,
    config: dict,
    *,
    timeout: float,
    allow_private: bool,
    ca_file: str | None = None,
    nameservers: list[str] | None = None,
) -> CheckResult:
    """Run one check of ``kind`` against ``target`` now; ``timeout`` in seconds.

    ``allow_private`` lets the check reach private and loopback addresses (PROBES_ALLOW_PRIVATE);
    ``ca_file`` replaces the system CAs for TLS; ``nameservers`` ("ip" or "ip:port") replace the
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
