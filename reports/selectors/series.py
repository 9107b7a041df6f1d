"""Reads for time series: counted reports per bucket with the baseline, breakdowns, timelines.

One rule for every read here, as in `reports.selectors.status.report_counts`: closed minutes
come from the rollups the detection tick maintains (ReportMinute,
CountryHour, ServiceMinute; ProbeRollup for probes), and raw reports are
counted only for the minutes after `DetectorState.last_minute`, which no
rollup holds yet. Buckets are aligned to multiples of their size since the
Unix epoch in UTC (so a day starts at 00:00 UTC); every series is continuous,
a bucket without rows counting 0.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    Func,
    IntegerField,
    Max,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Substr, TruncDay, TruncHour, TruncMinute

from catalog.models import IssueType, Service
from outagehub.memo import memo_key, memoized
from outagehub.timebuckets import DAY, EPOCH, HOUR, MINUTE, bucket_floor, bucket_starts, rolled_split
from probes.models import ProbeEvent
from reports.detection.detector import bands
from reports.intake.geo import country_name
from reports.models import CountryHour, DetectorState, Level, OutageEvent, Report, ReportMinute, ServiceMinute

ZERO = dt.timedelta(0)
TIMELINE_MAX_ITEMS = 1000
UNKNOWN_COUNTRY = "Unknown"

_LEVEL_RANK = Case(
    When(level=Level.OUTAGE, then=Value(2)),
    When(level=Level.POSSIBLE, then=Value(1)),
    default=Value(0),
    output_field=IntegerField(),
)
_LEVEL_OF_RANK = (Level.OK, Level.POSSIBLE, Level.OUTAGE)


def rolled_until(*, service: Service) -> dt.datetime | None:
    """The end of the last minute the detection tick rolled up (exclusive), or None if it never ran."""
    last = DetectorState.objects.filter(service=service).values_list("last_minute", flat=True).first()
    return last + MINUTE if last else None


def service_issue_types(*, service: Service) -> dict[str, IssueType]:
    """All of a service's issue types by key, inactive ones too (their history stays readable)."""
    return {t.key: t for t in IssueType.objects.filter(service=service)}


class _DateBin(Func):
    """PostgreSQL's date_bin(stride, source, origin) (PostgreSQL 14+)."""

    function = "date_bin"


def _bucket_key(rows: QuerySet[Any], field: str, size: dt.timedelta) -> Any:
    """SQL grouping rows by the largest unit (day, hour, minute) `size` is a multiple of; Python folds the rest.

    Django's Trunc functions on SQLite call back into Python for every row
    (a second for a fortnight of minute rollups); there a prefix of the stored
    UTC text ("YYYY-MM-DD HH:MM:SS") groups the same way natively.
    """
    unit = DAY if size % DAY == ZERO else HOUR if size % HOUR == ZERO else MINUTE
    if connections[rows.db].vendor == "postgresql" and size % MINUTE == ZERO:
        # The bucket itself, epoch-aligned as bucket_floor is: 96 rows for a day of 15-minute
        # buckets instead of 1,440 minutes to fold here (most of the time of a series read).
        return _DateBin(Value(size), field, Value(EPOCH), output_field=DateTimeField())
    if connections[rows.db].vendor == "sqlite":
        return Substr(Cast(field, CharField()), 1, {DAY: 10, HOUR: 13, MINUTE: 16}[unit])
    return {DAY: TruncDay, HOUR: TruncHour, MINUTE: TruncMinute}[unit](field, tzinfo=dt.UTC)


def _as_time(key: dt.datetime | str) -> dt.datetime:
    """A `_bucket_key` value as an aware datetime (SQLite gives "YYYY-MM-DD[ HH[:MM]]", UTC)."""
    return dt.datetime.fromisoformat(key).replace(tzinfo=dt.UTC) if isinstance(key, str) else key


def _fold(rows: Iterable[tuple[dt.datetime | str, int]], size: dt.timedelta, into: dict[dt.datetime, int]) -> None:
    for at, n in rows:
        into[bucket_floor(_as_time(at), size)] += n or 0


