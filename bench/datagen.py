"""Bulk history for the read benchmarks: N reports spread over D days, with the rollups that match them.

Rows are generated inside PostgreSQL (one INSERT ... SELECT over generate_series: no row crosses
the wire, so 10 million load in minutes), deterministic for a seed. The rollups the reads use
(ReportMinute per issue type, CountryHour, ServiceMinute) are then aggregated from the stored
reports themselves, and each detector is marked as having processed up to `end`, so the reads see
what the detection tick would have left: numbers that agree with the raw rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from catalog.models import IssueType, Service
from catalog.services import service_create
from outagehub.timebuckets import floor_hour, floor_minute
from reports.models import (
    Confidence,
    CountryHour,
    DetectorState,
    Outage,
    OutageStatus,
    Report,
    ReportMinute,
    ServiceMinute,
)

REPORTS_PER_OUTAGE = 2000  # history grows outages with its reports
# ...but never fewer than a full first page of outages/ (50) in all: a baseline history with half a page
# made the quick run compare a 25-row answer with a 50-row one and call the difference growth.
OUTAGES_MIN = 60

COUNTRIES = ["US", "DE", "GB", "FR", "IN", "BR", "JP", "CA", "ES", ""]


@dataclass(frozen=True)
class Generated:
    services: list[Service]
    reports: int
    since: dt.datetime
    end: dt.datetime


def bench_services(*, count: int, prefix: str = "bench") -> list[Service]:
    """`count` services named {prefix}-0..., created if missing (with the default issue types)."""
    existing = {s.slug: s for s in Service.objects.filter(slug__startswith=f"{prefix}-")}
    services = []
    for i in range(count):
        slug = f"{prefix}-{i}"
        services.append(existing.get(slug) or service_create(slug=slug, name=f"Bench {i}"))
    return services


def reports_generate(
    *, services: list[Service], reports: int, end: dt.datetime, days: float = 30.0, seed: int = 1
) -> Generated:
    """Add `reports` reports over the `days` before `end`, round-robin over `services`, with rollups.

    In time order (as they arrive, so indexes grow at their end), each to a random service,
    about 90 % counted, 5 % with a comment, countries from a fixed mix. Rollups of the whole
    range are rebuilt from every stored report of these services, so calling it again (to grow
    a history) keeps them exact.
    """
    end = floor_minute(end)
    since = floor_hour(end - dt.timedelta(days=days))  # whole hours: CountryHour rows are rebuilt whole
    types = list(IssueType.objects.filter(service__in=services, active=True).order_by("service_id", "id"))
    by_service: dict[int, list[int]] = {}
    for t in types:
        by_service.setdefault(t.service_id, []).append(t.pk)
    per = max(len(v) for v in by_service.values())
    # Issue type j of service i at index i*per + j (services with fewer types repeat their first).
    type_table = [
        by_service[s.pk][j] if j < len(by_service[s.pk]) else by_service[s.pk][0] for s in services for j in range(per)
    ]
    seconds = int((end - since).total_seconds())
    table = Report._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [((seed % 1000) / 1000.0)])
        cursor.execute(
            f"""
            INSERT INTO {table}
                (service_id, issue_type_id, created_at, comment, comment_state, country, channel, counted)
            SELECT s.ids[1 + k],
                   t.ids[1 + k * %(per)s + (floor(random() * %(per)s))::int],
                   %(since)s + make_interval(secs => g::float8 * %(seconds)s / %(reports)s),
                   CASE WHEN random() < 0.05 THEN 'bench comment ' || g ELSE '' END,
                   'visible',
                   (%(countries)s::text[])[1 + floor(random() * %(ncountries)s)::int],
                   'api',
                   random() < 0.9
            FROM generate_series(0, %(reports)s - 1) AS g,
                 LATERAL (SELECT floor(random() * %(nservices)s)::int + 0 * g AS k) AS pick,
                 (SELECT %(service_ids)s::bigint[] AS ids, %(nservices)s AS n) AS s,
                 (SELECT %(type_ids)s::bigint[] AS ids) AS t
            """,  # noqa: S608 - table name from the model
            {
                "per": per,
                "since": since,
                "seconds": seconds,
                "countries": COUNTRIES,
                "ncountries": len(COUNTRIES),
                "reports": reports,
                "service_ids": [s.pk for s in services],
                "nservices": len(services),
                "type_ids": type_table,
            },
        )
    rollups_rebuild(services=services, since=since, end=end)
    have = Outage.objects.filter(service__in=services).count()
    count = max(reports // REPORTS_PER_OUTAGE, OUTAGES_MIN - have)
    outages_generate(services=services, count=count, since=since, end=end)
    return Generated(services=services, reports=reports, since=since, end=end)


def rollups_rebuild(*, services: list[Service], since: dt.datetime, end: dt.datetime) -> None:
    """ReportMinute, CountryHour and ServiceMinute of [since, end) from the stored reports; detectors at `end`."""
    ids = [s.pk for s in services]
    reports, minutes = Report._meta.db_table, ReportMinute._meta.db_table
    hours, service_minutes = CountryHour._meta.db_table, ServiceMinute._meta.db_table
    params: dict[str, Any] = {"ids": ids, "since": since, "end": end}
    window = "service_id = ANY(%(ids)s) AND created_at >= %(since)s AND created_at < %(end)s AND counted"
    with transaction.atomic(), connection.cursor() as cursor:
        for model, field in ((ReportMinute, "minute"), (CountryHour, "hour"), (ServiceMinute, "minute")):
            model.objects.filter(service_id__in=ids, **{f"{field}__gte": since, f"{field}__lt": end}).delete()
        cursor.execute(
            f"""INSERT INTO {minutes} (service_id, issue_type_id, minute, count)
            SELECT service_id, issue_type_id, date_trunc('minute', created_at), count(*)
            FROM {reports} WHERE {window} GROUP BY 1, 2, 3""",  # noqa: S608
            params,
        )
        cursor.execute(
            f"""INSERT INTO {hours} (service_id, country, hour, count)
            SELECT service_id, country, date_trunc('hour', created_at), count(*)
            FROM {reports} WHERE {window} GROUP BY 1, 2, 3""",  # noqa: S608
            params,
        )
        # What the detector saw; `expected` is the minute's mean over the range, a plausible baseline.
        cursor.execute(
            f"""INSERT INTO {service_minutes} (service_id, minute, count, expected, dispersion, level)
            SELECT service_id, minute, sum(count), 0, 0, 'ok' FROM {minutes}
            WHERE service_id = ANY(%(ids)s) AND minute >= %(since)s AND minute < %(end)s GROUP BY 1, 2""",  # noqa: S608
            params,
        )
        cursor.execute(
            f"""UPDATE {service_minutes} m SET expected = a.mean FROM (
                SELECT service_id, sum(count)::float / greatest(1, extract(epoch FROM %(end)s - %(since)s) / 60) AS mean
                FROM {service_minutes} WHERE service_id = ANY(%(ids)s) GROUP BY 1) a
            WHERE m.service_id = a.service_id AND m.minute >= %(since)s""",  # noqa: S608
            params,
        )
        for service in services:
            DetectorState.objects.update_or_create(
                service=service, defaults={"last_minute": end - dt.timedelta(minutes=1), "level_since": since}
            )


def outages_generate(*, services: list[Service], count: int, since: dt.datetime, end: dt.datetime) -> int:
    """`count` resolved outages of 30 minutes, evenly over [since, end) and round-robin over `services`."""
    if count <= 0:
        return 0
    step = (end - since) / count
    rows = []
    for i in range(count):
        start = since + step * i
        rows.append(
            Outage(
                service=services[i % len(services)],
                status=OutageStatus.RESOLVED,
                confidence=Confidence.CROWD,
                started_at=start,
                ended_at=start + dt.timedelta(minutes=30),
                resolved_at=start + dt.timedelta(minutes=45),
                peak_at=start + dt.timedelta(minutes=10),
                peak_count=50,
                peak_expected=2.0,
                issue_types={"server": 100},
                countries={"US": 60, "DE": 40},
                reports_confirmed=True,
            )
        )
    Outage.objects.bulk_create(rows, batch_size=5000)
    return count
