"""The tcp, dns and tls checks."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import time
from typing import Any

import dns.exception
import dns.resolver
from cryptography import x509

from outagehub import outbound
from probes.checkers._common import CheckResult, _network_failure, _result, _Run, _seconds
from probes.checkers.config import split_host_port
from probes.kinds import ErrorClass, Outcome


def _connect(host: str, port: int, run: _Run) -> socket.socket:
    return outbound.connect_tcp(
        host, port, allow_private=run.allow_private, timeout=run.left(), nameservers=run.nameservers
    )


def _check_tcp(target: str, config: dict[str, Any], run: _Run) -> CheckResult:
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


def _check_dns(target: str, config: dict[str, Any], run: _Run) -> CheckResult:
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


def _check_tls(target: str, config: dict[str, Any], run: _Run) -> CheckResult:
    host, port = split_host_port(target, 443)
    min_days = config.get("min_days", 14)
    try:
        with (
            _connect(host, port, run) as raw,
            _handshake(raw, outbound.tls_context(run.ca_file), host, run) as tls,
        ):
            cert = tls.getpeercert()
    except ssl.SSLCertVerificationError as exc:
        message = _verification_failure(exc, host, port, run)
        return _result(Outcome.DOWN, run, error=ErrorClass.TLS, message=message)
    except OSError as exc:
        return _network_failure(exc, run)
    # The context requires a verified certificate, so a finished handshake always has one, and
    # its notAfter is a string ("Jun  1 12:00:00 2027 GMT").
    assert cert is not None
    not_after = cert["notAfter"]
    assert isinstance(not_after, str)
    remaining = ssl.cert_time_to_seconds(not_after) - time.time()  # seconds
    days = int(remaining // 86400)
    message = f"certificate expires in {days} day{'' if days == 1 else 's'}"
    outcome = Outcome.UP if remaining > min_days * 86400 else Outcome.DEGRADED
    return _result(outcome, run, message=message)
