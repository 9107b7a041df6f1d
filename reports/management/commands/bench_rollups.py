from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from functools import partial
from statistics import median
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import TruncHour, TruncMinute

from catalog.models import IssueType, Service
from catalog.services import service_create
from reports.detection.rollups import LATE_MINUTES, rollups_refresh
from reports.models import Channel, CountryHour, Report, ReportMinute

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
START = dt.datetime(2026, 9, 7, tzinfo=dt.UTC)  # an hour boundary
COUNTRIES = ["US", "DE", "GB", "FR", "IN", "BR", "JP", "CA", "ES", ""]
COUNTRY_WEIGHTS = [30, 15, 12, 8, 8, 7, 5, 5, 5, 5]
LATE_IN_HOUR = 15  # the last ticks of an hour, where the whole-hour rebuild reads the most


class _Rollback(Exception):
    pass


def _scan(*, service: Service, since: dt.datetime, until: dt.datetime) -> None:
    """The one read of raw reports that both ways start from: the floor either can reach."""
    list(
        Report.objects.filter(service=service, counted=True, created_at__gte=since, created_at__lt=until)
        .annotate(minute=TruncMinute("created_at"))
        .values("minute", "issue_type_id", "country")
        .annotate(n=Count("id"))
        .order_by()
    )


def _rollups_refresh_before(*, service: Service, since: dt.datetime, until: dt.datetime) -> None:
    """rollups_refresh as it was before CountryMinute: every touched hour rebuilt from its raw reports.

    Kept here only as the reference the benchmark compares against.
    """
    counted = Report.objects.filter(service=service, counted=True)
    per_minute = (
        counted.filter(created_at__gte=since, created_at__lt=until)
        .annotate(minute=TruncMinute("created_at"))
        .values("minute", "issue_type_id")
        .annotate(n=Count("id"))
    )
    with transaction.atomic():
        ReportMinute.objects.filter(service=service, minute__gte=since, minute__lt=until).delete()
        ReportMinute.objects.bulk_create(
            ReportMinute(service=service, issue_type_id=r["issue_type_id"], minute=r["minute"], count=r["n"])
            for r in per_minute
        )
        first_hour = since.replace(minute=0)
        last_hour = (until - MINUTE).replace(minute=0) + HOUR
        per_hour = (
            counted.filter(created_at__gte=first_hour, created_at__lt=last_hour)
            .annotate(hour=TruncHour("created_at"))
            .values("hour", "country")
            .annotate(n=Count("id"))
        )
        CountryHour.objects.filter(service=service, hour__gte=first_hour, hour__lt=last_hour).delete()
        CountryHour.objects.bulk_create(
            CountryHour(service=service, country=r["country"], hour=r["hour"], count=r["n"]) for r in per_hour
        )


def _ratio(times: list[float], baseline: list[float], *, late: bool = False) -> float:
    """Median of `times` over median of `baseline` (medians: these machines are noisy), optionally late in the hour."""
    if late:
        times, baseline = times[-LATE_IN_HOUR:], baseline[-LATE_IN_HOUR:]
    return median(times) / median(baseline)


class Command(BaseCommand):
    help = (
        "Benchmark one detection tick's rollup refresh (the last LATE_MINUTES minutes, every minute of an hour, "
        "after an hour of history): the whole-hour rebuild it replaced and the incremental one, against a bare "
        "GROUP BY of the tick's reports measured in the same process, inside a transaction that is rolled back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rate", type=int, default=50, help="Counted reports per minute (default 50).")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, rate: int, seed: int, **options: Any) -> None:
        seconds: dict[str, list[float]] = {}
        try:
            with transaction.atomic():
                self._run(rate, random.Random(seed), seconds)
                raise _Rollback
        except _Rollback:
            pass
        ticks = len(seconds["baseline"])
        self.stdout.write(
            f"database: {connection.vendor}, {rate} reports/min, {ticks} ticks over an hour after an hour of history "
            "(medians per tick; ratios against the baseline)"
        )
        self.stdout.write(f"{'refresh':<42} {'ms/tick':>8} {'x baseline':>11} {'last 15 min':>12}")
        names = {
            "baseline": "baseline: GROUP BY of the tick's reports",
            "before": "before: rebuild the touched hours",
            "after": "after: incremental (CountryMinute)",
        }
        for key, name in names.items():
            whole, late = (
                _ratio(seconds[key], seconds["baseline"]),
                _ratio(seconds[key], seconds["baseline"], late=True),
            )
            self.stdout.write(f"{name:<42} {median(seconds[key]) * 1e3:>8.2f} {whole:>11.2f} {late:>12.2f}")
        whole, late = (
            _ratio(seconds["before"], seconds["after"]),
            _ratio(seconds["before"], seconds["after"], late=True),
        )
        self.stdout.write(f"before / after: {whole:.2f} over the hour, {late:.2f} in its last 15 minutes")

    def _run(self, rate: int, rng: random.Random, seconds: dict[str, list[float]]) -> None:
        before = service_create(slug="bench-rollups-before", name="Bench Rollups Before")
        after = service_create(slug="bench-rollups-after", name="Bench Rollups After")
        types = {s: list(IssueType.objects.filter(service=s)) for s in (before, after)}

        def write_minute(at: dt.datetime) -> None:
            # The same reports for both services; the minute's reports exist by the time it is rolled up.
            offsets = [rng.uniform(0, 59.999) for _ in range(rate)]
            countries = rng.choices(COUNTRIES, COUNTRY_WEIGHTS, k=rate)
            kinds = [rng.randrange(len(types[before])) for _ in range(rate)]
            Report.objects.bulk_create(
                Report(
                    service=s,
                    issue_type=types[s][kind],
                    created_at=at + dt.timedelta(seconds=offset),
                    country=country,
                    channel=Channel.API,
                    counted=True,
                )
                for s in (before, after)
                for i, (offset, country, kind) in enumerate(zip(offsets, countries, kinds, strict=True))
            )

        def measure(key: str, fn: Callable[[], object]) -> None:
            started = time.perf_counter()
            fn()
            seconds.setdefault(key, []).append(time.perf_counter() - started)

        for minute in range(120):
            at = START + minute * MINUTE
            write_minute(at)
            upto = at + MINUTE  # the tick after this minute closed re-reads the last LATE_MINUTES
            since = upto - LATE_MINUTES * MINUTE
            if minute < 60:  # the hour of history, rolled up as the ticks would have
                _rollups_refresh_before(service=before, since=since, until=upto)
                rollups_refresh(service=after, since=since, until=upto)
                continue
            measure("baseline", partial(_scan, service=after, since=since, until=upto))
            measure("before", partial(_rollups_refresh_before, service=before, since=since, until=upto))
            measure("after", partial(rollups_refresh, service=after, since=since, until=upto))
        self._check(before, after)

    def _check(self, before: Service, after: Service) -> None:
        """Both ways must end with the same hour rows, or the comparison means nothing."""
        rows = [
            sorted(CountryHour.objects.filter(service=s).values_list("hour", "country", "count"))
            for s in (before, after)
        ]
        if rows[0] != rows[1]:
            raise RuntimeError("the two refreshes disagree on CountryHour")
