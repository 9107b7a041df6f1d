"""Rollups the detection tick maintains: per-minute counts and the per-country ledger and hours.

Reads of closed minutes come from these (reports/selectors/series.py); a tick
recomputes the last LATE_MINUTES, so late reports are folded in exactly once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict

from django.db import transaction
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncHour, TruncMinute

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


# Counted reports of one service by (minute, issue type id), and by (minute, country).
RollupCounts = dict[tuple[dt.datetime, int], int]
CountryCounts = dict[tuple[dt.datetime, str], int]


def rollups_refresh(*, service: Service, since: dt.datetime, until: dt.datetime) -> None:
    """Recompute the minute rollups in [since, until) and fold what changed into the hour rollups.

    Reads the counted reports of [since, until) only (the first time an hour is
    touched after a deploy, its earlier minutes too). ReportMinute rows of the
    range are made those counts; CountryMinute rows too, and each CountryHour row moves by
    the difference between its minutes' new and old CountryMinute counts. So it
    is idempotent (a second run finds no difference), a late report in the
    range is folded in exactly once, and CountryHour always holds the reports of
    the rolled-up minutes of its hour, as a from-scratch count of them would.

    Not safe to run twice at once for one service: both runs would add the same
    difference. The detection tick calls it holding the service's DetectorState
    row lock (select_for_update), so one refresh per service runs at a time.
    """
    rollups_refresh_many(service_ids=[service.pk], since=since, until=until)


def rollups_refresh_many(
    *, service_ids: Sequence[int], since: dt.datetime, until: dt.datetime
) -> dict[int, RollupCounts]:
    """rollups_refresh for many services over one range, in a fixed number of queries; returns their fresh counts.

    The counts are each service's counted reports of [since, until) by (minute, issue type id),
    what its ReportMinute rows of the range now hold. Only rows that changed are written: of the
    LATE_MINUTES a tick re-reads, usually only the newest minute has.
    """
    since, until = floor_minute(since), floor_minute(until)
    by_type: dict[int, RollupCounts] = {service_id: defaultdict(int) for service_id in service_ids}
    if since >= until or not service_ids:
        return by_type
    by_country: dict[int, CountryCounts] = {service_id: defaultdict(int) for service_id in service_ids}
    # One scan of the range's reports serves both rollups.
    for service_id, minute, type_id, country, n in _counted(service_ids, since, until).values_list(
        "service_id", "minute", "issue_type_id", "country", "n"
    ):
        by_type[service_id][minute, type_id] += n
        by_country[service_id][minute, country] += n
    # No savepoint of its own inside the tick: the tick's transaction is all or nothing anyway.
    with transaction.atomic(savepoint=False):
        _report_minutes_update(service_ids, since, until, by_type)
        _country_rollups_update(service_ids, since, until, by_country)
    return by_type


class _CountedAnnotations(TypedDict):
    minute: dt.datetime
    n: int


class _CountedRow(TypedDict):
    service_id: int
    minute: dt.datetime
    issue_type_id: int
    country: str
    n: int


def _counted(
    service_ids: Sequence[int], since: dt.datetime, until: dt.datetime
) -> QuerySet[WithAnnotations[Report, _CountedAnnotations], _CountedRow]:
    """Counted reports in [since, until) grouped by service, minute, issue type and country, with their number `n`."""
    return (
        Report.objects.filter(service_id__in=service_ids, counted=True, created_at__gte=since, created_at__lt=until)
        .annotate(minute=TruncMinute("created_at"))
        .values("service_id", "minute", "issue_type_id", "country")
        .annotate(n=Count("id"))
        .order_by()
    )


def _report_minutes_update(
    service_ids: Sequence[int], since: dt.datetime, until: dt.datetime, fresh: dict[int, RollupCounts]
) -> None:
    """Make the ReportMinute rows of [since, until) `fresh` (by service, minute and type), writing changes only."""
    rows = ReportMinute.objects.filter(service_id__in=service_ids, minute__gte=since, minute__lt=until)
    old: dict[tuple[int, dt.datetime, int], int] = {}
    gone = []
    for pk, service_id, minute, type_id, n in rows.values_list("pk", "service_id", "minute", "issue_type_id", "count"):
        if (minute, type_id) in fresh[service_id]:
            old[service_id, minute, type_id] = n
        else:
            gone.append(pk)
    ReportMinute.objects.bulk_create(
        [
            ReportMinute(service_id=service_id, minute=minute, issue_type_id=type_id, count=n)
            for service_id, counts in fresh.items()
            for (minute, type_id), n in counts.items()
            if old.get((service_id, minute, type_id)) != n
        ],
        update_conflicts=True,
        unique_fields=["service", "issue_type", "minute"],
        update_fields=["count"],
        batch_size=5000,
    )
    if gone:
        ReportMinute.objects.filter(pk__in=gone).delete()


def _country_rollups_update(
    service_ids: Sequence[int], since: dt.datetime, until: dt.datetime, fresh: dict[int, CountryCounts]
) -> None:
    """Make the CountryMinute rows of [since, until) `fresh` (by service, minute, country), moving CountryHour too."""
    rows = list(
        CountryMinute.objects.filter(service_id__in=service_ids, minute__gte=since, minute__lt=until).values_list(
            "pk", "service_id", "minute", "country", "count"
        )
    )
    old: dict[int, CountryCounts] = {service_id: {} for service_id in service_ids}
    for _, service_id, minute, country, n in rows:
        old[service_id][minute, country] = n
    with_rows = {service_id: {floor_hour(minute) for minute, _ in old[service_id]} for service_id in service_ids}
    legacy = _hours_without_ledger(service_ids, since, until, with_rows)
    if legacy:
        # An hour without ledger rows has had no counted report yet, or was rolled up
        # before the ledger existed (then whole, from raw reports, minutes not yet
        # rolled up included). Rebuilding it from the reports of its rolled-up minutes
        # is exact either way; it reads next to nothing for a quiet hour, and a busy
        # hour is rebuilt once, by the first tick after the deploy.
        _legacy_hours_reset(legacy, since, fresh)
    changed = {
        service_id: {
            key
            for key in old[service_id].keys() | fresh[service_id].keys()
            if old[service_id].get(key, 0) != fresh[service_id].get(key, 0)
        }
        for service_id in service_ids
    }
    if not any(changed.values()):
        return
    CountryMinute.objects.bulk_create(
        [
            CountryMinute(service_id=service_id, minute=m, country=c, count=fresh[service_id][m, c])
            for service_id, keys in changed.items()
            for m, c in keys
            if fresh[service_id].get((m, c))
        ],
        update_conflicts=True,
        unique_fields=["service", "minute", "country"],
        update_fields=["count"],
        batch_size=5000,
    )
    if gone := [
        pk
        for pk, service_id, minute, country, _ in rows
        if (minute, country) in changed[service_id] and not fresh[service_id].get((minute, country))
    ]:
        CountryMinute.objects.filter(pk__in=gone).delete()
    deltas: dict[int, dict[tuple[dt.datetime, str], int]] = {}
    for service_id, keys in changed.items():
        delta: dict[tuple[dt.datetime, str], int] = defaultdict(int)
        for minute, country in keys:
            delta[floor_hour(minute), country] += fresh[service_id].get((minute, country), 0) - old[service_id].get(
                (minute, country), 0
            )
        deltas[service_id] = {key: d for key, d in delta.items() if d}
    _country_hours_add(deltas)


def _hours_without_ledger(
    service_ids: Sequence[int], since: dt.datetime, until: dt.datetime, with_rows: dict[int, set[dt.datetime]]
) -> dict[int, list[dt.datetime]]:
    """By service, the hours [since, until) touches that have no CountryMinute row at all, oldest first.

    `with_rows`: by service, hours already known to have rows (in the range), not queried again.
    """
    hours = []
    hour = floor_hour(since)
    while hour < until:
        hours.append(hour)
        hour += HOUR
    unknown = [service_id for service_id in service_ids if not with_rows[service_id].issuperset(hours)]
    if not unknown:
        return {}
    # A row anywhere in the hour counts, past `until` too: after a detector reset
    # the tick re-rolls old minutes, and later minutes' reports are in CountryHour.
    in_hours = (
        CountryMinute.objects.filter(service_id__in=unknown, minute__gte=hours[0], minute__lt=hours[-1] + HOUR)
        .annotate(hour=TruncHour("minute"))
        .values_list("service_id", "hour")
        .distinct()
        .order_by()
    )
    have = {service_id: set(with_rows[service_id]) for service_id in unknown}
    for service_id, hour_with_rows in in_hours:
        have[service_id].add(hour_with_rows)
    legacy = {service_id: [h for h in hours if h not in have[service_id]] for service_id in unknown}
    return {service_id: missing for service_id, missing in legacy.items() if missing}


def _legacy_hours_reset(
    legacy: dict[int, list[dt.datetime]], since: dt.datetime, fresh: dict[int, CountryCounts]
) -> None:
    """Empty the CountryHour rows of hours without a ledger; add their minutes before `since` to `fresh`.

    Services are taken together by the hours they lack: in a tick, nearly always the same ones.
    """
    by_hours: dict[tuple[dt.datetime, ...], list[int]] = defaultdict(list)
    for service_id, missing in legacy.items():
        by_hours[tuple(missing)].append(service_id)
    for hours, ids in by_hours.items():
        CountryHour.objects.filter(service_id__in=ids, hour__in=hours).delete()
        if hours[0] < since:
            for service_id, minute, country, n in _counted(ids, hours[0], since).values_list(
                "service_id", "minute", "country", "n"
            ):
                fresh[service_id][minute, country] += n


def _country_hours_add(deltas: dict[int, dict[tuple[dt.datetime, str], int]]) -> None:
    """Add `deltas` (by service, then hour and country) to the CountryHour rows; a row that reaches 0 goes."""
    deltas = {service_id: delta for service_id, delta in deltas.items() if delta}
    if not deltas:
        return
    rows = CountryHour.objects.filter(
        service_id__in=deltas,
        hour__in={hour for delta in deltas.values() for hour, _ in delta},
        country__in={country for delta in deltas.values() for _, country in delta},
    )
    current = {
        (service_id, hour, country): (pk, n)
        for pk, service_id, hour, country, n in rows.values_list("pk", "service_id", "hour", "country", "count")
    }
    upserts = []
    gone = []
    for service_id, delta in deltas.items():
        totals = {}
        for (hour, country), d in delta.items():
            held = current.get((service_id, hour, country))
            totals[hour, country] = held[1] + d if held else d
            if held and totals[hour, country] <= 0:
                gone.append(held[0])
        if any(n < 0 for n in totals.values()):
            # Cannot happen while only the tick writes CountryHour; an old worker still
            # rebuilding whole hours during a deploy could do it. Keep detection going.
            logger.warning("service %s: country rollups below 0, clamped: %s", service_id, totals)
        upserts += [
            CountryHour(service_id=service_id, hour=h, country=c, count=n) for (h, c), n in totals.items() if n > 0
        ]
    CountryHour.objects.bulk_create(
        upserts,
        update_conflicts=True,
        unique_fields=["service", "country", "hour"],
        update_fields=["count"],
        batch_size=5000,
    )
    if gone:
        CountryHour.objects.filter(pk__in=gone).delete()