def _counted_reports(service: Service, since: dt.datetime, until: dt.datetime) -> QuerySet[Report]:
    return Report.objects.filter(service=service, counted=True, created_at__gte=since, created_at__lt=until)


# --- the report series -------------------------------------------------------------

K = TypeVar("K")

SERIES_MEMO_SECONDS = 120  # an unused memo goes after this; a new rolled-up minute is a new key anyway
SERIES_MEMO_VERSION = 1  # bump when what is memoized changes shape


@dataclass(frozen=True)
class SeriesBucket:
    """One bucket of a service's report series.

    `count`: counted reports starting in [start, start + size). `expected`: the
    detector's expected counted reports over the same minutes, and `band` its
    1st-99th percentile range (see `bands`); both None unless the detector has
    processed every minute of the bucket. `level`: the worst level among the
    minutes it has processed (None if none).
    """

    start: dt.datetime
    count: int
    expected: float | None = None
    band: tuple[int, int] | None = None
    level: str | None = None


def report_series(
    *,
    service: Service,
    since: dt.datetime,
    until: dt.datetime,
    size: dt.timedelta,
    issue_type: IssueType | None = None,
    country: str | None = None,
) -> list[SeriesBucket]:
    """Counted reports per bucket of `size` in [since, until), both aligned to `size`, oldest first.

    With `issue_type` or `country` only counts are given (there is no baseline
    per issue type or country). `country` ("" for unknown) needs `size` a
    multiple of an hour: its counts come from the hourly rollups.
    """
    rolled = rolled_until(service=service)
    starts = bucket_starts(since, until, size)
    if country is not None:
        counts = _country_counts(service, since, until, size, country, rolled)
        return [SeriesBucket(start, counts.get(start, 0)) for start in starts]
    split = rolled_split(since, until, rolled)

    def from_rollups() -> tuple[dict[dt.datetime, int], dict[dt.datetime, SeriesBaseline] | None]:
        counts = dict(rolled_counts(service=service, since=since, until=split, size=size, issue_type=issue_type))
        if issue_type is not None:
            return counts, None
        return counts, series_baseline(service=service, since=since, until=split, size=size)

    # What the rollups say changes only when the detector rolls up another minute: memoized under
    # that minute (as the service page's, selectors/overview.py), the minutes after it read live.
    issue = issue_type.pk if issue_type is not None else None
    key = memo_key("series", SERIES_MEMO_VERSION, service.pk, rolled, since, split, size, issue)
    rolled_part, baseline = memoized(key, from_rollups, timeout=SERIES_MEMO_SECONDS)
    live = raw_counts(service=service, since=split, until=until, size=size, issue_type=issue_type)
    counts = counts_added(rolled_part, live)
    if baseline is None:
        return [SeriesBucket(start, counts.get(start, 0)) for start in starts]
    return series_buckets(starts, size, counts, baseline)


def series_buckets(
    starts: list[dt.datetime],
    size: dt.timedelta,
    counts: Mapping[dt.datetime, int],
    baseline: Mapping[dt.datetime, SeriesBaseline],
) -> list[SeriesBucket]:
    """The buckets starting at `starts`, with their counts and, where complete, the baseline and its band."""
    complete = [(start, b) for start, b in baseline.items() if b.minutes * MINUTE == size]
    ranges = bands([b.expected for _, b in complete], [bucket_dispersion(b.expected, b.spread) for _, b in complete])
    bucket_bands = {start: band for (start, _), band in zip(complete, ranges, strict=True)}
    return [_series_bucket(start, counts.get(start, 0), baseline.get(start), bucket_bands) for start in starts]


def _series_bucket(
    start: dt.datetime,
    count: int,
    b: SeriesBaseline | None,
    bucket_bands: dict[dt.datetime, tuple[int, int]],
) -> SeriesBucket:
    if b is None:
        return SeriesBucket(start, count)
    band = bucket_bands.get(start)
    expected = round(b.expected, 3) if band is not None else None
    return SeriesBucket(start, count, expected, band, _LEVEL_OF_RANK[b.rank])


