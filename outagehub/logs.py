"""Log records without client addresses or secrets, as JSON lines in production.

No code logs a client address on purpose; this is the net under that rule. RedactingFilter, on
every handler, replaces any IPv4 or IPv6 address in a record's message (and its traceback) with
"[address]" and the value of every secret setting with "[secret]". JsonFormatter writes one JSON
object per line (time, level, logger, message, and any `extra` fields) for log collectors.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections.abc import Iterable

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")
# Candidates only: each is checked with ipaddress, so a time like 16:45:00 is left alone.
_IPV6 = re.compile(r"(?<![0-9A-Za-z:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![0-9A-Za-z:])")


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with IP addresses and the given secret values masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[secret]")
    text = _IPV4.sub(lambda m: "[address]" if _is_address(m.group()) else m.group(), text)
    return _IPV6.sub(lambda m: "[address]" if _is_address(m.group()) else m.group(), text)


def _secrets() -> list[str]:
    from django.conf import settings

    values = [
        getattr(settings, "SECRET_KEY", ""),
        getattr(settings, "OUTAGEHUB_REPORTER_SALT_SECRET", ""),
        getattr(settings, "OUTAGEHUB_METRICS_TOKEN", ""),
    ]
    for database in getattr(settings, "DATABASES", {}).values():
        values.append(database.get("PASSWORD") or "")
    # Short values would mask ordinary words: only real secrets are long.
    return [v for v in values if isinstance(v, str) and len(v) >= 8]


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            secrets = _secrets()
        except Exception:  # settings not configured (yet): addresses only
            secrets = []
        record.msg, record.args = redact(record.getMessage(), secrets), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # Formatters use exc_text when exc_info is gone, so only the redacted traceback is written.
            record.exc_text, record.exc_info = redact(record.exc_text, secrets), None
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, extras."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("datefmt", "%Y-%m-%dT%H:%M:%SZ")
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.converter = time.gmtime
