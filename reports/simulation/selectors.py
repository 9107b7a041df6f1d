"""Reads the simulator needs: simulated services and their scheduled outages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from catalog.models import Service
from catalog.selectors import active_issue_types_prefetch
from reports.models import SimulatedOutage
from reports.simulation.model import SimOutage, SimService


def sim_services(*, slugs: Collection[str] | None = None) -> list[SimService]:
    """Active services with demo traffic, as the simulator sees them (only `slugs`, when given)."""
    services = Service.objects.active().filter(demo_traffic__gt=0).prefetch_related(active_issue_types_prefetch())
    if slugs is not None:
        services = services.filter(slug__in=slugs)
    return [
        SimService(s.slug, s.demo_traffic, tuple(it.key for it in s.active_issue_types))
        for s in services
        if s.demo_traffic is not None  # always, given the filter; narrows the nullable field
    ]


def sim_dependents(*, service: Service) -> list[SimService]:
    """The simulated services (with demo traffic) that declare `service` as an upstream."""
    slugs = set(service.dependents.active().values_list("slug", flat=True))
    return [s for s in sim_services() if s.slug in slugs]


def sim_outages(*, start: dt.datetime, end: dt.datetime) -> list[SimOutage]:
    """Injected outages overlapping [start, end)."""
    rows = SimulatedOutage.objects.filter(starts_at__lt=end, ends_at__gt=start).select_related("service")
    return [SimOutage(o.service.slug, o.issue_type_key, o.starts_at, o.ends_at, o.factor) for o in rows]


def sim_outage_slugs_pending(*, after: dt.datetime) -> set[str]:
    """Services with an injected outage that has not ended by `after` (running or still to come)."""
    return set(SimulatedOutage.objects.filter(ends_at__gt=after).values_list("service__slug", flat=True))
