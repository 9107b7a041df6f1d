"""Reads for following outages: the outage list page and the outage permalink.

Only outages of active services: an inactive service's pages are 404s, so its outages are not listed
or linked anywhere either.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from .models import Outage, OutageStatus, Service


def outages_recent(*, since: dt.datetime, slug: str | None = None) -> QuerySet[Outage]:
    """Outages that started at or after `since`, and any still open, newest first, with their service.

    `slug` narrows them to one service. Lazy, so a paginator counts and slices it in SQL.
    """
    outages = Outage.objects.filter(service__active=True).filter(Q(started_at__gte=since) | Q(status=OutageStatus.OPEN))
    if slug is not None:
        outages = outages.filter(service__slug=slug)
    return outages.select_related("service").order_by("-started_at", "-id")


def outage_service_slug(*, outage_id: int) -> str | None:
    """The slug of the active service this outage belongs to, or None (no such outage, or a hidden service)."""
    return Outage.objects.filter(pk=outage_id, service__active=True).values_list("service__slug", flat=True).first()


def service_names() -> dict[str, str]:
    """Active services' names by slug, in name order (what a service filter offers)."""
    services = Service.objects.active().order_by(Lower("name"), "pk").values_list("slug", "name")
    return dict(services)