def counts_added(a: Mapping[K, int], b: Mapping[K, int]) -> dict[K, int]:
    """Two sets of counts by key, added: the rolled-up part and the live part of one window.

    Counter.update, not `+`: a key counted 0 stays (`+` drops it).
    """
    total = Counter(a)
    total.update(b)
    return total


def rolled_counts(
    *, service: Service, since: dt.datetime, until: dt.datetime, size: dt.timedelta, issue_type: IssueType | None = None
) -> dict[dt.datetime, int]:
    """Counted reports per bucket of `size` from the minute rollups of [since, until) (rolled-up minutes only)."""
    minutes = ReportMinute.objects.filter(service=service, minute__gte=since, minute__lt=until)
    if issue_type is not None:
        minutes = minutes.filter(issue_type=issue_type)
    counts: dict[dt.datetime, int] = defaultdict(int)
    _fold(_grouped(minutes, "minute", size, Sum("count")), size, counts)
    return counts


def raw_counts(
    *, service: Service, since: dt.datetime, until: dt.datetime, size: dt.timedelta, issue_type: IssueType | None = None
) -> dict[dt.datetime, int]:
    """Counted reports per bucket of `size` from the raw reports of [since, until) (minutes not rolled up yet)."""
    raw = _counted_reports(service, since, until)
    if issue_type is not None:
        raw = raw.filter(issue_type=issue_type)
    counts: dict[dt.datetime, int] = defaultdict(int)
    _fold(_grouped(raw, "created_at", size, Count("id")), size, counts)
    return counts


def _grouped(
    rows: QuerySet[Any], field: str, size: dt.timedelta, total: Any
) -> Iterable[tuple[dt.datetime | str, int]]:
    """(`_bucket_key`, total) per SQL group: the database sums, Python only folds the groups into buckets."""
    key = _bucket_key(rows, field, size)
    return rows.annotate(t=key).values("t").annotate(n=total).order_by().values_list("t", "n")


def _country_counts(
    service: Service,
    since: dt.datetime,
    until: dt.datetime,
    size: dt.timedelta,
    country: str,
    rolled: dt.datetime | None,
) -> dict[dt.datetime, int]:
    split = country_split(since, until, rolled)
    hours = CountryHour.objects.filter(service=service, country=country, hour__gte=since, hour__lt=split)
    raw = _counted_reports(service, split, until).filter(country=country)
    counts: dict[dt.datetime, int] = defaultdict(int)
    _fold(_grouped(hours, "hour", size, Sum("count")), size, counts)
    _fold(_grouped(raw, "created_at", size, Count("id")), size, counts)
    return counts


# A minute's variance beyond Poisson under the detector's negative binomial: dispersion x mean^2.
EXTRA_VARIANCE = F("dispersion") * F("expected") * F("expected")


def bucket_dispersion(expected: float, spread: float) -> float:
    """The dispersion of a sum of minutes that vary independently, each NB(mean, dispersion).

    Matching the variance: sum(mean) + sum(dispersion x mean^2) = E + k x E^2, so
    k = spread / E^2. (Taking the largest minute's dispersion for the whole sum, as
    before, made a 15-minute band about fifteen times too wide in its extra variance.)
    """
    return spread / (expected * expected) if expected > 0 else 0.0


@dataclass(frozen=True)
class SeriesBaseline:
    """What the detector saw over one bucket's minutes (as far as it has processed them)."""

    expected: float = 0.0  # summed over the minutes
    spread: float = 0.0  # the summed extra-Poisson variance of the minutes (dispersion x expected^2)
    rank: int = 0  # the worst level, as an index of _LEVEL_OF_RANK
    minutes: int = 0  # how many minutes it processed


