"""Writes of the traffic simulator: scheduled outages and generated reports, stored through intake."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Collection, Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from catalog.models import IssueType, Service
from reports.detection.detector import Params
from reports.intake.identity import parse_ip
from reports.intake.services import report_create
from reports.models import Channel, DetectorState, Outage, SimulatedOutage, SimulatorClock
from reports.simulation.model import MINUTE, SimOutage, SimReport, cascade, generate
from reports.simulation.selectors import sim_dependents, sim_outage_slugs_pending, sim_outages, sim_services


def simulated_outage_schedule(
    *, service: Service, issue_type_key: str, starts_at: dt.datetime, ends_at: dt.datetime, factor: float
) -> SimulatedOutage:
    """Record an outage for the demo traffic generator to inject."""
    if not IssueType.objects.filter(service=service, key=issue_type_key, active=True).exists():
        raise ValidationError({"outage": [f"{issue_type_key!r} is not an issue type of {service.name}."]})
    if ends_at <= starts_at or not math.isfinite(factor) or factor <= 1:
        raise ValidationError({"outage": ["The outage needs a positive duration and a factor above 1."]})
    return SimulatedOutage.objects.create(
        service=service, issue_type_key=issue_type_key, starts_at=starts_at, ends_at=ends_at, factor=factor
    )


@transaction.atomic
def simulated_cascade_schedule(
    *,
    upstream: Service,
    issue_type_key: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    factor: float,
    rng: random.Random,
    share: float = 1.0,
) -> list[SimulatedOutage]:
    """Schedule an upstream's outage and the lagged outages it causes in its dependents (upstream first)."""
    if not 0 < share <= 1:
        raise ValidationError({"share": ["Give a share of dependents above 0 and at most 1."]})
    first = simulated_outage_schedule(
        service=upstream, issue_type_key=issue_type_key, starts_at=starts_at, ends_at=ends_at, factor=factor
    )
    hit = cascade(
        SimOutage(upstream.slug, issue_type_key, starts_at, ends_at, factor),
        sim_dependents(service=upstream),
        rng,
        share=share,
    )
    services = {s.slug: s for s in Service.objects.filter(slug__in=[o.slug for o in hit])}
    return [first] + [
        SimulatedOutage.objects.create(
            service=services[o.slug], issue_type_key=o.issue_type, starts_at=o.start, ends_at=o.end, factor=o.factor
        )
        for o in hit
    ]


def simulated_reports_write(reports: Iterable[SimReport]) -> int:
    """File simulated reports through `report_create`, the path real reports take."""
    services = {s.slug: s for s in Service.objects.active()}
    written = 0
    for r in reports:
        report_create(
            service=services[r.slug],
            issue_type_key=r.issue_type,
            channel=Channel.API,
            client=parse_ip(r.ip),
            user_agent=r.user_agent,
            comment=r.comment,
            now=r.at,
        )
        written += 1
    return written


def simulated_traffic_generate(
    *, start: dt.datetime, end: dt.datetime, rng: random.Random, slugs: Collection[str] | None = None
) -> int:
    """Generate and store demo traffic for the minutes in [start, end) (of `slugs` only, when given)."""
    services = sim_services(slugs=slugs)
    outages = sim_outages(start=start, end=end)
    return simulated_reports_write(generate(services, start, end, outages, rng))


def simulator_tick(*, now: dt.datetime, rng: random.Random, max_minutes: int = 60, demo: bool = True) -> int:
    """Fill the minutes since the last tick, up to the current one (exclusive).

    With `demo` every service with demo traffic gets its traffic; without it
    (production, OUTAGEHUB_SIMULATOR off) only services with an injected
    outage still running or to come, so `simulate --outage` works there too.
    The clock advances either way.

    The clock row is advanced with a conditional UPDATE inside the same
    transaction as the writes: two workers or two beats cannot fill a minute
    twice, and a crash leaves the minutes for the next tick. After a long
    stop only the last `max_minutes` are filled.
    """
    current = now.replace(second=0, microsecond=0)
    with transaction.atomic():
        clock, _ = SimulatorClock.objects.get_or_create(id=1, defaults={"last_minute": current - MINUTE})
        start = max(clock.last_minute, current - max_minutes * MINUTE)
        if start >= current:
            return 0
        if not SimulatorClock.objects.filter(id=1, last_minute=clock.last_minute).update(last_minute=current):
            return 0  # Another worker claimed these minutes.
        slugs = None if demo else sim_outage_slugs_pending(after=start)
        if slugs is not None and not slugs:
            return 0
        return simulated_traffic_generate(start=start, end=current, rng=rng, slugs=slugs)


def simulator_backfill(*, start: dt.datetime, end: dt.datetime, rng: random.Random) -> int:
    """Generate history for the whole minutes in [start, end) and move the clock past them.

    A partial last minute is left to the next tick, which fills whole minutes
    only: otherwise it would be generated twice, partly in the future.
    """
    end_minute = end.replace(second=0, microsecond=0)
    with transaction.atomic():
        written = simulated_traffic_generate(start=start, end=end_minute, rng=rng)
        clock, created = SimulatorClock.objects.get_or_create(id=1, defaults={"last_minute": end_minute})
        if not created and clock.last_minute < end_minute:
            SimulatorClock.objects.filter(id=1, last_minute__lt=end_minute).update(last_minute=end_minute)
    return written


def simulated_history_ensure(*, service: Service, now: dt.datetime, rng: random.Random, hours: int = 3) -> int:
    """Give a service whose detector is still warming up the history it needs to call an outage.

    The detector calls nothing above "possible problems" before it has seen
    `Params.warmup_minutes` (an hour) of a service, so on a fresh install an
    injected outage could never open one. This backfills `hours` of the
    service's normal traffic and restarts its detector (its next tick starts
    from the oldest report and learns them), as `make run` does on first
    start. A warm detector, or one with outages behind it, is left alone.
    Returns the reports written.
    """
    with transaction.atomic():
        # Waits for a running tick of this service to commit (the tick holds this row).
        state = DetectorState.objects.select_for_update().filter(service=service).first()
        seen = ((state.state or {}).get("detector") or {}).get("seen_minutes", 0.0) if state else 0.0
        if seen >= Params().warmup_minutes or Outage.objects.filter(service=service).exists():
            return 0
        # Up to where the simulator's ticks take over, so that no minute is generated twice.
        clock = SimulatorClock.objects.filter(id=1).first()
        end = clock.last_minute if clock else now.replace(second=0, microsecond=0) - MINUTE
        services = sim_services(slugs={service.slug})
        written = simulated_reports_write(generate(services, end - dt.timedelta(hours=hours), end, [], rng))
        DetectorState.objects.filter(service=service).delete()
    return written
