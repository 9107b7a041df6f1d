"""Reads for probes."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from .models import Probe, ProbeEvent, ProbeResult


def probe_list(*, service_slug: str | None = None) -> QuerySet[Probe]:
    """Enabled probes of active services, optionally of one service."""
    probes = Probe.objects.filter(enabled=True, service__active=True).select_related("service")
    if service_slug:
        probes = probes.filter(service__slug=service_slug)
    return probes.order_by("service__name", "name")


def probe_get(*, probe_id: int) -> Probe | None:
    return probe_list().filter(pk=probe_id).first()


def probe_results(
    *, probe: Probe, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> QuerySet[ProbeResult]:
    """Raw results, newest first (kept PROBES_RESULT_RETENTION_DAYS days)."""
    results = ProbeResult.objects.filter(probe=probe)
    if since:
        results = results.filter(checked_at__gte=since)
    if until:
        results = results.filter(checked_at__lt=until)
    return results.order_by("-checked_at", "-id")


def probe_events(*, probe: Probe) -> QuerySet[ProbeEvent]:
    """State changes, newest first: per region (`region` set) and by quorum (`region` empty)."""
    return ProbeEvent.objects.filter(probe=probe).order_by("-at", "-id")
