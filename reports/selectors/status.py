"""Reads: services, report counts, problems, comments and outages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from catalog.models import IssueType, Service, ServiceQuerySet
from reports.detection.detector import Problem, band, problems
from reports.models import CommentState, DetectorState, Level, Outage, OutageStatus, Report, ReportMinute, ServiceMinute
from reports.selectors.series import EXTRA_VARIANCE, bucket_dispersion

MINUTE = dt.timedelta(minutes=1)
RECENT_WINDOW = dt.timedelta(minutes=15)
DAY_WINDOW = dt.timedelta(hours=24)


@dataclass(frozen=True)
class ReportCounts:
    """Counted reports (one per reporter per cooldown) in the trailing windows."""

    last_15_minutes: int
    last_24_hours: int


def service_list(*, q: str = "", status: str = "") -> ServiceQuerySet:
    """Active services matching `q` (name or slug) and `status`, by name, with `current_status`.

    A service the detector has not seen yet is "ok".
    """
    services = Service.objects.active().search(q).annotate(current_status=Coalesce("detector__level", Value(Level.OK)))
    # By name as people read it: "eBay" among the E's, not after "Walmart" (upper case sorts first).
    services = services.order_by(Lower("name"), "pk")
    return services.filter(current_status=status) if status else services


def service_board(*, q: str = "") -> ServiceQuerySet:
    """`service_list` for the home page: outages first, then possible problems, then the rest, each by name.

    Adds `status_since` (None before the detector's first tick) and
    `open_outage_id` (the open outage's id, or None), in the same query.
    """
    rank = Case(
        When(current_status=Level.OUTAGE, then=Value(0)),
        When(current_status=Level.POSSIBLE, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    open_outage = Outage.objects.filter(service=OuterRef("pk"), status=OutageStatus.OPEN).values("pk")[:1]
    return (
        service_list(q=q)
        .annotate(status_since=F("detector__level_since"), open_outage_id=Subquery(open_outage), rank=rank)
        .order_by("rank", Lower("name"), "pk")
    )


def service_comments(*, service: Service) -> QuerySet[Report]:
    """Visible comments of a service's reports, newest first (never who wrote them)."""
    return (
        Report.objects.filter(service=service, comment_state=CommentState.VISIBLE)
        .exclude(comment="")
        .select_related("issue_type")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class DetectorPosition:
    """Where a service's detector stands: its level, since when, and the last closed minute it processed."""

    last_minute: dt.datetime | None
    level: str
    level_since: dt.datetime


def detector_position(*, service: Service) -> DetectorPosition | None:
    """The service's detector position, or None before its first tick (without its learned state, which is large)."""
    row = DetectorState.objects.filter(service=service).values_list("last_minute", "level", "level_since").first()
    return DetectorPosition(*row) if row else None


@dataclass(frozen=True)
class CountWindows:
    """`report_counts`' windows at one instant: the rolled-up minutes it reads, and where raw reports take over."""

    day_start: dt.datetime
    recent_start: dt.datetime
    rolled: dt.datetime  # the last rolled-up minute read (inclusive)
    raw_since: dt.datetime


def count_windows(*, now: dt.datetime, last_minute: dt.datetime | None) -> CountWindows:
    minute = now.replace(second=0, microsecond=0)
    day_start, recent_start = minute - DAY_WINDOW + MINUTE, minute - RECENT_WINDOW + MINUTE
    rolled = min(last_minute, minute - MINUTE) if last_minute else day_start - MINUTE
    return CountWindows(day_start, recent_start, rolled, max(rolled + MINUTE, day_start))


def report_counts(*, service: Service, now: dt.datetime | None = None) -> ReportCounts:
    """Counted reports in the current minute and the 14 (or 1,439) before it.

    Closed minutes come from the rollups the detection tick maintains; only
    the minutes after its last one (normally just the open minute) are
    counted from raw reports.
    """
    now = now or timezone.now()
    last_minute = DetectorState.objects.filter(service=service).values_list("last_minute", flat=True).first()
    windows = count_windows(now=now, last_minute=last_minute)
    return report_counts_add(
        rolled_report_counts(service=service, windows=windows),
        raw_report_counts(service=service, windows=windows, now=now),
    )


def rolled_report_counts(*, service: Service, windows: CountWindows) -> ReportCounts:
    """The part of `report_counts` from the rollups: it changes only when the detector's last minute does."""
    totals = ReportMinute.objects.filter(
        service=service, minute__gte=windows.day_start, minute__lte=windows.rolled
    ).aggregate(day=Sum("count"), recent=Sum("count", filter=Q(minute__gte=windows.recent_start)))
    return ReportCounts(last_15_minutes=totals["recent"] or 0, last_24_hours=totals["day"] or 0)


def raw_report_counts(*, service: Service, windows: CountWindows, now: dt.datetime) -> ReportCounts:
    """The part of `report_counts` from raw reports: the minutes not rolled up yet, up to `now`."""
    totals = Report.objects.filter(
        service=service, counted=True, created_at__gte=windows.raw_since, created_at__lte=now
    ).aggregate(day=Count("id"), recent=Count("id", filter=Q(created_at__gte=windows.recent_start)))
    return ReportCounts(last_15_minutes=totals["recent"], last_24_hours=totals["day"])


def report_counts_add(a: ReportCounts, b: ReportCounts) -> ReportCounts:
    return ReportCounts(a.last_15_minutes + b.last_15_minutes, a.last_24_hours + b.last_24_hours)


def reports_exist() -> bool:
    return Report.objects.exists()


def service_minute_counts(*, service: Service) -> tuple[list[dt.datetime], list[int]]:
    """A service's counted reports per minute, all of its rolled-up history, gaps filled with 0."""
    rows = (
        ReportMinute.objects.filter(service=service)
        .values("minute")
        .annotate(total=Sum("count"))
        .order_by("minute")
        .values_list("minute", "total")
    )
    times: list[dt.datetime] = []
    counts: list[int] = []
    for minute, total in rows:
        while times and minute - times[-1] > dt.timedelta(minutes=1):
            times.append(times[-1] + dt.timedelta(minutes=1))
            counts.append(0)
        times.append(minute)
        counts.append(total)
    return times, counts


@dataclass(frozen=True)
class ServiceStatus:
    """The service's status now, and counted vs expected reports over the last closed minutes.

    `as_of` is the end of the last minute the detector processed (None: not yet); `stale` says
    the status is older than STATUS_STALE_AFTER, so readers must not take it as current.
    """

    status: str
    status_since: dt.datetime | None
    window_minutes: int
    expected: float
    actual: int
    band: tuple[int, int] = (0, 0)
    as_of: dt.datetime | None = None
    stale: bool = True


# The detector settles each minute about a minute after it closes and runs every 30 s, so a
# status older than this means the detection workers (or beat) have stopped or fallen behind.
STATUS_STALE_AFTER = dt.timedelta(minutes=5)


def service_status(*, service: Service, window_minutes: int = 15, now: dt.datetime | None = None) -> ServiceStatus:
    position = detector_position(service=service)
    totals = (
        None if position is None else status_totals(service=service, position=position, window_minutes=window_minutes)
    )
    return status_at(position, totals, window_minutes=window_minutes, now=now or timezone.now())


@dataclass(frozen=True)
class StatusTotals:
    """Counted and expected reports over the status window's minutes, and their extra-Poisson variance."""

    expected: float
    actual: int
    spread: float


def status_totals(*, service: Service, position: DetectorPosition, window_minutes: int) -> StatusTotals | None:
    """The status window's totals from ServiceMinute (None before the detector's first minute)."""
    if position.last_minute is None:
        return None
    since = position.last_minute - dt.timedelta(minutes=window_minutes - 1)
    window = ServiceMinute.objects.filter(service=service, minute__gte=since, minute__lte=position.last_minute)
    # Aliases unlike the field names: EXTRA_VARIANCE reads the fields "expected" and "dispersion".
    totals = window.aggregate(total_expected=Sum("expected"), actual=Sum("count"), spread=Sum(EXTRA_VARIANCE))
    return StatusTotals(totals["total_expected"] or 0.0, totals["actual"] or 0, totals["spread"] or 0.0)


def status_at(
    position: DetectorPosition | None, totals: StatusTotals | None, *, window_minutes: int, now: dt.datetime
) -> ServiceStatus:
    """The ServiceStatus of a detector position and its window's totals, as of `now` (which decides `stale`)."""
    if position is None or position.last_minute is None or totals is None:
        return ServiceStatus(Level.OK, None, window_minutes, 0.0, 0)
    as_of = position.last_minute + dt.timedelta(minutes=1)
    return ServiceStatus(
        status=position.level,
        status_since=position.level_since,
        window_minutes=window_minutes,
        expected=round(totals.expected, 3),
        actual=totals.actual,
        band=band(totals.expected, bucket_dispersion(totals.expected, totals.spread)),
        as_of=as_of,
        stale=now - as_of > STATUS_STALE_AFTER,
    )


def service_problems(*, service: Service, window_minutes: int = 15, history_days: int = 7) -> list[Problem]:
    """Most reported problems over the last closed minutes, with percentages and spike flags (from rollups)."""
    last_minute = DetectorState.objects.filter(service=service).values_list("last_minute", flat=True).first()
    if last_minute is None:
        return []
    labels = dict(IssueType.objects.filter(service=service, active=True).values_list("pk", "key"))
    return problems_at(
        service=service,
        last_minute=last_minute,
        labels=labels,
        window_minutes=window_minutes,
        history_days=history_days,
    )


def problems_at(
    *, service: Service, last_minute: dt.datetime, labels: dict[int, str], window_minutes: int, history_days: int
) -> list[Problem]:
    """`service_problems` for a detector at `last_minute`, over the active issue types `labels` (key by id).

    Reads rollups only, up to `last_minute`: the same detector position gives the same problems.
    """
    end = last_minute
    since = end - dt.timedelta(minutes=window_minutes - 1)
    minutes = ReportMinute.objects.filter(service=service, issue_type_id__in=labels)
    recent = minutes.filter(minute__gte=since, minute__lte=end).values("issue_type_id").annotate(n=Sum("count"))
    history = minutes.filter(minute__gte=end - dt.timedelta(days=history_days), minute__lt=since)
    # The usual mix is the mix of ordinary minutes: with an outage's minutes in it, a payment
    # outage would make payment "usual" and every other type look low, then high once it ends.
    elevated = ServiceMinute.objects.filter(
        service=service, minute__gte=end - dt.timedelta(days=history_days), minute__lt=since
    ).exclude(level=Level.OK)
    usual = history.exclude(minute__in=elevated.values("minute")).values("issue_type_id").annotate(n=Sum("count"))
    expected = ServiceMinute.objects.filter(service=service, minute__gte=since, minute__lte=end).aggregate(
        e=Sum("expected")
    )["e"]
    counts = {labels[r["issue_type_id"]]: r["n"] for r in recent}
    for key in labels.values():
        counts.setdefault(key, 0)
    shares = {labels[r["issue_type_id"]]: float(r["n"]) for r in usual}
    return problems(counts, shares, expected or 0.0)
