"""Reads of outages."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet

from catalog.models import Service
from reports.models import Outage, OutageEvent, OutageStatus


def outage_list() -> QuerySet[Outage]:
    """Every outage, newest first; the API narrows it with reports.filters.OutageFilter."""
    return Outage.objects.select_related("service").order_by("-started_at", "-id")


def outage_get(*, outage_id: int) -> Outage | None:
    return Outage.objects.select_related("service").prefetch_related("events").filter(pk=outage_id).first()


def service_outages(*, service: Service, since: dt.datetime, limit: int = 20) -> list[Outage]:
    """The service's outages that started at or after `since`, and any still open, newest first (at most `limit`)."""
    outages = Outage.objects.filter(service=service).filter(Q(started_at__gte=since) | Q(status=OutageStatus.OPEN))
    return list(outages.order_by("-started_at", "-id")[:limit])


def service_outage_get(*, service: Service, outage_id: int) -> Outage | None:
    """One outage of this service with its events in time order (`events.all()`), or None."""
    events = Prefetch("events", queryset=OutageEvent.objects.order_by("at", "id"))
    return Outage.objects.filter(service=service, pk=outage_id).prefetch_related(events).first()
