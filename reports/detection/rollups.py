"""Rollups the detection tick maintains: per-minute counts and the per-country ledger and hours.

Reads of closed minutes come from these (reports/selectors/series.py); a tick
recomputes the last LATE_MINUTES, so late reports are folded in exactly once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from typing import TYPE_CHECKING, TypedDict

from django.db import transaction
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMinute

from catalog.models import Service
from outagehub.timebuckets import HOUR, floor_hour, floor_minute
from reports.models import CountryHour, Report, ReportMinute
from reports.models.outages import CountryMinute

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

logger = logging.getLogger(__name__)

LATE_MINUTES = 5  # rollups are recomputed this far back on every tick
BOOTSTRAP_DAYS = 14  # a new detector learns from this much existing history


# Ledger minutes older than any refresh reaches (a reset detector re-rolls BOOTSTRAP_DAYS) are
# kept no longer; an hour that a refresh ever touches without them is rebuilt from its reports.
LEDGER_DAYS = BOOTSTRAP_DAYS + 1


def rollups_prune(*, now: dt.datetime) -> int:
    """Delete the per-country ledger (CountryMinute) of whole hours older than LEDGER_DAYS; returns rows deleted.

    CountryHour, ReportMinute and ServiceMinute are the record and stay.
    """
    cutoff = floor_hour(now - dt.timedelta(days=LEDGER_DAYS))
    deleted, _ = CountryMinute.objects.filter(minute__lt=cutoff).delete()
    return deleted


def rollups_refresh(*, service: Service, since: dt.datetime, until: dt.datetime) -> None:
    """Recompute the minute rollups in [since, until) and fold what changed into the hour rollups.

    Reads the counted reports of [since, until) only (the first time an hour is
    touched after a deploy, its earlier minutes too). ReportMinute rows of the
    range are rebuilt; CountryMinute rows too, and each CountryHour row moves by
    the difference between its minutes' new and old CountryMinute counts. So it
    is idempotent (a second run finds no difference), a late report in the
    range is folded in exactly once, and CountryHour always holds the reports of
    the rolled-up minutes of its hour, as a from-scratch count of them would.

    Not safe to run twice at once for one service: both runs would add the same
    difference. The detection tick calls it holding the service's DetectorState
    row lock (select_for_update), so one refresh per service runs at a time.
    """
    since, until = floor_minute(since), floor_minute(until)
    if since >= until:
        return
    by_type: dict[tuple[dt.datetime, int], int] = defaultdict(int)
    by_country: dict[tuple[dt.datetime, str], int] = defaultdict(int)
    # One scan of the range's reports serves both rollups.
    for minute, type_id, country, n in _counted(service, since, until).values_list(
        "minute", "issue_type_id", "country", "n"
    ):
        by_type[minute, type_id] += n
        by_country[minute, country] += n
    # No savepoint of its own inside the tick: the tick's transaction is all or nothing anyway.
    with transaction.atomic(savepoint=False):
        ReportMinute.objects.filter(service=service, minute__gte=since, minute__lt=until).delete()
        ReportMinute.objects.bulk_create(
            ReportMinute(service=service, minute=minute, issue_type_id=type_id, count=n)
            for (minute, type_id), n in by_type.items()
        )
        _country_rollups_update(service, since, until, by_country)


class _CountedAnnotations(TypedDict):
    minute: dt.datetime
    n: int


class _CountedRow(TypedDict):
    minute: dt.datetime
    issue_type_id: int
    country: str
    n: int


def _counted(
    service: Service, since: dt.datetime, until: dt.datetime
) -> QuerySet[WithAnnotations[Report, _CountedAnnotations], _CountedRow]:
    """Counted reports in [since, until) grouped by minute, issue type and country, with their number `n`."""
    return (
        Report.objects.filter(service=service, counted=True, created_at__gte=since, created_at__lt=until)
        .annotate(minute=TruncMinute("created_at"))
        .values("minute", "issue_type_id", "country")
        .annotate(n=Count("id"))
        .order_by()
    )


def _country_rollups_update(
    service: Service, since: dt.datetime, until: dt.datetime, fresh: dict[tuple[dt.datetime, str], int]
) -> None:
    """Make the CountryMinute rows of [since, until) `fresh` (by minute and country), moving CountryHour with them."""
    rows = list(
        CountryMinute.objects.filter(service=service, minute__gte=since, minute__lt=until).values_list(
            "pk", "minute", "country", "count"
        )
    )
    old = {(minute, country): n for _, minute, country, n in rows}
    legacy = _hours_without_ledger(service, since, until, {floor_hour(minute) for minute, _ in old})
    if legacy:
        # An hour without ledger rows has had no counted report yet, or was rolled up
        # before the ledger existed (then whole, from raw reports, minutes not yet
        # rolled up included). Rebuilding it from the reports of its rolled-up minutes
        # is exact either way; it reads next to nothing for a quiet hour, and a busy
        # hour is rebuilt once, by the first tick after the deploy.
        CountryHour.objects.filter(service=service, hour__in=legacy).delete()
        if legacy[0] < since:
            for minute, country, n in _counted(service, legacy[0], since).values_list("minute", "country", "n"):
                fresh[minute, country] += n
    changed = {key for key in old.keys() | fresh.keys() if old.get(key, 0) != fresh.get(key, 0)}
    if not changed:
        return
    CountryMinute.objects.bulk_create(
        [
            CountryMinute(service=service, minute=m, country=c, count=fresh[m, c])
            for m, c in changed
            if fresh.get((m, c))
        ],
        update_conflicts=True,
        unique_fields=["service", "minute", "country"],
        update_fields=["count"],
    )
    if gone := [
        pk for pk, minute, country, _ in rows if (minute, country) in changed and not fresh.get((minute, country))
    ]:
        CountryMinute.objects.filter(pk__in=gone).delete()
    delta: dict[tuple[dt.datetime, str], int] = defaultdict(int)
    for minute, country in changed:
        delta[floor_hour(minute), country] += fresh.get((minute, country), 0) - old.get((minute, country), 0)
    _country_hours_add(service, {key: d for key, d in delta.items() if d})


def _hours_without_ledger(
    service: Service, since: dt.datetime, until: dt.datetime, with_rows: set[dt.datetime]
) -> list[dt.datetime]:
    """The hours [since, until) touches that have no CountryMinute row at all, oldest first.

    `with_rows`: hours already known to have rows (in the range), not queried again.
    """
    hours = []
    hour = floor_hour(since)
    while hour < until:
        # A row anywhere in the hour counts, past `until` too: after a detector reset
        # the tick re-rolls old minutes, and later minutes' reports are in CountryHour.
        in_hour = CountryMinute.objects.filter(service=service, minute__gte=hour, minute__lt=hour + HOUR)
        if hour not in with_rows and not in_hour.exists():
            hours.append(hour)
        hour += HOUR
    return hours


def _country_hours_add(service: Service, delta: dict[tuple[dt.datetime, str], int]) -> None:
    """Add `delta` (by hour and country) to the CountryHour rows; a row that reaches 0 goes, as if never counted."""
    if not delta:
        return
    rows = CountryHour.objects.filter(
        service=service, hour__in={hour for hour, _ in delta}, country__in={country for _, country in delta}
    )
    current = {(hour, country): (pk, n) for pk, hour, country, n in rows.values_list("pk", "hour", "country", "count")}
    totals = {key: current[key][1] + d if key in current else d for key, d in delta.items()}
    if any(n < 0 for n in totals.values()):
        # Cannot happen while only the tick writes CountryHour; an old worker still
        # rebuilding whole hours during a deploy could do it. Keep detection going.
        logger.warning("service %s: country rollups below 0, clamped: %s", service.pk, totals)
    CountryHour.objects.bulk_create(
        [CountryHour(service=service, hour=h, country=c, count=n) for (h, c), n in totals.items() if n > 0],
        update_conflicts=True,
        unique_fields=["service", "country", "hour"],
        update_fields=["count"],
    )
    if gone := [current[key][0] for key, n in totals.items() if n <= 0 and key in current]:
        CountryHour.objects.filter(pk__in=gone).delete()
