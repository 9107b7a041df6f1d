"""The baseline for intake: a bare WSGI app that reads the request body and answers a constant JSON 201.

Served by the same gunicorn configuration as OutageHub in the same run, so the ratio of the two
says what the report path costs, whatever this machine's speed and load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

BODY = b'{"id": 1, "counted": true}'


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]
