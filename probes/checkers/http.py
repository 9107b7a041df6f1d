"""The http check: one request, its redirects, and the conditions on status and body."""

from __future__ import annotations

import json
from typing import Any

import httpx

from outagehub import outbound
from probes.checkers._common import CheckResult, MiB, _network_failure, _result, _Run, json_equal
from probes.checkers.config import _status_ranges
from probes.kinds import ErrorClass, Outcome


def _quote(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


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


def _http_condition_failure(config: dict[str, Any], status: int, body: bytes, encoding: str) -> str | None:
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
    if "json_equals" in config and not json_equal(value, config["json_equals"]):
        actual, expected = json.dumps(value)[:80], json.dumps(config["json_equals"])[:80]
        return f"JSON {path} is {actual}, expected {expected}"
    return None


def _check_http(target: str, config: dict[str, Any], run: _Run) -> CheckResult:
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
