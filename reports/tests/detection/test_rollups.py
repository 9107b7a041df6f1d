"""The rollups the detection tick keeps: exact, idempotent, incremental (reports.outages.rollups_refresh)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from django.db.models import Count
from django.db.models.functions import TruncHour, TruncMinute

from catalog.models import IssueType, Service
from catalog.tests.factories import make_service
from reports.detection.rollups import LATE_MINUTES, LEDGER_DAYS, rollups_prune, rollups_refresh
from reports.detection.tick import CHUNK_MINUTES, SETTLE, detection_tick
from reports.models import Channel, CountryHour, DetectorState, Report, ReportMinute
from reports.models.outages import CountryMinute

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 20, 11, 20, 5, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
COUNTRIES = ("DE", "US", "GB", "")


def floor_minute(at: dt.datetime) -> dt.datetime:
    return at.replace(second=0, microsecond=0)


def floor_hour(at: dt.datetime) -> dt.datetime:
    return at.replace(minute=0, second=0, microsecond=0)


class Reports:
    """Writes random reports of one service, counted or not, from a few countries (unknown included)."""

    def __init__(self, service: Service, rng: random.Random) -> None:
        self.service, self.rng = service, rng
        self.types = list(IssueType.objects.filter(service=service))
        self.written = 0

    def add(self, since: dt.datetime, until: dt.datetime, per_minute: float) -> None:
        """About `per_minute` reports a minute, created uniformly in [since, until)."""
        seconds = (until - since).total_seconds()
        if seconds <= 0:
            return
        rows = []
        for _ in range(self.rng.randint(0, round(2 * per_minute * seconds / 60))):
            self.written += 1
            rows.append(
                Report(
                    service=self.service,
                    issue_type=self.rng.choice(self.types),
                    created_at=since + dt.timedelta(seconds=self.rng.uniform(0, seconds)),
                    country=self.rng.choice(COUNTRIES),
                    channel=Channel.API,
                    counted=self.rng.random() < 0.9,
                )
            )
        Report.objects.bulk_create(rows)


def report(service: Service, at: dt.datetime, country: str) -> Report:
    """One counted report."""
    return Report.objects.create(
        service=service,
        issue_type=IssueType.objects.get(service=service, key="payment"),
        created_at=at,
        country=country,
        channel=Channel.API,
        counted=True,
    )


def rolled_end(service: Service) -> dt.datetime | None:
    last = DetectorState.objects.filter(service=service).values_list("last_minute", flat=True).first()
    return last + MINUTE if last else None


def hours_from_scratch(service: Service) -> Counter:
    """Counted reports by (hour, country) of the minutes the tick has rolled up, counted afresh."""
    created = Report.objects.filter(service=service, counted=True, created_at__lt=rolled_end(service))
    rows = created.annotate(hour=TruncHour("created_at")).values("hour", "country").annotate(n=Count("id"))
    return Counter({(r["hour"], r["country"]): r["n"] for r in rows.order_by()})


def minutes_from_scratch(service: Service) -> Counter:
    created = Report.objects.filter(service=service, counted=True, created_at__lt=rolled_end(service))
    rows = created.annotate(minute=TruncMinute("created_at")).values("minute", "issue_type").annotate(n=Count("id"))
    return Counter({(r["minute"], r["issue_type"]): r["n"] for r in rows.order_by()})


def country_hours(service: Service) -> Counter:
    return Counter(
        {(h, c): n for h, c, n in CountryHour.objects.filter(service=service).values_list("hour", "country", "count")}
    )


def report_minutes(service: Service) -> Counter:
    rows = ReportMinute.objects.filter(service=service).values_list("minute", "issue_type_id", "count")
    return Counter({(m, t): n for m, t, n in rows})


def assert_exact(service: Service) -> None:
    assert country_hours(service) == hours_from_scratch(service)
    assert report_minutes(service) == minutes_from_scratch(service)


def refresh_since(service: Service, at: dt.datetime) -> dt.datetime | None:
    """Where a tick at `at` starts re-reading reports (`since` in _tick_chunk), or None if it rolls nothing up."""
    end, upto = rolled_end(service), floor_minute(at - SETTLE)
    if end is None or upto <= end:
        return None
    return min(end, upto - LATE_MINUTES * MINUTE)


def schedule(rng: random.Random, start: dt.datetime) -> list[dt.datetime]:
    """Tick times: mostly every 30 s, some jittered, some stops of minutes, and one stop past a whole chunk."""
    ticks, at = [], start
    for i in range(90):
        roll = rng.random()
        if i == 45:
            gap = (CHUNK_MINUTES + 47) * MINUTE + 13 * SECOND  # a worker down for half a day: catch-up in chunks
        elif roll < 0.75:
            gap = 30 * SECOND
        elif roll < 0.9:
            gap = rng.randint(1, 100) * SECOND
        else:
            gap = rng.randint(2, 40) * MINUTE + rng.randint(0, 59) * SECOND
        at += gap
        ticks.append(at)
    return ticks


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_country_hours_equal_a_count_from_scratch_after_random_reports_and_ticks(seed):
    rng = random.Random(seed)
    shop, other = make_service(), make_service(slug="other-shop", name="Other Shop")
    writers = {shop: Reports(shop, rng), other: Reports(other, rng)}
    for writer in writers.values():
        writer.add(T0 - 70 * MINUTE, T0, 3)  # history the new detector learns from, across an hour boundary
    ticks = schedule(rng, T0)
    previous = T0
    for at in ticks:
        for service, writer in writers.items():
            writer.add(previous, at, 0.5 if at - previous > HOUR else rng.choice([0.5, 2, 6]))
            # Late: written now, created before the previous tick, but inside the window
            # this tick re-reads (LATE_MINUTES back), so it must be folded in.
            since = refresh_since(service, at)
            if since is not None:
                writer.add(max(since, previous - 6 * MINUTE), previous, rng.choice([0, 1, 4]))
        for service in writers:
            detection_tick(service_id=service.pk, now=at)
            assert country_hours(service) == hours_from_scratch(service)
        previous = at
    for service in writers:
        assert_exact(service)
    assert rolled_end(shop) > T0 + CHUNK_MINUTES * MINUTE
    assert len({hour for hour, _ in country_hours(shop)}) > 12  # many hour boundaries crossed


def test_the_same_refresh_twice_gives_identical_rows_and_a_late_report_counts_once():
    shop = make_service()
    rng = random.Random(7)
    writer = Reports(shop, rng)
    start = floor_hour(T0) + 50 * MINUTE
    writer.add(start, start + 20 * MINUTE, 4)

    def rows() -> tuple:
        return (
            sorted(CountryHour.objects.values_list("service", "hour", "country", "count")),
            sorted(CountryMinute.objects.values_list("service", "minute", "country", "count")),
            sorted(ReportMinute.objects.values_list("service", "minute", "issue_type", "count")),
        )

    rollups_refresh(service=shop, since=start, until=start + 20 * MINUTE)
    once = rows()
    rollups_refresh(service=shop, since=start, until=start + 20 * MINUTE)
    assert rows() == once
    assert country_hours(shop) == Counter(
        (floor_hour(at), c) for at, c in Report.objects.filter(counted=True).values_list("created_at", "country")
    )
    late = report(shop, start + 15 * MINUTE, "FR")
    for _ in range(3):
        rollups_refresh(service=shop, since=start + 10 * MINUTE, until=start + 20 * MINUTE)
    assert CountryHour.objects.get(service=shop, country="FR").count == 1
    assert CountryMinute.objects.get(service=shop, country="FR").minute == floor_minute(late.created_at)


def test_the_ledger_of_whole_old_hours_is_pruned_and_the_record_stays_exact():
    shop = make_service()
    writer = Reports(shop, random.Random(5))
    start = floor_hour(T0) - dt.timedelta(days=LEDGER_DAYS) - 2 * HOUR  # two hours past the horizon, then more
    writer.add(start, start + 4 * HOUR, 2)
    rollups_refresh(service=shop, since=start, until=start + 4 * HOUR)
    hours = country_hours(shop)
    now = T0 + 30 * MINUTE
    deleted = rollups_prune(now=now)
    cutoff = floor_hour(now - dt.timedelta(days=LEDGER_DAYS))
    assert deleted > 0
    assert not CountryMinute.objects.filter(minute__lt=cutoff).exists()
    assert CountryMinute.objects.filter(minute__gte=cutoff).exists()  # newer hours keep theirs
    assert country_hours(shop) == hours  # the record is untouched
    # A late refresh reaching back over a pruned hour still ends exact.
    writer.add(start + 3 * HOUR, start + 4 * HOUR, 1)
    rollups_refresh(service=shop, since=start, until=start + 4 * HOUR)
    counted = Report.objects.filter(service=shop, counted=True).values_list("created_at", "country")
    assert country_hours(shop) == Counter((floor_hour(at), c) for at, c in counted)


def test_a_tick_reads_only_its_minutes_not_the_whole_hour():
    shop = make_service()
    writer = Reports(shop, random.Random(11))
    hour = floor_hour(T0)
    writer.add(hour, hour + 30 * MINUTE, 3)
    detection_tick(service_id=shop.pk, now=hour + 30 * MINUTE + 30 * SECOND)
    before = country_hours(shop)
    report(shop, hour + 30 * MINUTE + 10 * SECOND, "US")  # on time
    # Written long after its minute left the late window: only a whole-hour rebuild would see it.
    report(shop, hour + 2 * MINUTE, "FR")  # too late
    detection_tick(service_id=shop.pk, now=hour + 31 * MINUTE + 30 * SECOND)
    assert country_hours(shop) == hours_from_scratch(shop) - Counter({(hour, "FR"): 1})
    assert country_hours(shop)[hour, "US"] == before[hour, "US"] + 1


def rollups_as_before_the_ledger(service: Service) -> None:
    """What the code before CountryMinute left: whole hours rebuilt from raw reports, unrolled minutes included."""
    CountryMinute.objects.filter(service=service).delete()
    CountryHour.objects.filter(service=service).delete()
    end = rolled_end(service)
    counted = Report.objects.filter(service=service, counted=True, created_at__lt=floor_hour(end - MINUTE) + HOUR)
    hours = Counter((floor_hour(at), c) for at, c in counted.values_list("created_at", "country"))
    CountryHour.objects.bulk_create(
        CountryHour(service=service, hour=h, country=c, count=n) for (h, c), n in hours.items()
    )


@pytest.mark.parametrize("reset_detector", [False, True])
def test_hours_rolled_up_before_the_ledger_existed_become_exact_on_the_next_ticks(reset_detector):
    shop = make_service()
    writer = Reports(shop, random.Random(5))
    hour = floor_hour(T0)
    writer.add(hour - 50 * MINUTE, hour + 50 * MINUTE, 4)
    detection_tick(service_id=shop.pk, now=hour + 30 * MINUTE + 30 * SECOND)
    rollups_as_before_the_ledger(shop)
    assert country_hours(shop) != hours_from_scratch(shop)  # the open hour holds minutes not rolled up yet
    if reset_detector:
        # The detector re-learns from the history: every minute is rolled up again.
        DetectorState.objects.filter(service=shop).delete()
    for at in (hour + 31 * MINUTE + 30 * SECOND, hour + 35 * MINUTE, hour + 70 * MINUTE):
        detection_tick(service_id=shop.pk, now=at)
        assert_exact(shop)


def test_a_detector_reset_rolls_everything_up_again_without_counting_twice():
    shop = make_service()
    writer = Reports(shop, random.Random(9))
    hour = floor_hour(T0)
    writer.add(hour - 3 * HOUR, hour + 20 * MINUTE, 4)
    detection_tick(service_id=shop.pk, now=hour + 20 * MINUTE + 30 * SECOND)
    DetectorState.objects.filter(service=shop).delete()
    writer.add(hour + 20 * MINUTE, hour + 25 * MINUTE, 4)
    detection_tick(service_id=shop.pk, now=hour + 25 * MINUTE + 30 * SECOND)
    assert_exact(shop)
