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
# One character ten times in a row.
_REPEATED_CHAR = re.compile(r"(\S)\1{9,}")
# Or a piece of 2 to PIECE_LONGEST characters (spaces not counted) REPEATS times in a row, whatever
# the spaces between: "BUY NOW BUY NOW ...", "lolololololol". Found by comparing the comment with
# itself shifted by each piece length, in C: a regular expression for it ((\S.+?)\s*(?:\1\s*){4,})
# tried every piece at every position, and spent 7 ms on a 500-character comment.
PIECE_LONGEST = 20
REPEATS = 5
# Or few distinct words in many: "down down down ..." with punctuation in between (longer
# pieces repeated are made of words, and caught here).
_WORD = re.compile(r"\w+")
MIN_WORDS_FOR_VARIETY = 8
MIN_DISTINCT_SHARE = 0.3

# Every form _LINK matches has one of these ("://", "www.", "<a", "[url", ".com"); most comments
# have none, and the set test costs a tenth of the search.
_LINK_MARKS = frozenset(":.<[")


def has_link(comment: str) -> bool:
    return not _LINK_MARKS.isdisjoint(comment) and _LINK.search(comment) is not None


def has_repeated_piece(comment: str, times: int = REPEATS, longest: int = PIECE_LONGEST) -> bool:
    """Whether a piece of 2..`longest` characters comes `times` times in a row, spaces ignored.

    With the spaces taken out, such a run is a stretch of (times - 1) * n characters each equal
    to the one n further on: one XOR of the text with itself shifted by n finds it as a run of
    zero characters.
    """
    text = "".join(comment.split())
    if text.isascii():
        data, width = text.encode("ascii"), 1
    else:
        data, width = text.encode("utf-32-le"), 4
    for n in range(2, min(longest, len(text) // times) + 1):
        shift = n * width
        same = int.from_bytes(data[shift:], "little") ^ int.from_bytes(data[:-shift], "little")
        xored = same.to_bytes(len(data) - shift, "little")
        run = b"\0" * ((times - 1) * shift)
        at = xored.find(run)
        while at != -1 and at % width:  # a run of zero bytes that starts inside a character
            at = xored.find(run, at + 1)
        if at != -1:
            return True
    return False


def is_repetitive(comment: str) -> bool:
    if _REPEATED_CHAR.search(comment) or has_repeated_piece(comment):
        return True
    words = [w.lower() for w in _WORD.findall(comment)]
    return len(words) >= MIN_WORDS_FOR_VARIETY and len(set(words)) / len(words) < MIN_DISTINCT_SHARE


def comment_state_for(comment: str) -> CommentState:
    """VISIBLE, or PENDING (held for a moderator) for a comment with a link or repeated text."""
    if comment and (has_link(comment) or is_repetitive(comment)):
        return CommentState.PENDING
    return CommentState.VISIBLE
