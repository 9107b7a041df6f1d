"""Atom feeds of outages, for feed readers: every active service's, and one service's.

Each entry is one outage. Its id is the outage's permalink (/outages/<id>/), which stays the same
if the service's slug ever changes; its link is the outage page; its `updated` is the outage's
latest change, so a reader shows it again when it resolves or its team posts an update.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from catalog.models import Service
from catalog.selectors import service_get
from reports.models import Level, Outage, OutageStatus
from reports.selectors.outages import issue_type_labels, outage_feed_items
from reports.templatetags.pages import duration_text
from reports.web.badges import xml_text
from reports.web.charts import share_rows

FEED_SIZE = 30
FEED_MAX_AGE = 60  # seconds: readers poll every few minutes at most; an outage moves faster than that
TOP_ISSUE_TYPES = 3


def outage_updated_at(outage: Outage) -> dt.datetime:
    """When the outage last changed: its latest event, end, resolution, peak or team acknowledgement.

    `last_event_at` is the annotation of reports.selectors.outages.outage_feed_items.
    """
    moments = (
        outage.started_at,
        outage.ended_at,
        outage.resolved_at,
        outage.peak_at,
        outage.acknowledged_at,
        getattr(outage, "last_event_at", None),
    )
    return max(m for m in moments if m is not None)


def outage_title(outage: Outage) -> str:
    """'TikTok Shop: outage (ongoing)', 'TikTok Shop: possible problems (resolved)'."""
    level = Level(outage.level).label.lower() if outage.level in Level.values else _("outage")
    state = _("ongoing") if outage.status == OutageStatus.OPEN else _("resolved")
    return _("%(service)s: %(level)s (%(state)s)") % {"service": outage.service.name, "level": level, "state": state}


class OutageFeed(Feed):
    """One instance per request (see outages_feed): it keeps the request to make absolute entry ids."""

    feed_type = Atom1Feed
    author_name = "OutageHub"
    description_template = "reports/feeds/outage_summary.html"

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.request = request
        response = super().__call__(request, *args, **kwargs)
        patch_cache_control(response, public=True, max_age=FEED_MAX_AGE)
        return response

    def get_object(self, request: HttpRequest, slug: str | None = None) -> Service | None:
        if slug is None:
            return None
        service = service_get(slug=slug)
        if service is None:
            raise Http404(f"No service {slug!r}.")
        return service

    def title(self, service: Service | None) -> str:
        if service is None:
            return _("OutageHub: outages")
        return _("OutageHub: %(service)s outages") % {"service": xml_text(service.name)}

    def subtitle(self, service: Service | None) -> str:
        return _("Outages detected from user reports and monitoring probes, newest first.")

    def link(self, service: Service | None) -> str:
        return reverse("reports:outages") if service is None else reverse("reports:service", args=[service.slug])

    def feed_url(self, service: Service | None) -> str:
        if service is None:
            return reverse("reports:outages_feed")
        return reverse("reports:service_feed", args=[service.slug])

    def items(self, service: Service | None) -> list[Outage]:
        outages = outage_feed_items(service=service, limit=FEED_SIZE)
        labels = issue_type_labels(service_ids=(o.service_id for o in outages))
        for outage in outages:
            outage.labels = labels.get(outage.service_id, {})  # type: ignore[attr-defined]  # read by item_description
        return outages

    def item_title(self, outage: Outage) -> str:
        # Plain text: Atom's <title> is text, and the feed writer escapes it (no double escaping as for RSS).
        return xml_text(outage_title(outage))

    def item_link(self, outage: Outage) -> str:
        return reverse("reports:outage", args=[outage.service.slug, outage.pk])

    def item_guid(self, outage: Outage) -> str:
        return self.request.build_absolute_uri(reverse("reports:outage_permalink", args=[outage.pk]))

    def item_pubdate(self, outage: Outage) -> dt.datetime:
        return outage.started_at

    def item_updateddate(self, outage: Outage) -> dt.datetime:
        return outage_updated_at(outage)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        outage: Outage = kwargs["item"]
        ongoing = outage.status == OutageStatus.OPEN
        # Ongoing: for how long so far, as the outage page says (an open outage's end is not yet confirmed).
        end = None if ongoing else outage.end
        return {
            "outage": outage,
            "service_name": xml_text(outage.service.name),
            "ongoing": ongoing,
            "end": end,
            "duration": duration_text((end or timezone.now()) - outage.started_at),
            "issue_types": [
                (xml_text(row.label), row.percent)
                for row in share_rows(outage.issue_types, outage.labels)[:TOP_ISSUE_TYPES]  # type: ignore[attr-defined]
            ],
        }


@require_safe
def outages_feed(request: HttpRequest) -> HttpResponse:
    return OutageFeed()(request)


@require_safe
def service_feed(request: HttpRequest, slug: str) -> HttpResponse:
    return OutageFeed()(request, slug=slug)
