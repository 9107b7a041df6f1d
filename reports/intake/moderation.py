"""The comment filter (pure): which comments wait for a moderator before anyone sees them.

A comment with a link, or made of one piece of text repeated, is what spam and flooding look
like; a person describing a problem rarely writes either. Such a comment is not refused (its
report still counts, a bot learns nothing from the answer): it is stored with the state
*pending* and shown only once a moderator shows it in the admin.
"""

from __future__ import annotations

import re

from reports.models import CommentState

# A scheme, "www.", markup links, or a host name ending in a TLD spammers favour (or the usual ones).
_LINK = re.compile(
    r"[a-z][a-z0-9+.-]*://|\bwww\.|<\s*a\b|\[url|"
    r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|info|biz|io|co|me|ru|cn|xyz|top|site|online|shop|link|click|ly|gl)\b",
    re.IGNORECASE,
)
# One character ten times in a row, or a piece of two or more characters five times in a row.
_REPEATED_CHAR = re.compile(r"(\S)\1{9,}")
_REPEATED_PIECE = re.compile(r"(\S.+?)\s*(?:\1\s*){4,}", re.DOTALL)
# Or few distinct words in many: "down down down ..." with punctuation in between.
_WORD = re.compile(r"\w+")
MIN_WORDS_FOR_VARIETY = 8
MIN_DISTINCT_SHARE = 0.3


def has_link(comment: str) -> bool:
    return _LINK.search(comment) is not None


def is_repetitive(comment: str) -> bool:
    if _REPEATED_CHAR.search(comment) or _REPEATED_PIECE.search(comment):
        return True
    words = [w.lower() for w in _WORD.findall(comment)]
    return len(words) >= MIN_WORDS_FOR_VARIETY and len(set(words)) / len(words) < MIN_DISTINCT_SHARE


def comment_state_for(comment: str) -> CommentState:
    """VISIBLE, or PENDING (held for a moderator) for a comment with a link or repeated text."""
    if comment and (has_link(comment) or is_repetitive(comment)):
        return CommentState.PENDING
    return CommentState.VISIBLE
