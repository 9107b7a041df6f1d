"""Reads of outages: one outage, a service's history, and what the outage list page and Atom feeds show.

The list and feeds show only outages of active services: an inactive service's pages are 404s, so its
outages are not listed or linked anywhere either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.postgres.aggregates import StringAgg
from django.db import connections
from django.db.models import (
    CharField,
    Count,
    Exists,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.db.models.functions import MD5, Lower

from catalog.models import IssueType, Service
from reports.models import Outage, OutageEvent, OutageStatus


def outage_list() -> QuerySet[Outage]:
    """Every outage, newest first, with its service and cause; the API narrows it with reports.api.filters.OutageFilter.

    Each carries `has_dependents`: whether it caused other services' outages. Their
    `affected_dependents` are not prefetched: once a page is cut, `outage_dependents_prefetch`
    reads them for the few upstream outages among it, and nothing for a page without any.
    """
    # IS NOT NULL, though implied: without it PostgreSQL hashes the whole cause_outage index (one
    # entry per outage, nearly all NULL) on every page, a cost that grew with the history.
    caused = Outage.objects.filter(cause_outage__isnull=False, cause_outage=OuterRef("pk"))
    return (
        Outage.objects.select_related("service", "cause")
        .annotate(has_dependents=Exists(caused))
        .order_by("-started_at", "-id")
    )


def outage_dependents_prefetch(outages: list[Outage]) -> None:
    """Prefetch `affected_dependents` of those of `outage_list`'s `outages` that have any (one query, or none)."""
    upstream = [o for o in outages if o.has_dependents]  # type: ignore[attr-defined]  # annotated by outage_list
    if upstream:
        prefetch_related_objects(upstream, affected_dependents_prefetch())


def outage_get(*, outage_id: int) -> Outage | None:
    return _with_cause(Outage.objects.prefetch_related("events"), cause_outage=False).filter(pk=outage_id).first()


def _with_cause(outages: QuerySet[Outage], *, cause_outage: bool = True) -> QuerySet[Outage]:
    """With the service, the likely cause and, for an upstream's outage, the dependents' outages it caused.

    `cause_outage`: the cause's own outage and its service too, which the outage page links to;
    the API names only its id, and a page of 50 outages reads twice the rows with it.
    """
    related = ["service", "cause", *(["cause_outage__service"] if cause_outage else [])]
    return outages.select_related(*related).prefetch_related(affected_dependents_prefetch())


def affected_dependents_prefetch() -> Prefetch:
    """An upstream outage's `affected_dependents`, with their services, in the order they started."""
    dependents = Outage.objects.select_related("service").order_by("started_at", "id")
    return Prefetch("affected_dependents", queryset=dependents)


def service_outages(*, service: Service, since: dt.datetime, limit: int = 20) -> list[Outage]:
    """The service's outages that started at or after `since`, and any still open, newest first (at most `limit`)."""
    return list(_started_since_or_open(Outage.objects.filter(service=service), since)[:limit])


@dataclass(frozen=True)
class OutageSpan:
    """An outage as the history bars (reports.web.history.OutageLike) and the page's verdict read it."""

    pk: int
    level: str
    status: str
    confidence: str
    official_confirmed: bool
    started_at: dt.datetime
    end: dt.datetime | None  # Outage.end


def service_outage_spans(*, service: Service, since: dt.datetime, limit: int) -> list[OutageSpan]:
    """`service_outages` as spans: a quarter of a flapping service's history is hundreds of outages, read narrow."""
    rows = _started_since_or_open(Outage.objects.filter(service=service), since).values_list(*SPAN_FIELDS)
    return [
        OutageSpan(pk, level, status, confidence, official, started, ended or resolved)
        for pk, level, status, confidence, official, started, ended, resolved in rows[:limit]
    ]


SPAN_FIELDS = ("pk", "level", "status", "confidence", "official_confirmed", "started_at", "ended_at", "resolved_at")


