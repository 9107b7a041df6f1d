"""Reads of status pages that other apps use (reports' detection and pages, the API).

The contract other apps rely on is ``official_levels`` and ``official_incidents_between``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from statuspages.kinds import OfficialLevel
from statuspages.models import ProviderIncident, StatusPage

INCIDENTS_SHOWN = 5


@dataclass(frozen=True)
class OfficialIncident:
    """An open provider incident, short."""

    provider_id: str
    title: str
    status: str  # IncidentStatus
    level: str  # OfficialLevel
    started_at: dt.datetime | None
    url: str
    maintenance: bool
    latest_update: str  # the newest update's text, "" if none


@dataclass(frozen=True)
class OfficialState:
    """What a service's official status page says now.

    `level` is an OfficialLevel value: UNKNOWN when the latest poll failed or none succeeded yet.
    `stale` is true when that is not a fresh reading: the latest poll failed, or the latest good
    one is older than OUTAGEHUB_STATUSPAGES_STALE_SECONDS (pollers stopped). Only a level that is
    not stale is evidence; a stale OPERATIONAL proves nothing.
    """

    level: str
    stale: bool
    fetched_at: dt.datetime | None  # the latest good reading (200 or 304)
    page_url: str  # the page people read, for a link
    incidents: tuple[OfficialIncident, ...]  # open ones, newest first, at most INCIDENTS_SHOWN
    kind: str = ""
    reason: str = ""

    @property
    def operational(self) -> bool:
        """Fresh and green: the page positively says all is well."""
        return self.level == OfficialLevel.OPERATIONAL and not self.stale


def page_link(page: StatusPage) -> str:
    """The human page behind an endpoint: its origin (the summary JSON is not for people)."""
    scheme, _, rest = page.url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/"


def short(incident: ProviderIncident) -> OfficialIncident:
    updates = incident.updates or []
    return OfficialIncident(
        provider_id=incident.provider_id,
        title=incident.title,
        status=incident.status,
        level=incident.level,
        started_at=incident.started_at,
        url=incident.url,
        maintenance=incident.maintenance,
        latest_update=str(updates[-1].get("body", "")) if updates else "",
    )


def official_state(page: StatusPage, *, now: dt.datetime, incidents: list[ProviderIncident]) -> OfficialState:
    fresh_for = dt.timedelta(seconds=settings.STATUSPAGES_STALE_SECONDS)
    stale = page.stale or page.fetched_at is None or now - page.fetched_at > fresh_for
    return OfficialState(
        level=page.level,
        stale=stale,
        fetched_at=page.fetched_at,
        page_url=page_link(page),
        incidents=tuple(short(i) for i in incidents[:INCIDENTS_SHOWN]),
        kind=page.kind,
        reason=page.reason,
    )


def official_levels(service_ids: Iterable[int], *, now: dt.datetime) -> dict[int, OfficialState]:
    """The official state of each given service that has an enabled status page (others are absent).

    Two queries whatever the number of services.
    """
    pages = {p.service_id: p for p in StatusPage.objects.filter(service_id__in=list(service_ids), enabled=True)}
    open_incidents: dict[int, list[ProviderIncident]] = {}
    for incident in ProviderIncident.objects.filter(page__in=pages.values()).open().order_by("-started_at", "-id"):
        open_incidents.setdefault(incident.page_id, []).append(incident)
    return {
        service_id: official_state(page, now=now, incidents=open_incidents.get(page.pk, []))
        for service_id, page in pages.items()
    }


def official_incidents_between(service_id: int, start: dt.datetime, end: dt.datetime) -> list[ProviderIncident]:
    """The provider incidents of the service's page going on at any time in [start, end], oldest first."""
    return list(
        ProviderIncident.objects.filter(page__service_id=service_id)
        .overlapping(start, end)
        .select_related("page__service")
        .order_by("started_at", "id")
    )


def status_page_get(*, service_id: int) -> StatusPage | None:
    """The service's enabled page, with its last good snapshot."""
    return StatusPage.objects.filter(service_id=service_id, enabled=True).select_related("snapshot").first()


def page_incidents(page: StatusPage, *, now: dt.datetime, recent: dt.timedelta) -> list[ProviderIncident]:
    """Open incidents, then those resolved within `recent`, newest first."""
    return list(page.incidents.overlapping(now - recent, now).order_by("-started_at", "-id")[:20])
