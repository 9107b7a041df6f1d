"""Status badges: a small shields.io-like SVG, "TikTok Shop | outage", to embed in a README or a status page.

Pure: plain values in, SVG text out. Every piece of text is escaped; names come from the catalog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.translation import gettext as _

from reports.models import Level

HEIGHT = 20
PADDING = 6  # pixels either side of each text
LABEL_COLOUR = "#555"
UNKNOWN_COLOUR = "#6b7280"
LABEL_MAX_CHARACTERS = 32

# Characters XML 1.0 forbids even escaped (C0 controls other than tab, newline and carriage return).
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 forbids even escaped.

    The badge and the Atom feeds are XML; Django's feed writer raises on these (a 500).
    """
    return _XML_INVALID.sub("", text)


@dataclass(frozen=True)
class BadgeState:
    message: str
    colour: str


def badge_state(level: str, *, analysed: bool, stale: bool) -> BadgeState:
    """What the badge says for a detector level.

    A level nobody analysed, or one older than the detector's staleness limit, says "unknown":
    a badge has no room for the service page's "this may be out of date", and an
    "operational" from stopped workers would be a claim nobody checked.
    """
    if not analysed or stale or level not in Level.values:
        return BadgeState(_("unknown"), UNKNOWN_COLOUR)
    return {
        Level.OK: BadgeState(_("operational"), "#2e7d32"),
        Level.POSSIBLE: BadgeState(_("possible problems"), "#b45309"),
        Level.OUTAGE: BadgeState(_("outage"), "#c62828"),
    }[Level(level)]


def text_width(text: str) -> int:
    """Roughly how many pixels `text` takes in 11 px Verdana (the text is then fitted to it with textLength)."""
    width = 0.0
    for char in text:
        if char in "iljtfI.,:;!|'`()[]{} ":
            width += 4.0
        elif char in "mwMW%@":
            width += 10.5
        elif char.isupper() or char.isdigit():
            width += 7.5
        elif ord(char) > 0x2E7F:  # CJK and other full-width scripts
            width += 11.0
        else:
            width += 6.6
    return round(width)


def badge_svg(label: str, state: BadgeState) -> str:
    """The badge as a standalone SVG document: `label` on grey, the state's message on its colour."""
    label = _shorten(xml_text(label).strip(), LABEL_MAX_CHARACTERS)
    message = state.message
    label_text, message_text = text_width(label), text_width(message)
    left, right = label_text + 2 * PADDING, message_text + 2 * PADDING
    width = left + right
    title = f"{label}: {message}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" role="img"'
        f' aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{width}" height="{HEIGHT}" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="{HEIGHT}" fill="{LABEL_COLOUR}"/>'
        f'<rect x="{left}" width="{right}" height="{HEIGHT}" fill="{escape(state.colour)}"/>'
        f'<rect width="{width}" height="{HEIGHT}" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f"{_text(label, left / 2, label_text)}{_text(message, left + right / 2, message_text)}"
        "</g></svg>"
    )


def _text(text: str, centre: float, length: int) -> str:
    """The text with its one-pixel shadow; textLength makes it exactly as wide as measured, whatever the font."""
    fit = f'textLength="{length}" lengthAdjust="spacingAndGlyphs"'
    return (
        f'<text x="{centre:g}" y="15" fill="#010101" fill-opacity=".3" aria-hidden="true" {fit}>{escape(text)}</text>'
        f'<text x="{centre:g}" y="14" {fit}>{escape(text)}</text>'
    )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
