"""The service page's numbers in a few queries: the detector's position read once, rollup reads memoized.

Each number is the one its own selector gives at the same instant (report_series, service_problems,
service_status, report_counts, and report_breakdown's countries); only the reading differs. The
rollups up to the detector's last minute change only when a tick advances that minute (they commit
together, reports/detection/tick.py), so everything read from them is memoized under a key that
holds the minute, the service, its issue types and the windows: the next minute is a new key, so
the page never shows a count older than the status beside it. The minutes after it, not rolled up
yet, are read from raw reports on every request, as the selectors do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from catalog.models import Service
from outagehub.memo import memo_key, memoized
from outagehub.timebuckets import HOUR, MINUTE, bucket_floor, bucket_starts, rolled_split
from reports.detection.detector import Problem
from reports.selectors.series import (
    SeriesBaseline,
    SeriesBucket,
    Share,
    country_shares,
    country_split,
    counts_added,
    raw_country_totals,
    raw_counts,
    rolled_country_totals,
    rolled_counts,
    series_baseline,
    series_buckets,
)
from reports.selectors.status import (
    ReportCounts,
    ServiceStatus,
    StatusTotals,
    count_windows,
    detector_position,
    problems_at,
    raw_report_counts,
    report_counts_add,
    rolled_report_counts,
    status_at,
    status_totals,
)

# A key serves until the detector's next minute (or the page's windows move on), about a minute;
# this only bounds how long an entry no request asks for any more stays in the cache.
ROLLUPS_MEMO_SECONDS = 120
PROBLEMS_HISTORY_DAYS = 7  # service_problems' default: the usual mix of issue types over a week
MEMO_VERSION = 1  # bump when what is memoized changes shape


@dataclass(frozen=True)
class ServiceOverview:
    series: list[SeriesBucket]  # report_series over the chart's window
    problems: list[Problem]  # service_problems
    status: ServiceStatus  # service_status
    counts: ReportCounts  # report_counts
    countries: list[Share]  # report_breakdown(...).countries over the regions' window


@dataclass(frozen=True)
class _FromRollups:
    """The part of an overview read from rollups up to the detector's last minute."""

    series: dict[dt.datetime, int]
    baseline: dict[dt.datetime, SeriesBaseline]
    problems: list[Problem]
    status: StatusTotals | None
    counts: ReportCounts
    countries: dict[str, int]


def service_overview(
    *,
    service: Service,
    labels: Mapping[int, str],
    now: dt.datetime,
    chart_since: dt.datetime,
    chart_until: dt.datetime,
    chart_size: dt.timedelta,
    regions_since: dt.datetime,
    regions_until: dt.datetime,
    problems_minutes: int = 15,
    status_minutes: int = 15,
) -> ServiceOverview:
    """The page's series, problems, status, counts and countries, as their selectors give them at `now`.

    `labels`: the service's active issue types, key by id. The chart's window [chart_since,
    chart_until) is aligned to `chart_size`; the regions' window covers the whole hours
    overlapping [regions_since, regions_until). The problems and the status are over the last
    `problems_minutes` and `status_minutes` minutes the detector processed.
    """
    position = detector_position(service=service)
    last_minute = position.last_minute if position else None
    rolled = last_minute + MINUTE if last_minute else None
    series_split = rolled_split(chart_since, chart_until, rolled)
    regions_from = bucket_floor(regions_since, HOUR)
    regions_split = country_split(regions_from, regions_until, rolled)
    windows = count_windows(now=now, last_minute=last_minute)

    def from_rollups() -> _FromRollups:
        return _FromRollups(
            series=dict(rolled_counts(service=service, since=chart_since, until=series_split, size=chart_size)),
            baseline=series_baseline(service=service, since=chart_since, until=series_split, size=chart_size),
            problems=[]
            if last_minute is None
            else problems_at(
                service=service,
                last_minute=last_minute,
                labels=dict(labels),
                window_minutes=problems_minutes,
                history_days=PROBLEMS_HISTORY_DAYS,
            ),
            status=None
            if position is None
            else status_totals(service=service, position=position, window_minutes=status_minutes),
            counts=rolled_report_counts(service=service, windows=windows),
            countries=dict(rolled_country_totals(service=service, since=regions_from, until=regions_split)),
        )

    key = memo_key(
        "service-overview",
        MEMO_VERSION,
        service.pk,
        last_minute,
        sorted(labels.items()),
        (chart_since, series_split, chart_size),
        (regions_from, regions_split),
        windows,
        (problems_minutes, PROBLEMS_HISTORY_DAYS, status_minutes),
    )
    part = memoized(key, from_rollups, timeout=ROLLUPS_MEMO_SECONDS)
    live = raw_counts(service=service, since=series_split, until=chart_until, size=chart_size)
    series = series_buckets(
        bucket_starts(chart_since, chart_until, chart_size), chart_size, counts_added(part.series, live), part.baseline
    )
    raw_countries = raw_country_totals(service=service, since=regions_split, until=regions_until)
    return ServiceOverview(
        series=series,
        problems=part.problems,
        status=status_at(position, part.status, window_minutes=status_minutes, now=now),
        counts=report_counts_add(part.counts, raw_report_counts(service=service, windows=windows, now=now)),
        countries=country_shares(counts_added(part.countries, raw_countries)),
    )