def series_baseline(
    *, service: Service, since: dt.datetime, until: dt.datetime, size: dt.timedelta
) -> dict[dt.datetime, SeriesBaseline]:
    """The detector's minutes of [since, until) (processed minutes only) summed per bucket of `size`."""
    processed = ServiceMinute.objects.filter(service=service, minute__gte=since, minute__lt=until)
    rows = (
        processed.annotate(t=_bucket_key(processed, "minute", size))
        .values("t")
        .annotate(e=Sum("expected"), q=Sum(EXTRA_VARIANCE), r=Max(_LEVEL_RANK), n=Count("id"))
        .order_by()
        .values_list("t", "e", "q", "r", "n")
    )
    buckets: dict[dt.datetime, SeriesBaseline] = {}
    for t, expected, spread, rank, minutes in rows:
        start = bucket_floor(_as_time(t), size)
        b = buckets.get(start, SeriesBaseline())
        buckets[start] = SeriesBaseline(
            b.expected + expected, b.spread + (spread or 0.0), max(b.rank, rank), b.minutes + minutes
        )
    return buckets


# --- breakdown ---------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """Counted reports of one issue type or country, and their percentage of the group's total."""

    key: str  # issue type key, or ISO 3166-1 alpha-2 country code ("" when unknown)
    label: str  # issue type label, or country name
    count: int
    percent: float


@dataclass(frozen=True)
class Breakdown:
    total: int  # counted reports in the window (the sum of the issue types)
    issue_types: list[Share]
    countries: list[Share]


def report_breakdown(*, service: Service, since: dt.datetime, until: dt.datetime) -> Breakdown:
    """Counted reports in [since, until) (whole minutes) by issue type, and by country, each by count.

    Countries come from the hourly rollups, so they cover the whole UTC hours
    overlapping the window (up to an hour more at either end than the issue
    types); their percentages are of their own total.
    """
    rolled = rolled_until(service=service)
    by_type = _type_counts(service, since, until, rolled)
    types = [t for t in IssueType.objects.filter(service=service) if t.active or by_type.get(t.pk)]
    total = sum(by_type.values())
    issue_types = [Share(t.key, t.label, by_type.get(t.pk, 0), _percent(by_type.get(t.pk, 0), total)) for t in types]
    issue_types.sort(key=lambda s: -s.count)  # stable: ties keep the catalog's order
    by_country = _country_totals(service, bucket_floor(since, HOUR), until, rolled)
    return Breakdown(total, issue_types, country_shares(by_country))


