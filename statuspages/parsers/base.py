"""What every parser returns, and the helpers they share (pure: bytes in, plain values out).

A parser never trusts the body: any shape it does not expect is a ``Malformed`` error, which
``statuspages.parsers.parse`` turns into an UNKNOWN snapshot with the reason. Lists and texts are
cut to fixed sizes, so a page listing a million incidents costs no more than one listing fifty.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from statuspages.kinds import SEVERITY, IncidentStatus, OfficialLevel

MAX_COMPONENTS = 200
MAX_INCIDENTS = 50
MAX_UPDATES = 20  # per incident, newest kept
TITLE_CHARS = 300
BODY_CHARS = 2000
NAME_CHARS = 200
URL_CHARS = 500


class Malformed(ValueError):
    """The body is not what this kind of page serves; the message says what is wrong."""


@dataclass(frozen=True)
class Component:
    name: str
    level: str  # OfficialLevel


@dataclass(frozen=True)
class Update:
    """One provider update to an incident: its own id (or a stable stand-in), time, status and text."""

    provider_id: str
    at: dt.datetime | None
    status: str  # IncidentStatus
    body: str


@dataclass(frozen=True)
class Incident:
    provider_id: str
    title: str
    status: str  # IncidentStatus
    level: str  # OfficialLevel
    started_at: dt.datetime | None
    resolved_at: dt.datetime | None = None
    components: tuple[str, ...] = ()
    url: str = ""
    updates: tuple[Update, ...] = ()  # oldest first
    maintenance: bool = False

    @property
    def open(self) -> bool:
        return self.resolved_at is None and self.status not in (
            IncidentStatus.RESOLVED,
            IncidentStatus.POSTMORTEM,
            IncidentStatus.COMPLETED,
        )


@dataclass(frozen=True)
class Snapshot:
    """One reading of a status page. ``reason`` says why the level is UNKNOWN (or notes a fallback)."""

    level: str  # OfficialLevel
    components: tuple[Component, ...] = ()
    incidents: tuple[Incident, ...] = ()
    reason: str = ""
    description: str = field(default="")  # the provider's own one-line summary, if it gives one

    @property
    def known(self) -> bool:
        return self.level != OfficialLevel.UNKNOWN


def unknown(reason: str) -> Snapshot:
    return Snapshot(level=OfficialLevel.UNKNOWN, reason=reason[:300])


# --- decoding ---------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9._-]+)", re.IGNORECASE)


def decode_text(body: bytes, headers: Mapping[str, str]) -> str:
    """The body as text: a byte-order mark wins, then the Content-Type charset, then UTF-8.

    AWS serves UTF-16 with a BOM and no charset; a wrong charset header must not hide a BOM.
    Raises Malformed when the bytes are not valid in the encoding found.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            body, charset = body[len(bom) :], encoding
            break
    else:
        match = _CHARSET.search(_header(headers, "content-type"))
        charset = match.group(1).lower() if match else "utf-8"
    try:
        return body.decode(codecs.lookup(charset).name)
    except LookupError:
        raise Malformed(f"unknown charset {charset!r}") from None
    except UnicodeDecodeError as exc:
        raise Malformed(f"not valid {charset} at byte {exc.start}") from None


def _header(headers: Mapping[str, str], name: str) -> str:
    return next((value for key, value in headers.items() if key.lower() == name), "")


def load_json(body: bytes, headers: Mapping[str, str]) -> Any:
    text = decode_text(body, headers)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Malformed(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (RecursionError, ValueError) as exc:  # nested too deep; an integer of too many digits
        raise Malformed(f"not JSON we can read: {str(exc)[:100]}") from None


# --- reading values ---------------------------------------------------------------------------


def obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{what} is not an object")
    return value


def items(value: Any, what: str, limit: int) -> list[Any]:
    """A list (None counts as empty), cut to its first `limit` items."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Malformed(f"{what} is not a list")
    return value[:limit]


def text(value: Any, limit: int = TITLE_CHARS) -> str:
    """A string field, cut; anything else (a number, null, an object) is read as empty."""
    return " ".join(value.split())[:limit] if isinstance(value, str) else ""


def ident(value: Any) -> str:
    """An id given as a string or a number."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | str):
        return str(value)[:100]
    return ""


def link(value: Any) -> str:
    """A link, kept only if it is http(s): a page must not put javascript: URLs on ours."""
    value = text(value, URL_CHARS)
    return value if value.startswith(("https://", "http://")) else ""


def timestamp(value: Any) -> dt.datetime | None:
    """An ISO 8601 time or Unix seconds, as an aware UTC datetime; None if absent or unreadable."""
    try:
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
            return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
        if isinstance(value, str) and value:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def components_level(levels: list[str]) -> str:
    """The service's level from its components' levels.

    One component in a major outage is a partial outage of the service; a major outage of the
    whole is when every component that reports is in one.
    """
    known = [level for level in levels if level in SEVERITY]
    if not known:
        return OfficialLevel.OPERATIONAL
    if all(level == OfficialLevel.MAJOR_OUTAGE for level in known):
        return OfficialLevel.MAJOR_OUTAGE
    worst_level = max(known, key=lambda level: SEVERITY[OfficialLevel(level)])
    return OfficialLevel.PARTIAL_OUTAGE if worst_level == OfficialLevel.MAJOR_OUTAGE else worst_level


def status_of(value: Any, mapping: Mapping[str, str]) -> str:
    """A lifecycle status through `mapping` (keys lowercase); UNKNOWN for anything else."""
    return mapping.get(text(value).lower(), IncidentStatus.UNKNOWN)
