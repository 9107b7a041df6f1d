"""{% memo %}: a fragment rendered once per distinct values, language and place."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation

from outagehub import memo
from outagehub.tests.test_memo import DownCache

TWO_BLOCKS = "{% load memo %}{% memo x %}[{{ n.next }}]{% endmemo %}{% memo x %}<{{ n.next }}>{% endmemo %}"


class Counter:
    """Each `next` a new number: shows whether a block was rendered or read back."""

    def __init__(self) -> None:
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return self.n


def render(source: str, **context: object) -> str:
    return Template(source).render(Context(context))


def test_a_block_is_rendered_once_for_the_same_values_and_again_for_others():
    n = Counter()
    block = "{% load memo %}{% memo x y %}{{ n.next }}:{{ x }}{% endmemo %}"
    assert render(block, n=n, x=1, y="a") == "1:1"
    assert render(block, n=n, x=1, y="a") == "1:1"
    assert render(block, n=n, x=2, y="a") == "2:2"
    assert render(block, n=n, x=1, y="b") == "3:1"


def test_two_blocks_with_the_same_values_are_two_fragments():
    n = Counter()
    assert render(TWO_BLOCKS, n=n, x=1) == "[1]<2>"
    assert render(TWO_BLOCKS, n=n, x=1) == "[1]<2>"


def test_each_language_has_its_own_fragment():
    n = Counter()
    block = "{% load memo %}{% memo x %}{{ n.next }}{% endmemo %}"
    with translation.override("en"):
        assert render(block, n=n, x=1) == "1"
    with translation.override("de"):
        assert render(block, n=n, x=1) == "2"


def test_a_fragment_is_markup_as_rendered_not_escaped_again():
    assert render("{% load memo %}{% memo x %}<b>{{ x }}</b>{% endmemo %}", x="<i>") == "<b>&lt;i&gt;</b>"
    assert render("{% load memo %}{% memo x %}<b>{{ x }}</b>{% endmemo %}", x="<i>") == "<b>&lt;i&gt;</b>"


def test_without_a_cache_the_block_is_rendered_every_time(monkeypatch):
    monkeypatch.setattr(memo, "cache", DownCache())
    n = Counter()
    block = "{% load memo %}{% memo x %}{{ n.next }}{% endmemo %}"
    assert render(block, n=n, x=1) == "1"
    assert render(block, n=n, x=1) == "2"


@pytest.mark.parametrize("source", ["{% load memo %}{% memo %}x", "{% load memo %}{% memo a %}x"])
def test_a_block_must_be_closed(source):
    from django.template import TemplateSyntaxError

    with pytest.raises(TemplateSyntaxError):
        Template(source)
