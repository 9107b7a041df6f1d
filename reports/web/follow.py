"""Pages for following outages: the outage list, an outage's permalink, and a service's status badge.

(The Atom feeds are in reports.web.feeds.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from catalog.selectors import service_get
from reports.selectors.outages import outage_service_slug, outages_recent, service_names
from reports.selectors.status import service_status
from reports.web.badges import UNKNOWN_COLOUR, BadgeState, badge_state, badge_svg

OUTAGES_PER_PAGE = 25
DAYS_CHOICES = (1, 7, 30, 90)
DEFAULT_DAYS = 30  # as the service page's outage history
BADGE_MAX_AGE = 60  # seconds: about as often as the detector settles a minute
# The badge is opened directly too (it is a document of ours): nothing in it may load or run anything.
BADGE_CSP = "default-src 'none'; style-src 'unsafe-inline'"


class OutageFilterForm(forms.Form):
    """The query string of /outages/. Errors name the parameter, so a hand-made URL can be fixed."""

    service = forms.CharField(required=False, max_length=64)
    days = forms.TypedChoiceField(
        choices=[(str(d), str(d)) for d in DAYS_CHOICES],
        coerce=int,
        required=False,
        empty_value=DEFAULT_DAYS,  # type: ignore[arg-type]  # the stubs allow str only; Django takes any coerced value
        error_messages={"invalid_choice": gettext_lazy("Choose one of 1, 7, 30 or 90 days.")},
    )
    page = forms.IntegerField(
        required=False,
        min_value=1,
        error_messages={
            "invalid": gettext_lazy("Give a page number (1, 2, ...)."),
            "min_value": gettext_lazy("Pages start at 1."),
        },
    )

    def __init__(self, data: Mapping[str, Any] | None, *, services: dict[str, str]) -> None:
        super().__init__(data)
        self.services = services

    def clean_service(self) -> str:
        slug = self.cleaned_data["service"]
        if slug and slug not in self.services:
            raise ValidationError(_("There is no service “%(slug)s”."), params={"slug": slug})
        return slug


@require_safe
def outages_page(request: HttpRequest) -> HttpResponse:
    services = service_names()
    form = OutageFilterForm(request.GET, services=services)
    if not form.is_valid():
        return _render_outages(request, form, errors=form.errors.items())
    slug, days = form.cleaned_data["service"], form.cleaned_data["days"]
    outages = outages_recent(since=timezone.now() - dt.timedelta(days=days), slug=slug or None)
    paginator = Paginator(outages, OUTAGES_PER_PAGE)
    number = form.cleaned_data["page"] or 1
    try:
        page = paginator.page(number)
    except InvalidPage:
        message = _("There is no page %(number)s: the last is %(last)s.") % {
            "number": number,
            "last": paginator.num_pages,
        }
        return _render_outages(request, form, errors=[("page", [message])])
    return _render_outages(request, form, page=page, slug=slug, days=days)


def _render_outages(
    request: HttpRequest,
    form: OutageFilterForm,
    *,
    errors: Iterable[tuple[str, Iterable[Any]]] | None = None,
    **context: object,
) -> HttpResponse:
    """The outage list, or (with `errors`: pairs of parameter and messages) the form with them, as a 400."""
    context = {
        "services": form.services,
        "days_choices": DAYS_CHOICES,
        "slug": request.GET.get("service", ""),
        "days": DEFAULT_DAYS,
        "errors": errors,
        **context,
    }
    slug = str(context["slug"])
    if slug:
        context["service_name"] = form.services.get(slug)
    return render(request, "reports/outages.html", context, status=400 if errors else 200)


@require_safe
def outage_permalink(request: HttpRequest, outage_id: int) -> HttpResponse:
    """/outages/<id>/: an address for an outage that needs no slug (the feeds' entry ids), sent to its page."""
    slug = outage_service_slug(outage_id=outage_id)
    if slug is None:
        raise Http404(f"No outage {outage_id}.")
    return redirect("reports:outage", slug=slug, outage_id=outage_id)


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