@dataclass(frozen=True)
class SpansDigest:
    """A digest of what `service_outage_spans` would read, and whether any of those outages has no end yet."""

    digest: str
    unended: int


def service_outage_spans_digest(*, service: Service, since: dt.datetime, limit: int) -> SpansDigest | None:
    """A digest of every field of the spans `service_outage_spans` would read, computed by the database.

    One short row however many outages: what changes when any of them does (a new outage, one
    resolved, reopened or edited) without reading them all. None on databases without string
    aggregation (SQLite, the embedded default, where histories are small).
    """
    outages = _started_since_or_open(Outage.objects.filter(service=service), since)
    if connections[outages.db].vendor != "postgresql":
        return None
    # One row constructor, not a chain of concatenations: Django copies a nested expression at
    # every level, which cost more than reading the rows. NULL shows as an empty field.
    row = Func(*SPAN_FIELDS, template="(ROW(%(expressions)s))::text", output_field=CharField())
    totals = outages[:limit].aggregate(
        digest=MD5(StringAgg(row, delimiter=";")),
        unended=Count("pk", filter=Q(ended_at__isnull=True, resolved_at__isnull=True)),
    )
    return SpansDigest(totals["digest"] or "", totals["unended"])


def service_outage_get(*, service: Service, outage_id: int) -> Outage | None:
    """One outage of this service with its events in time order (`events.all()`), or None."""
    events = Prefetch("events", queryset=OutageEvent.objects.order_by("at", "id"))
    outages = _with_cause(Outage.objects.filter(service=service, pk=outage_id))
    return outages.prefetch_related(events).first()


def outages_recent(*, since: dt.datetime, slug: str | None = None) -> QuerySet[Outage]:
    """Outages that started at or after `since`, and any still open, newest first, with their service.

    `slug` narrows them to one service. Lazy, so a paginator counts and slices it in SQL.
    """
    outages = Outage.objects.filter(service__active=True)
    if slug is not None:
        outages = outages.filter(service__slug=slug)
    return _started_since_or_open(outages, since).select_related("service")


def _started_since_or_open(outages: QuerySet[Outage], since: dt.datetime) -> QuerySet[Outage]:
    """Those of `outages` that started at or after `since`, and any still open, newest first."""
    return outages.filter(Q(started_at__gte=since) | Q(status=OutageStatus.OPEN)).order_by("-started_at", "-id")


def outage_feed_items(*, service: Service | None = None, limit: int) -> list[Outage]:
    """The `limit` newest outages of `service` (or of every active service), newest first.

    Each carries `last_event_at`: when its latest timeline event happened (None without events),
    one subquery rather than a query per outage.
    """
    last_event = OutageEvent.objects.filter(outage=OuterRef("pk")).order_by("-at").values("at")[:1]
    outages = Outage.objects.filter(service__active=True) if service is None else Outage.objects.filter(service=service)
    outages = outages.select_related("service").annotate(last_event_at=Subquery(last_event))
    return list(outages.order_by("-started_at", "-id")[:limit])


def issue_type_labels(*, service_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Issue type labels by key, per service id; inactive types too, since old outages name them."""
    labels: dict[int, dict[str, str]] = {}
    for service_id, key, label in IssueType.objects.filter(service_id__in=set(service_ids)).values_list(
        "service_id", "key", "label"
    ):
        labels.setdefault(service_id, {})[key] = label
    return labels


def outage_service_slug(*, outage_id: int) -> str | None:
    """The slug of the active service this outage belongs to, or None (no such outage, or a hidden service)."""
    return Outage.objects.filter(pk=outage_id, service__active=True).values_list("service__slug", flat=True).first()


def service_names() -> dict[str, str]:
    """Active services' names by slug, in name order (what a service filter offers)."""
    services = Service.objects.active().order_by(Lower("name"), "pk").values_list("slug", "name")
    return dict(services)
