"""Pages for following a service: its status badge."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from .badges import UNKNOWN_COLOUR, BadgeState, badge_state, badge_svg
from .selectors import service_get, service_status

BADGE_MAX_AGE = 60  # seconds: about as often as the detector settles a minute
# The badge is opened directly too (it is a document of ours): nothing in it may load or run anything.
BADGE_CSP = "default-src 'none'; style-src 'unsafe-inline'"


@require_safe
def badge(request: HttpRequest, slug: str) -> HttpResponse:
    service = service_get(slug=slug)
    if service is None:
        # Still an image, so a page embedding a mistyped address shows why rather than a broken image.
        return _badge_response("OutageHub", BadgeState(_("no such service"), UNKNOWN_COLOUR), status=404)
    current = service_status(service=service)
    state = badge_state(current.status, analysed=current.as_of is not None, stale=current.stale)
    return _badge_response(service.name, state)


def _badge_response(label: str, state: BadgeState, *, status: int = 200) -> HttpResponse:
    response = HttpResponse(badge_svg(label, state), content_type="image/svg+xml; charset=utf-8", status=status)
    patch_cache_control(response, public=True, max_age=BADGE_MAX_AGE)
    response["Content-Security-Policy"] = BADGE_CSP
    return response
