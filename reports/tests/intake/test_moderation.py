"""The comment filter (reports/intake/moderation.py): pure functions, checked against their definitions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.intake.moderation import PIECE_LONGEST, REPEATS, comment_state_for, has_link, has_repeated_piece
from reports.models import CommentState


def repeated_piece_by_definition(comment: str, times: int = REPEATS, longest: int = PIECE_LONGEST) -> bool:
    """Some piece of 2..longest characters `times` times in a row, spaces ignored: every piece, everywhere."""
    text = "".join(comment.split())
    return any(
        text[start : start + n * times] == text[start : start + n] * times
        for n in range(2, longest + 1)
        for start in range(len(text) - n * times + 1)
    )


# Few letters, spaces and one character outside ASCII (the UTF-32 path): repeats are likely.
texts = st.text(alphabet="ab c\né", max_size=60)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_a_repeated_piece_is_found_exactly_where_the_definition_finds_one(comment):
    assert has_repeated_piece(comment) == repeated_piece_by_definition(comment)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="xyz é", min_size=2, max_size=8).filter(lambda p: len("".join(p.split())) >= 2), st.data())
def test_any_short_piece_five_times_with_any_spaces_between_is_found(piece, data):
    gaps = [data.draw(st.sampled_from(["", " ", "  ", "\n"])) for _ in range(REPEATS)]
    assert has_repeated_piece("".join(piece + gap for gap in gaps))


@pytest.mark.parametrize(
    ("comment", "repeated"),
    [
        ("BUY NOW BUY NOW BUY NOW BUY NOW BUY NOW", True),
        ("lolololololol", True),
        ("abab abab abab abab", True),  # "abab" four times, but "ab" eight
        ("ab ab ab ab", False),  # four times
        ("a piece of twenty-three letters " * 5, False),  # longer than PIECE_LONGEST: the word rule's case
        ("Checkout fails with error 500", False),
        ("Paiement refusé refusé refusé refusé refusé", True),
    ],
)
def test_repeated_pieces(comment, repeated):
    assert has_repeated_piece(comment) is repeated


def test_a_long_ordinary_comment_is_shown_and_a_long_word_salad_is_held():
    prose = (
        "Since noon the payment page shows a spinner and then a blank screen; my card was charged "
        "twice for one order, the app logs me out when I open the basket, support chat is down, "
        "and the order history lists nothing after last Tuesday. Tried Firefox, Chrome, the iOS "
        "app and two networks (home fibre, 4G). Friends in Lyon and Berlin see the same thing."
    )
    assert comment_state_for(prose) == CommentState.VISIBLE
    assert comment_state_for("outage, outage now! outage outage now, outage outage now") == CommentState.PENDING


@pytest.mark.parametrize(
    "comment", ["see https://x.example", "www.spam", "<a href=x>", "[url]x[/url]", "bit.ly/x", "buy at shop.com"]
)
def test_a_link_in_any_form_is_found(comment):
    assert has_link(comment)


@pytest.mark.parametrize("comment", ["checkout fails", "error 500 at 10:00", "e.g. the app", "a.b"])
def test_text_without_a_link_is_not_held_for_one(comment):
    assert not has_link(comment)