def country_shares(by_country: Mapping[str, int]) -> list[Share]:
    """Counted reports by country code as shares of their total, most first (ties by code)."""
    country_total = sum(by_country.values())
    return [
        Share(code, country_name(code) or UNKNOWN_COUNTRY, n, _percent(n, country_total))
        for code, n in sorted(by_country.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _percent(count: int, total: int) -> float:
    return round(100 * count / total, 1) if total else 0.0


def _type_counts(
    service: Service, since: dt.datetime, until: dt.datetime, rolled: dt.datetime | None
) -> dict[int, int]:
    split = rolled_split(since, until, rolled)
    counts: dict[int, int] = defaultdict(int)
    minutes = ReportMinute.objects.filter(service=service, minute__gte=since, minute__lt=split)
    for type_id, n in (
        minutes.values("issue_type_id").annotate(n=Sum("count")).order_by().values_list("issue_type_id", "n")
    ):
        counts[type_id] += n
    raw = _counted_reports(service, split, until)
    for type_id, n in raw.values("issue_type_id").annotate(n=Count("id")).order_by().values_list("issue_type_id", "n"):
        counts[type_id] += n
    return counts


def _country_totals(
    service: Service, since: dt.datetime, until: dt.datetime, rolled: dt.datetime | None
) -> dict[str, int]:
    split = country_split(since, until, rolled)
    counts = rolled_country_totals(service=service, since=since, until=split)
    for code, n in raw_country_totals(service=service, since=split, until=until).items():
        counts[code] += n
    return counts


def country_split(since: dt.datetime, until: dt.datetime, rolled: dt.datetime | None) -> dt.datetime:
    """Where [since, until) stops being read from CountryHour, and raw reports take over.

    An hour is in CountryHour for good only once all its minutes are rolled up, so the hour
    holding the rollups' end (and anything later) is counted raw.
    """
    return rolled_split(since, until, bucket_floor(rolled, HOUR) if rolled else None)


def rolled_country_totals(*, service: Service, since: dt.datetime, until: dt.datetime) -> dict[str, int]:
    """Counted reports by country from the hourly rollups of [since, until) (whole rolled-up hours)."""
    counts: dict[str, int] = defaultdict(int)
    hours = CountryHour.objects.filter(service=service, hour__gte=since, hour__lt=until)
    for code, n in hours.values("country").annotate(n=Sum("count")).order_by().values_list("country", "n"):
        counts[code] += n
    return counts


def raw_country_totals(*, service: Service, since: dt.datetime, until: dt.datetime) -> dict[str, int]:
    """Counted reports by country from the raw reports of [since, until)."""
    counts: dict[str, int] = defaultdict(int)
    raw = _counted_reports(service, since, until)
    for code, n in raw.values("country").annotate(n=Count("id")).order_by().values_list("country", "n"):
        counts[code] += n
    return counts


# --- timeline ----------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineItem:
    """An outage event or a probe's state change (by quorum of its regions)."""

    at: dt.datetime
    type: str  # "outage_event" or "probe_event"
    kind: str  # the outage event's kind, or "probe_<new state>"
    data: dict[str, Any]
    outage: int | None = None
    probe: dict[str, Any] | None = None  # {"id", "name"}


def service_timeline(
    *, service: Service, since: dt.datetime, until: dt.datetime, limit: int = TIMELINE_MAX_ITEMS
) -> tuple[list[TimelineItem], bool]:
    """Events of the service's outages and its enabled probes' state changes in [since, until), oldest first.

    Returns the first `limit` items and whether there were more. At one instant
    a probe's change comes before the outage events it caused.
    """
    outage_events = OutageEvent.objects.filter(outage__service=service, at__gte=since, at__lt=until).order_by(
        "at", "id"
    )[: limit + 1]
    probe_events = (
        ProbeEvent.objects.filter(probe__service=service, probe__enabled=True, region="", at__gte=since, at__lt=until)
        .select_related("probe")
        .order_by("at", "id")[: limit + 1]
    )
    keyed = [((e.at, 1, e.pk), _outage_item(e)) for e in outage_events]
    keyed += [((e.at, 0, e.pk), _probe_item(e)) for e in probe_events]
    keyed.sort(key=lambda pair: pair[0])
    return [item for _, item in keyed[:limit]], len(keyed) > limit


def _outage_item(event: OutageEvent) -> TimelineItem:
    return TimelineItem(at=event.at, type="outage_event", kind=event.kind, data=event.data, outage=event.outage_id)


def _probe_item(event: ProbeEvent) -> TimelineItem:
    return TimelineItem(
        at=event.at,
        type="probe_event",
        kind=f"probe_{event.to_state}",
        data={"from_state": event.from_state, "to_state": event.to_state, "evidence": event.evidence},
        probe={"id": event.probe_id, "name": event.probe.name},
    )


# --- probe uptime ------------------------------------------------------------------


# --- sparklines --------------------------------------------------------------------


def hourly_counts(*, service_ids: Iterable[int], since: dt.datetime, until: dt.datetime) -> dict[int, list[int]]:
    """Counted reports per hour in [since, until) (whole hours) for each service, oldest first, in one query.

    From the minute rollups only: the minutes the detector has not rolled up yet (normally the
    last one or two) are left out, which a sparkline can afford and a page of many services saves.
    """
    ids = list(service_ids)
    hours = (until - since) // HOUR
    counts = {pk: [0] * hours for pk in ids}
    if not ids:
        return counts
    rows = ReportMinute.objects.filter(service_id__in=ids, minute__gte=since, minute__lt=until)
    grouped = (
        rows.annotate(t=_bucket_key(rows, "minute", HOUR))
        .values("service_id", "t")
        .annotate(n=Sum("count"))
        .order_by()
        .values_list("service_id", "t", "n")
    )
    for pk, at, n in grouped:
        counts[pk][(bucket_floor(_as_time(at), HOUR) - since) // HOUR] += n or 0
    return counts
