"""`{% memo %}`: a fragment rendered once for the values it is drawn from, then read from the cache.

    {% memo chart chart_id window %}...{% endmemo %}

Django's `{% cache %}` keyed by the values themselves: the key is a digest of the `repr` of every
value named (frozen dataclasses, dates and numbers have exact ones), of the active language and of
where the block sits, so equal inputs render the same fragment and any change is a new key. Name
every context value the block reads. Unlike `{% cache %}`, a failing cache costs only the saving,
never the page (outagehub.memo). Worth it where a loop over many items renders slowly: a chart's
96 bars twice over, a history's 90 days.
"""

from __future__ import annotations

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.template.context import Context
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from outagehub.memo import memo_key, memoized

register = template.Library()

# A changed input is a new key, never a stale fragment: this only bounds how long the old ones
# linger. A service's chart changes every minute; two generations of it are enough to keep.
FRAGMENT_SECONDS = 120
FRAGMENT_VERSION = 1  # bump to forget fragments rendered by an older template tag


class MemoNode(template.Node):
    def __init__(self, nodelist: NodeList, values: list[FilterExpression], place: str) -> None:
        self.nodelist, self.values, self.place = nodelist, values, place

    def render(self, context: Context) -> SafeString:
        values = [value.resolve(context) for value in self.values]
        key = memo_key("fragment", FRAGMENT_VERSION, self.place, get_language(), values)
        return mark_safe(memoized(key, lambda: self.nodelist.render(context), timeout=FRAGMENT_SECONDS))  # noqa: S308 - a rendered template


@register.tag("memo")
def do_memo(parser: Parser, token: Token) -> MemoNode:
    nodelist = parser.parse(("endmemo",))
    parser.delete_first_token()
    values = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    # Two blocks drawn from the same values are told apart by their template, their order in it
    # (tokens carry no position unless templates are in debug mode) and what they contain.
    order = getattr(parser, "memo_blocks", 0)
    parser.memo_blocks = order + 1  # type: ignore[attr-defined]
    place = memo_key("place", parser.origin.template_name if parser.origin else None, order, _written(nodelist))
    return MemoNode(nodelist, values, place)


def _written(nodelist: NodeList) -> str:
    """The block's text and tags as written (its top-level tokens)."""
    return "".join(node.token.contents if node.token else type(node).__name__ for node in nodelist)
