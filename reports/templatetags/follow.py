"""Template helpers for following a service: absolute feed and badge addresses, and badge snippets to copy.

The snippets are returned as plain text (not marked safe): they are shown on the page, so Django
escapes them once more for display, and what people copy is the snippet itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _

from catalog.models import Service

register = template.Library()

_MARKDOWN_SPECIAL = re.compile(r"([\\\[\]])")


@dataclass(frozen=True)
class FollowLinks:
    page: str
    feed: str
    badge: str
    badge_html: str
    badge_markdown: str


@register.simple_tag(takes_context=True)
def follow_links(context: dict[str, Any], service: Service) -> FollowLinks:
    # Absolute: the addresses are copied elsewhere. Without a request (a template rendered on its own), paths.
    request = context.get("request")

    def address(name: str) -> str:
        path = reverse(name, args=[service.slug])
        return request.build_absolute_uri(path) if request is not None else path

    page, feed, badge = address("reports:service"), address("reports:service_feed"), address("reports:badge")
    return FollowLinks(page, feed, badge, *badge_snippets(service.name, page=page, badge=badge))


def badge_snippets(name: str, *, page: str, badge: str) -> tuple[str, str]:
    """HTML and Markdown that embed the badge, linked to the service page; `name` escaped for each."""
    alt = _("%(service)s status on OutageHub") % {"service": name}
    html = f'<a href="{escape(page)}"><img src="{escape(badge)}" alt="{escape(alt)}"></a>'
    markdown_alt = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(alt.split()))
    markdown = f"[![{markdown_alt}]({badge})]({page})"
    return html, markdown
