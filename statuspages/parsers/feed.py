"""Generic RSS 2.0 and Atom status feeds (a status page's history feed, status.io, a vendor's own).

A feed says little: each item is an incident (or an update to one) in words. An item is over when
its newest words say so (Resolved, Completed...); one not over and updated within OPEN_FOR is open.
The level of an open item comes from its words too: "major outage", "outage" or "down", else degraded.

XML from a stranger: a document with a DOCTYPE is refused outright (no entities, so no entity
expansion and no external fetches), and the tree is bounded in depth and size.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import re
import xml.parsers.expat
from collections.abc import Mapping
from dataclasses import dataclass, field

from statuspages.kinds import IncidentStatus, OfficialLevel, worst
from statuspages.parsers.base import (
    BODY_CHARS,
    MAX_INCIDENTS,
    Incident,
    Malformed,
    Snapshot,
    Update,
    decode_text,
    link,
    text,
    timestamp,
)

OPEN_FOR = dt.timedelta(hours=24)
MAX_DEPTH = 32
MAX_ELEMENTS = 50_000

_WORDS = {
    "resolved": IncidentStatus.RESOLVED,
    "completed": IncidentStatus.COMPLETED,
    "postmortem": IncidentStatus.POSTMORTEM,
    "investigating": IncidentStatus.INVESTIGATING,
    "identified": IncidentStatus.IDENTIFIED,
    "monitoring": IncidentStatus.MONITORING,
    "verifying": IncidentStatus.VERIFYING,
    "in progress": IncidentStatus.IN_PROGRESS,
    "scheduled": IncidentStatus.SCHEDULED,
}
_FIRST_WORD = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,2000}>")


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[_Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def find(self, *tags: str) -> _Node | None:
        return next((c for c in self.children if c.tag in tags), None)

    def all(self, tag: str) -> list[_Node]:
        return [c for c in self.children if c.tag == tag]

    def value(self, *tags: str) -> str:
        node = self.find(*tags)
        return "".join(node.text).strip() if node else ""


def _local(name: str) -> str:
    return name.rpartition(":")[2].lower()


def parse_xml(source: str) -> _Node:
    """A small, bounded element tree; raises Malformed for bad XML, a DOCTYPE, or a document too deep or big."""
    parser = xml.parsers.expat.ParserCreate()
    root = _Node("", {})
    stack = [root]
    count = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if len(stack) > MAX_DEPTH or count > MAX_ELEMENTS:
            raise Malformed("the XML is nested too deep or has too many elements")
        node = _Node(_local(name), {_local(k): v for k, v in attrs.items()})
        stack[-1].children.append(node)
        stack.append(node)

    def end(name: str) -> None:
        stack.pop()

    def data(chars: str) -> None:
        if sum(map(len, stack[-1].text)) < 100_000:
            stack[-1].text.append(chars)

    def doctype(*args: object) -> None:
        raise Malformed("the XML has a DOCTYPE, which a feed does not need (entities refused)")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(source, True)
    except xml.parsers.expat.ExpatError as exc:
        raise Malformed(f"not XML: {xml.parsers.expat.ErrorString(exc.code)} at line {exc.lineno}") from None
    if not root.children:
        raise Malformed("not XML: empty document")
    return root.children[0]


def _time(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)  # RSS: RFC 822
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return timestamp(value)  # Atom: RFC 3339


def _plain(markup: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", markup)).split())


def _level(words: str) -> str:
    lowered = words.lower()
    if "major outage" in lowered:
        return OfficialLevel.MAJOR_OUTAGE
    if re.search(r"\b(outage|down|unavailable)\b", lowered):
        return OfficialLevel.PARTIAL_OUTAGE
    if "maintenance" in lowered:
        return OfficialLevel.MAINTENANCE
    return OfficialLevel.DEGRADED


def parse_feed(body: bytes, headers: Mapping[str, str], now: dt.datetime) -> Snapshot:
    root = parse_xml(decode_text(body, headers))
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise Malformed("an RSS document without a channel")
        entries = channel.all("item")
    elif root.tag == "feed":
        entries = root.all("entry")
    else:
        raise Malformed(f"<{root.tag}> is neither an RSS nor an Atom feed")
    incidents = [_incident(entry, now) for entry in entries[:MAX_INCIDENTS]]
    return Snapshot(level=worst([i.level for i in incidents if i.open]), incidents=tuple(incidents))


def _incident(entry: _Node, now: dt.datetime) -> Incident:
    title = text(_plain(entry.value("title")))
    words = _plain(entry.value("description", "content", "summary"))
    link_node = entry.find("link")
    url = link((link_node.attrs.get("href") or "".join(link_node.text).strip()) if link_node else "")
    updated = _time(entry.value("updated", "pubdate", "published", "date"))
    provider_id = (entry.value("guid", "id") or url or title)[:100]
    if not provider_id:
        raise Malformed("an item without guid, id, link or title")
    # The newest words come first (Statuspage's history feed lists updates newest first); a title
    # like "[Resolved] ..." counts as well.
    match = _FIRST_WORD.search(f"{title} {words}" if "resolved" in title.lower() else f"{words} {title}")
    status = _WORDS[match.group(1).lower()] if match else IncidentStatus.UNKNOWN
    closed = status in (IncidentStatus.RESOLVED, IncidentStatus.COMPLETED, IncidentStatus.POSTMORTEM)
    recent = updated is not None and now - updated <= OPEN_FOR
    maintenance = status in (IncidentStatus.SCHEDULED, IncidentStatus.IN_PROGRESS, IncidentStatus.VERIFYING)
    if not closed and not recent:
        status = IncidentStatus.RESOLVED  # an old item nobody closed is not an incident now
    update_key = updated.isoformat() if updated else str(len(words))
    return Incident(
        provider_id=provider_id,
        title=title,
        status=status,
        level=OfficialLevel.MAINTENANCE if maintenance else _level(f"{title} {words[:500]}"),
        started_at=_time(entry.value("published", "pubdate", "updated")),
        resolved_at=updated if (closed or not recent) else None,
        url=url,
        updates=(Update(f"{provider_id}@{update_key}", updated, status, words[:BODY_CHARS]),) if words else (),
        maintenance=maintenance,
    )
