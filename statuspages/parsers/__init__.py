"""Status page parsers: pure functions from a body (and its headers) to a Snapshot.

``parse`` is the one entry point. It never raises on what a page sends: a body that is not what
its kind serves (malformed, truncated, wrong encoding, hostile) is an UNKNOWN snapshot whose
``reason`` says what was wrong. Only our own bugs would escape, and even those become UNKNOWN
rather than a crash of the poller; a failed read is never OPERATIONAL.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping

from statuspages.kinds import PageKind
from statuspages.parsers.base import Component, Incident, Malformed, Snapshot, Update, unknown
from statuspages.parsers.cloud import parse_aws, parse_gcp
from statuspages.parsers.feed import parse_feed
from statuspages.parsers.hosted import parse_betterstack, parse_instatus
from statuspages.parsers.statuspage import parse_atlassian, parse_incidentio

__all__ = ["PARSERS", "Component", "Incident", "Snapshot", "Update", "parse"]

logger = logging.getLogger(__name__)

Parser = Callable[[bytes, Mapping[str, str], dt.datetime], Snapshot]

PARSERS: dict[str, Parser] = {
    PageKind.ATLASSIAN: parse_atlassian,
    PageKind.INCIDENTIO: parse_incidentio,
    PageKind.INSTATUS: parse_instatus,
    PageKind.BETTERSTACK: parse_betterstack,
    PageKind.GCP: parse_gcp,
    PageKind.AWS: parse_aws,
    PageKind.FEED: parse_feed,
}


def parse(kind: str, body: bytes, headers: Mapping[str, str], *, now: dt.datetime) -> Snapshot:
    """Read one body of a page of `kind`; UNKNOWN with a reason whenever it cannot be read."""
    parser = PARSERS.get(kind)
    if parser is None:
        return unknown(f"unknown kind {kind!r}")
    if not body.strip():
        return unknown("empty body")
    try:
        return parser(body, headers, now)
    except Malformed as exc:
        return unknown(str(exc))
    except (RecursionError, MemoryError):
        return unknown("the body is nested too deep to read")
    except Exception:  # a page must never take the poller down; log it, it is our bug to fix
        logger.exception("parsing a %s page failed", kind)
        return unknown("the body could not be read")
