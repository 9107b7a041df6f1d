"""Demo traffic: the pure generator in reports/simulation/model.py, its services and `manage.py simulate`."""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
import math
import random
import statistics
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import Service
from catalog.tests.factories import make_service
from reports.intake import geo
from reports.models import Channel, DetectorState, Report, SimulatedOutage, SimulatorClock
from reports.simulation.model import (
    MINUTE,
    SimOutage,
    SimService,
    daily_curve,
    expected_rate,
    generate,
    noise,
    parse_duration,
    poisson,
)
from reports.simulation.selectors import sim_outages, sim_services
from reports.simulation.services import simulated_outage_schedule, simulator_backfill, simulator_tick

DEMO = Path(__file__).resolve().parents[3] / "catalog" / "demo.yaml"

WEDNESDAY = dt.datetime(2026, 3, 4, tzinfo=dt.UTC)  # midnight UTC
SATURDAY = dt.datetime(2026, 3, 7, tzinfo=dt.UTC)
# Just after the daily peak, half a minute into the minute.
NOW = WEDNESDAY.replace(hour=19, second=30)
NOW_MINUTE = NOW.replace(second=0)

# noise() is log-normal with median 1 and sigma 0.25, so its mean is
# exp(sigma^2 / 2), about 1.03: traffic runs ~3% above expected_rate.
NOISE_SIGMA = 0.25
NOISE_MEAN = math.exp(NOISE_SIGMA**2 / 2)
NOISE_VARIANCE = (math.exp(NOISE_SIGMA**2) - 1) * math.exp(NOISE_SIGMA**2)

# Zipf-like shares of four issue types (1, 1/2, 1/3, 1/4 normalised).
SHARES = [12 / 25, 6 / 25, 4 / 25, 3 / 25]
KEYS = ("server", "payment", "inventory", "shipping")


def minutes(start: dt.datetime, count: int) -> list[dt.datetime]:
    return [start + i * MINUTE for i in range(count)]


def assert_close(observed: float, mean: float, variance: float, sigmas: float = 5) -> None:
    """`observed` lies within `sigmas` standard deviations of `mean`."""
    assert abs(observed - mean) <= sigmas * math.sqrt(variance), (observed, mean, math.sqrt(variance))


def assert_count_matches(observed: int, rates: list[float], extra: list[float] | None = None) -> None:
    """A count of reports against per-minute rates (noisy) and extra outage rates (noise-free).

    Each minute's count is Poisson with a log-normally noisy rate, so its
    variance is the mean plus the rate's own variance.
    """
    extra = extra or [0.0] * len(rates)
    mean = sum(r * NOISE_MEAN + e for r, e in zip(rates, extra, strict=True))
    variance = mean + sum(r * r * NOISE_VARIANCE for r in rates)
    assert_close(observed, mean, variance)


# --- parse_duration ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+10m", dt.timedelta(minutes=10)),
        ("10m", dt.timedelta(minutes=10)),
        ("-2h", dt.timedelta(hours=-2)),
        ("30s", dt.timedelta(seconds=30)),
        ("90s", dt.timedelta(seconds=90)),
        ("1d", dt.timedelta(days=1)),
        ("-0m", dt.timedelta(0)),
        (" 24h ", dt.timedelta(hours=24)),
    ],
)
def test_parse_duration_reads_signed_durations_in_seconds_minutes_hours_and_days(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "m", "10", "10x", "1.5h", "10 m", "ten m", "-h", "10mm", "1w"])
def test_parse_duration_rejects_anything_else_with_a_value_error(text):
    with pytest.raises(ValueError, match="is not a duration like 30s, 10m, 2h or 1d"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["--10m", "+-10m"])
def test_parse_duration_rejects_repeated_signs(text):
    with pytest.raises(ValueError):
        parse_duration(text)


# --- daily_curve ------------------------------------------------------------


def test_daily_curve_peaks_at_19_utc_and_is_lowest_at_07_utc():
    day = minutes(WEDNESDAY, 24 * 60)
    curve = {at: daily_curve(at) for at in day}

    assert max(curve, key=curve.get) == WEDNESDAY.replace(hour=19)
    assert min(curve, key=curve.get) == WEDNESDAY.replace(hour=7)
    assert curve[WEDNESDAY.replace(hour=19)] == pytest.approx(1.0)
    assert curve[WEDNESDAY.replace(hour=7)] == pytest.approx(0.1)


def test_daily_curve_rises_from_morning_to_evening_and_falls_overnight():
    hourly = [daily_curve(WEDNESDAY.replace(hour=h)) for h in range(24)]

    assert all(a < b for a, b in itertools.pairwise(hourly[7:20]))
    assert all(a > b for a, b in itertools.pairwise(hourly[19:]))
    assert all(a > b for a, b in itertools.pairwise(hourly[:8]))


@pytest.mark.parametrize("weekend_day", [SATURDAY, SATURDAY + dt.timedelta(days=1)])
def test_daily_curve_is_lower_at_weekends_at_every_hour(weekend_day):
    for hour in range(24):
        weekday = daily_curve(WEDNESDAY.replace(hour=hour))
        weekend = daily_curve(weekend_day.replace(hour=hour))
        assert weekend < weekday
        assert weekend == pytest.approx(0.85 * weekday)


def test_friday_and_monday_are_weekdays_for_the_curve():
    friday, monday = SATURDAY - dt.timedelta(days=1), SATURDAY + dt.timedelta(days=2)
    at_peak = WEDNESDAY.replace(hour=19)

    assert daily_curve(friday.replace(hour=19)) == daily_curve(at_peak)
    assert daily_curve(monday.replace(hour=19)) == daily_curve(at_peak)


def test_expected_rate_is_volume_times_the_curve():
    assert expected_rate(10, WEDNESDAY.replace(hour=19)) == pytest.approx(10)
    assert expected_rate(10, WEDNESDAY.replace(hour=7)) == pytest.approx(1)
    assert expected_rate(0, WEDNESDAY.replace(hour=19)) == 0


# --- poisson and noise ------------------------------------------------------


@pytest.mark.parametrize("lam", [0.5, 4, 100])
def test_poisson_samples_have_mean_and_variance_close_to_lambda(lam):
    rng = random.Random(1234)
    n = 40_000
    samples = [poisson(rng, lam) for _ in range(n)]

    # Standard errors for a Poisson sample: mean sqrt(lam/n); variance
    # sqrt((mu4 - sigma^4)/n) with mu4 = lam(1 + 3 lam).
    assert_close(statistics.fmean(samples), lam, lam / n)
    assert_close(statistics.variance(samples), lam, (lam + 2 * lam * lam) / n)
    assert min(samples) >= 0
    assert all(isinstance(s, int) for s in samples)


@pytest.mark.parametrize("lam", [0, -1.5])
def test_poisson_with_no_rate_is_always_zero(lam):
    rng = random.Random(1)
    assert {poisson(rng, lam) for _ in range(100)} == {0}


def test_noise_is_multiplicative_with_median_one():
    rng = random.Random(5)
    samples = [noise(rng) for _ in range(20_000)]

    assert min(samples) > 0
    assert statistics.median(samples) == pytest.approx(1, abs=0.02)
    assert statistics.fmean(samples) == pytest.approx(NOISE_MEAN, abs=0.02)


# --- generate ---------------------------------------------------------------

SHOP = SimService("shop", 5.0, KEYS)
STORE = SimService("store", 2.0, ("app", "login"))


def test_generate_is_deterministic_for_a_seed():
    start, end = WEDNESDAY.replace(hour=18), WEDNESDAY.replace(hour=19)
    outage = SimOutage("shop", "payment", start + 10 * MINUTE, start + 20 * MINUTE, 5)

    first = list(generate([SHOP, STORE], start, end, [outage], random.Random(42)))
    again = list(generate([SHOP, STORE], start, end, [outage], random.Random(42)))
    other = list(generate([SHOP, STORE], start, end, [outage], random.Random(43)))

    assert len(first) > 100
    assert first == again
    assert first != other


def test_generate_yields_reports_in_time_order_inside_the_window():
    start, end = WEDNESDAY.replace(hour=17), WEDNESDAY.replace(hour=19)

    reports = list(generate([SHOP, STORE], start, end, [], random.Random(7)))

    times = [r.at for r in reports]
    assert times == sorted(times)
    assert start <= times[0] and times[-1] < end
    # Every minute of the window got traffic, not just its edges.
    assert {t.replace(second=0, microsecond=0) for t in times} == set(minutes(start, 120))
    assert {(r.slug, r.issue_type) for r in reports} == {(s.slug, k) for s in (SHOP, STORE) for k in s.issue_types}


def test_generated_reports_look_like_real_clients():
    start = WEDNESDAY.replace(hour=18)

    reports = list(generate([SHOP], start, start + 60 * MINUTE, [], random.Random(3)))

    addresses = [ipaddress.ip_address(r.ip) for r in reports]
    assert all(a.version == 4 and a.is_global for a in addresses)
    assert len({r.user_agent for r in reports}) > 1
    assert all(len(r.comment) <= 500 for r in reports)
    # A few reporters come back (stored, not counted); most are new.
    repeats = len(addresses) - len(set(addresses))
    assert 0 < repeats < 0.1 * len(addresses)


def test_generate_skips_services_without_issue_types_and_with_no_volume():
    start = WEDNESDAY.replace(hour=19)
    services = [SimService("empty", 10, ()), SimService("idle", 0, KEYS)]

    assert list(generate(services, start, start + 30 * MINUTE, [], random.Random(1))) == []


def test_generate_produces_expected_rate_per_minute_on_average():
    volume = 10.0
    day = minutes(WEDNESDAY, 24 * 60)

    reports = list(
        generate([SimService("shop", volume, KEYS)], WEDNESDAY, WEDNESDAY + dt.timedelta(days=1), [], random.Random(11))
    )

    assert_count_matches(len(reports), [expected_rate(volume, at) for at in day])
    # The shape follows the curve too: three hours around the evening peak
    # and around the morning trough each get their expected share.
    for centre in (19, 7):
        window = minutes(WEDNESDAY.replace(hour=centre) - 90 * MINUTE, 180)
        count = sum(1 for r in reports if window[0] <= r.at <= window[-1] + MINUTE)
        assert_count_matches(count, [expected_rate(volume, at) for at in window])


def test_generate_splits_traffic_across_issue_types_first_ones_most():
    start = WEDNESDAY.replace(hour=12)
    window = minutes(start, 6 * 60)

    reports = list(generate([SHOP], start, start + 6 * dt.timedelta(hours=1), [], random.Random(12)))

    counts = Counter(r.issue_type for r in reports)
    for key, share in zip(KEYS, SHARES, strict=True):
        assert_count_matches(counts[key], [expected_rate(SHOP.volume, at) * share for at in window])
    assert counts["server"] > counts["payment"] > counts["inventory"] > counts["shipping"]


def test_an_injected_outage_multiplies_the_service_traffic_during_its_window_only():
    # Volume 10: enough reports that adding factor (not factor - 1) times the
    # rate would stand out by more than 5 standard deviations.
    volume, factor = 10.0, 20
    start = WEDNESDAY.replace(hour=16)
    outage_start, outage_end = start + dt.timedelta(hours=2), start + dt.timedelta(hours=3)
    outage = SimOutage("shop", "payment", outage_start, outage_end, factor)
    shop = SimService("shop", volume, KEYS)

    reports = list(generate([shop, STORE], start, start + dt.timedelta(hours=5), [outage], random.Random(99)))

    during = [r for r in reports if outage_start <= r.at < outage_end]
    outside = [r for r in reports if not outage_start <= r.at < outage_end]
    window = minutes(outage_start, 60)
    rest = [m for m in minutes(start, 5 * 60) if m not in window]
    base = [expected_rate(volume, at) for at in window]

    shop_during = Counter(r.issue_type for r in during if r.slug == "shop")
    # The service as a whole receives ~factor times its usual reports...
    normal = sum(base) * NOISE_MEAN
    assert sum(shop_during.values()) == pytest.approx(factor * normal, rel=0.1)
    # ...and all of the extra goes to the outage's issue type.
    assert_count_matches(shop_during["payment"], [b * SHARES[1] for b in base], [b * (factor - 1) for b in base])
    for key, share in zip(KEYS, SHARES, strict=True):
        if key != "payment":
            assert_count_matches(shop_during[key], [b * share for b in base])
    # Outside the window, and for other services, traffic is normal.
    shop_outside = Counter(r.issue_type for r in outside if r.slug == "shop")
    for key, share in zip(KEYS, SHARES, strict=True):
        assert_count_matches(shop_outside[key], [expected_rate(volume, at) * share for at in rest])
    store_during = sum(1 for r in during if r.slug == "store")
    assert_count_matches(store_during, [expected_rate(STORE.volume, at) for at in window])


def test_an_outage_of_another_service_or_issue_type_changes_nothing_here():
    start = WEDNESDAY.replace(hour=18)
    unrelated = [
        SimOutage("elsewhere", "payment", start, start + dt.timedelta(hours=1), 50),
        SimOutage("shop", "login", start, start + dt.timedelta(hours=1), 50),
    ]

    with_outages = list(generate([SHOP], start, start + dt.timedelta(hours=1), unrelated, random.Random(5)))
    without = list(generate([SHOP], start, start + dt.timedelta(hours=1), [], random.Random(5)))

    assert with_outages == without


# --- Service layer: the clock, ticks and backfill -----------------------------


@pytest.fixture
def shop(db):
    # 20 reports a minute at the peak: every simulated minute gets some.
    return make_service(demo_traffic=20.0)


def report_minutes(reports=None) -> set[dt.datetime]:
    rows = Report.objects.all() if reports is None else reports
    return {at.replace(second=0, microsecond=0) for at in rows.values_list("created_at", flat=True)}


@pytest.mark.django_db
def test_the_first_tick_fills_the_minute_that_just_ended(shop):
    written = simulator_tick(now=NOW, rng=random.Random(1))

    assert written == Report.objects.count() > 0
    assert report_minutes() == {NOW_MINUTE - MINUTE}
    assert SimulatorClock.objects.get().last_minute == NOW_MINUTE


@pytest.mark.django_db
def test_ticking_twice_at_the_same_time_fills_the_minutes_once(shop):
    first = simulator_tick(now=NOW, rng=random.Random(1))
    second = simulator_tick(now=NOW + dt.timedelta(seconds=20), rng=random.Random(2))

    assert first > 0
    assert second == 0
    assert Report.objects.count() == first


@pytest.mark.django_db
def test_a_tick_after_a_gap_catches_up_every_missed_minute(shop):
    simulator_tick(now=NOW, rng=random.Random(1))
    before = set(Report.objects.values_list("id", flat=True))

    written = simulator_tick(now=NOW + 7 * MINUTE, rng=random.Random(2))

    new = Report.objects.exclude(id__in=before)
    assert written == new.count()
    assert report_minutes(new) == set(minutes(NOW_MINUTE, 7))
    assert SimulatorClock.objects.get().last_minute == NOW_MINUTE + 7 * MINUTE


@pytest.mark.django_db
def test_a_tick_after_a_long_stop_fills_only_the_last_max_minutes(shop):
    simulator_tick(now=NOW, rng=random.Random(1))
    before = set(Report.objects.values_list("id", flat=True))
    later = NOW_MINUTE + dt.timedelta(hours=3)

    simulator_tick(now=later, rng=random.Random(2), max_minutes=10)

    assert report_minutes(Report.objects.exclude(id__in=before)) == set(minutes(later - 10 * MINUTE, 10))
    assert SimulatorClock.objects.get().last_minute == later


@pytest.mark.django_db
def test_a_tick_with_the_clock_ahead_writes_nothing(shop):
    simulator_tick(now=NOW, rng=random.Random(1))
    count = Report.objects.count()

    assert simulator_tick(now=NOW - dt.timedelta(hours=1), rng=random.Random(2)) == 0
    assert Report.objects.count() == count
    assert SimulatorClock.objects.get().last_minute == NOW_MINUTE


@pytest.mark.django_db
def test_backfill_writes_history_and_a_following_tick_does_not_refill_it(shop):
    start = NOW_MINUTE - 15 * MINUTE

    written = simulator_backfill(start=start, end=NOW_MINUTE, rng=random.Random(1))

    assert written == Report.objects.count()
    assert report_minutes() == set(minutes(start, 15))
    assert SimulatorClock.objects.get().last_minute == NOW_MINUTE

    assert simulator_tick(now=NOW, rng=random.Random(2)) == 0
    simulator_tick(now=NOW + MINUTE, rng=random.Random(3))
    assert Report.objects.filter(created_at__lt=NOW_MINUTE).count() == written
    assert report_minutes(Report.objects.filter(created_at__gte=NOW_MINUTE)) == {NOW_MINUTE}


@pytest.mark.django_db
def test_backfill_moves_a_clock_that_is_behind_past_the_history(shop):
    simulator_tick(now=NOW - 20 * MINUTE, rng=random.Random(1))

    simulator_backfill(start=NOW_MINUTE - 10 * MINUTE, end=NOW_MINUTE, rng=random.Random(2))

    assert SimulatorClock.objects.get().last_minute == NOW_MINUTE
    assert simulator_tick(now=NOW, rng=random.Random(3)) == 0


@pytest.mark.django_db
def test_backfill_never_moves_the_clock_back(shop):
    simulator_tick(now=NOW, rng=random.Random(1))

    simulator_backfill(start=NOW_MINUTE - 60 * MINUTE, end=NOW_MINUTE - 50 * MINUTE, rng=random.Random(2))

    assert SimulatorClock.objects.get().last_minute == NOW_MINUTE


@pytest.mark.django_db
def test_backfill_up_to_an_unaligned_now_writes_no_future_reports_and_no_minute_twice(shop):
    # `manage.py simulate --backfill 2h` passes end=timezone.now(), mid-minute.
    simulator_backfill(start=NOW_MINUTE - 10 * MINUTE, end=NOW, rng=random.Random(1))
    backfilled = Report.objects.filter(id__in=list(Report.objects.values_list("id", flat=True)))
    assert not backfilled.filter(created_at__gt=NOW).exists()

    simulator_tick(now=NOW + MINUTE, rng=random.Random(2))

    ticked = Report.objects.exclude(id__in=backfilled.values_list("id", flat=True))
    assert report_minutes(backfilled).isdisjoint(report_minutes(ticked))


@pytest.mark.django_db
def test_only_active_services_with_demo_traffic_are_simulated(shop):
    make_service("quiet", "Quiet")  # no demo_traffic
    make_service("zero", "Zero", demo_traffic=0.0)
    make_service("retired", "Retired", demo_traffic=20.0, active=False)

    simulator_backfill(start=NOW_MINUTE - 10 * MINUTE, end=NOW_MINUTE, rng=random.Random(1))

    assert sim_services() == [SimService("tiktok-shop", 20.0, KEYS)]
    assert set(Report.objects.values_list("service__slug", flat=True)) == {"tiktok-shop"}


@pytest.mark.django_db
def test_inactive_issue_types_get_no_simulated_traffic(shop):
    shop.issue_types.filter(key="server").update(active=False)

    simulator_backfill(start=NOW_MINUTE - 10 * MINUTE, end=NOW_MINUTE, rng=random.Random(1))

    assert set(Report.objects.values_list("issue_type__key", flat=True)) == {"payment", "inventory", "shipping"}


@pytest.mark.django_db
def test_simulated_reports_go_through_report_create(shop):
    start, end = NOW_MINUTE - 30 * MINUTE, NOW_MINUTE
    # The same seed replays the traffic, so each stored row can be checked
    # against the simulated client it came from.
    expected = list(generate(sim_services(), start, end, [], random.Random(8)))

    simulator_backfill(start=start, end=end, rng=random.Random(8))

    rows = list(Report.objects.order_by("created_at").select_related("issue_type"))
    assert len(rows) == len(expected)
    for row, sim in zip(rows, expected, strict=True):
        ip = ipaddress.ip_address(sim.ip)
        assert (row.issue_type.key, row.created_at, row.comment) == (sim.issue_type, sim.at, sim.comment)
        assert row.channel == Channel.API
        assert row.country == geo.country_for(ip)
    assert sum(bool(row.country) for row in rows) > 0.8 * len(rows)
    # Returning reporters are stored but not counted, as real ones are.
    counted = [row for row in rows if row.counted]
    repeats = [row for row in rows if not row.counted]
    assert counted and repeats
    first_seen = {}
    for row, sim in zip(rows, expected, strict=True):
        first_seen.setdefault((sim.ip, sim.user_agent), row)
    clients = {row.pk: (sim.ip, sim.user_agent) for row, sim in zip(rows, expected, strict=True)}
    assert all(first_seen[clients[row.pk]] is not row and first_seen[clients[row.pk]].counted for row in repeats)


# --- Scheduling outages -------------------------------------------------------


@pytest.mark.django_db
def test_scheduling_an_outage_records_it(shop):
    outage = simulated_outage_schedule(
        service=shop, issue_type_key="payment", starts_at=NOW, ends_at=NOW + 30 * MINUTE, factor=20
    )

    assert SimulatedOutage.objects.get() == outage
    assert sim_outages(start=NOW_MINUTE, end=NOW_MINUTE + MINUTE) == [
        SimOutage("tiktok-shop", "payment", NOW, NOW + 30 * MINUTE, 20)
    ]
    assert sim_outages(start=NOW + 30 * MINUTE, end=NOW + 31 * MINUTE) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("issue_type", "duration", "factor"),
    [
        ("login", 30 * MINUTE, 20),  # not an issue type of the service
        ("payment", 30 * MINUTE, 1),  # no extra traffic
        ("payment", 30 * MINUTE, 0.5),
        ("payment", 30 * MINUTE, -3),
        ("payment", dt.timedelta(0), 20),  # no duration
        ("payment", -30 * MINUTE, 20),
    ],
    ids=["unknown-issue-type", "factor-1", "factor-below-1", "negative-factor", "empty", "ends-before-start"],
)
def test_scheduling_an_impossible_outage_is_refused(shop, issue_type, duration, factor):
    with pytest.raises(ValidationError) as excinfo:
        simulated_outage_schedule(
            service=shop, issue_type_key=issue_type, starts_at=NOW, ends_at=NOW + duration, factor=factor
        )

    assert "outage" in excinfo.value.message_dict
    assert not SimulatedOutage.objects.exists()


@pytest.mark.django_db
def test_an_outage_of_an_inactive_issue_type_is_refused(shop):
    shop.issue_types.filter(key="payment").update(active=False)

    with pytest.raises(ValidationError, match="'payment' is not an issue type of TikTok Shop"):
        simulated_outage_schedule(
            service=shop, issue_type_key="payment", starts_at=NOW, ends_at=NOW + MINUTE, factor=20
        )


@pytest.mark.django_db
@pytest.mark.parametrize("factor", [math.nan, math.inf])
def test_a_non_finite_outage_factor_is_refused(shop, factor):
    with pytest.raises(ValidationError):
        simulated_outage_schedule(
            service=shop, issue_type_key="payment", starts_at=NOW, ends_at=NOW + MINUTE, factor=factor
        )


@pytest.mark.django_db
def test_a_scheduled_outage_shapes_the_next_ticks(shop):
    simulator_tick(now=NOW, rng=random.Random(1))
    before = set(Report.objects.values_list("id", flat=True))
    simulated_outage_schedule(
        service=shop, issue_type_key="shipping", starts_at=NOW_MINUTE, ends_at=NOW_MINUTE + 2 * MINUTE, factor=10
    )

    simulator_tick(now=NOW + 4 * MINUTE, rng=random.Random(2))

    new = Report.objects.exclude(id__in=before)
    during = Counter(new.filter(created_at__lt=NOW_MINUTE + 2 * MINUTE).values_list("issue_type__key", flat=True))
    after = Counter(new.filter(created_at__gte=NOW_MINUTE + 2 * MINUTE).values_list("issue_type__key", flat=True))
    assert during["shipping"] > 0.8 * during.total()
    assert after["shipping"] < 0.3 * after.total()


# --- manage.py simulate -------------------------------------------------------


def simulate(*args: str) -> str:
    out = StringIO()
    call_command("simulate", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_catalog(db):
    call_command("load_catalog", str(DEMO), stdout=StringIO())


@pytest.mark.django_db
def test_simulate_with_an_outage_makes_that_issue_type_dominate_the_generated_minute(demo_catalog):
    with time_machine.travel(NOW, tick=False):
        output = simulate(
            "--outage", "tiktok-shop:payment", "--at=-10m", "--for", "30m", "--factor", "20", "--seed", "1"
        )

    outage = SimulatedOutage.objects.get()
    assert (outage.service.slug, outage.issue_type_key, outage.factor) == ("tiktok-shop", "payment", 20)
    assert (outage.starts_at, outage.ends_at) == (NOW - 10 * MINUTE, NOW + 20 * MINUTE)
    assert "outage scheduled: tiktok-shop:payment x20" in output
    others = Report.objects.exclude(service__slug="tiktok-shop")
    assert report_minutes(others) == {NOW_MINUTE - MINUTE}
    last_minute = Report.objects.filter(service__slug="tiktok-shop", created_at__gte=NOW_MINUTE - MINUTE)
    shop = Counter(last_minute.values_list("issue_type__key", flat=True))
    assert shop["payment"] > 0.8 * shop.total()
    # About 20x the service's usual ~3 a minute; other services' payment issues are not part of it.
    assert shop.total() > 10 * expected_rate(3.0, NOW_MINUTE - MINUTE)
    assert others.filter(service__slug="amazon", issue_type__key="payment").count() < 10
    generated = Report.objects.filter(created_at__gte=NOW_MINUTE - MINUTE).count()
    assert f"generated {generated} reports up to 2026-03-04 19:00 UTC" in output


@pytest.mark.django_db
def test_simulate_an_outage_gives_a_service_without_warm_detection_three_hours_of_history(demo_catalog):
    # A fresh install: the detector has seen two minutes, and calls no outage before it has seen an hour.
    shop = Service.objects.get(slug="tiktok-shop")
    DetectorState.objects.create(service=shop, last_minute=NOW_MINUTE - 2 * MINUTE)

    with time_machine.travel(NOW, tick=False):
        output = simulate("--outage", "tiktok-shop:payment", "--at", "+1m", "--for", "15m", "--seed", "2")

    history = Report.objects.filter(service=shop, created_at__lt=NOW_MINUTE - MINUTE)
    assert report_minutes(history) >= set(minutes(NOW_MINUTE - 181 * MINUTE, 10))
    assert min(history.values_list("created_at", flat=True)) >= NOW_MINUTE - 181 * MINUTE
    # Only the outage's service: the others' detectors need nothing.
    assert not Report.objects.exclude(service=shop).filter(created_at__lt=NOW_MINUTE - MINUTE).exists()
    # Restarted: the next tick starts from the oldest report and learns the history.
    assert not DetectorState.objects.filter(service=shop).exists()
    assert f"backfilled {history.count()} reports" in output
    assert "OUTAGEHUB_SIMULATOR is off: Celery beat generates only tiktok-shop's traffic" in output


@pytest.mark.django_db
def test_simulate_an_outage_leaves_a_warm_detector_and_its_history_alone(demo_catalog):
    shop = Service.objects.get(slug="tiktok-shop")
    warm = {"detector": {"seen_minutes": 600.0}}
    DetectorState.objects.create(service=shop, last_minute=NOW_MINUTE - 2 * MINUTE, state=warm)

    with time_machine.travel(NOW, tick=False):
        output = simulate("--outage", "tiktok-shop:payment", "--at", "+1m", "--seed", "2")

    assert report_minutes() == {NOW_MINUTE - MINUTE}
    assert DetectorState.objects.get(service=shop).state == warm
    assert "backfilled" not in output


@pytest.mark.django_db
def test_with_the_demo_simulator_off_a_tick_fills_only_services_with_an_outage_to_come(demo_catalog):
    shop = Service.objects.get(slug="tiktok-shop")
    simulator_tick(now=NOW, rng=random.Random(1), demo=False)
    assert not Report.objects.exists()  # nothing injected: the clock moves on, nothing is written

    simulated_outage_schedule(
        service=shop, issue_type_key="payment", starts_at=NOW + 2 * MINUTE, ends_at=NOW + 5 * MINUTE, factor=20
    )
    simulator_tick(now=NOW + MINUTE, rng=random.Random(2), demo=False)
    simulator_tick(now=NOW + 4 * MINUTE, rng=random.Random(3), demo=False)
    assert set(Report.objects.values_list("service__slug", flat=True)) == {"tiktok-shop"}
    # Its normal traffic before the outage, then the outage's: every minute filled once.
    assert report_minutes() == set(minutes(NOW_MINUTE, 4))
    during = Report.objects.filter(created_at__gte=NOW_MINUTE + 3 * MINUTE)
    assert during.filter(issue_type__key="payment").count() > 0.8 * during.count()

    # Once it has ended, nothing more.
    simulator_tick(now=NOW + 6 * MINUTE, rng=random.Random(4), demo=False)
    written = simulator_tick(now=NOW + 10 * MINUTE, rng=random.Random(5), demo=False)
    assert written == 0
    assert SimulatorClock.objects.get().last_minute == NOW_MINUTE + 10 * MINUTE


@pytest.mark.django_db
def test_simulate_backfill_writes_history_only_once_with_if_empty(demo_catalog):
    with time_machine.travel(NOW, tick=False):
        output = simulate("--backfill", "10m", "--if-empty", "--seed", "3")
    history = Report.objects.filter(created_at__lt=NOW_MINUTE)
    assert report_minutes(history) == set(minutes(NOW_MINUTE - 10 * MINUTE, 10))
    assert "backfilled" in output
    assert not SimulatedOutage.objects.exists()
    busy = {"tiktok-shop", "amazon", "instagram"}  # 3 to 5 reports a minute at the peak
    assert busy <= set(Report.objects.values_list("service__slug", flat=True))
    count = Report.objects.count()

    with time_machine.travel(NOW + 3 * MINUTE, tick=False):
        output = simulate("--backfill", "10m", "--if-empty", "--seed", "4")

    assert "backfilled" not in output
    assert Report.objects.filter(created_at__lt=NOW_MINUTE).count() == history.count()
    assert Report.objects.count() > count


@pytest.mark.django_db
@pytest.mark.parametrize("outage", ["tiktok-shop", "tiktok-shop:", ":payment", ":"])
def test_simulate_rejects_bad_outage_syntax(demo_catalog, outage):
    with time_machine.travel(NOW, tick=False), pytest.raises(CommandError, match="--outage takes SLUG:ISSUE_TYPE"):
        simulate("--outage", outage)

    assert not SimulatedOutage.objects.exists()
    assert not Report.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outage", "nope:payment"], "no active service 'nope'"),
        (["--outage", "tiktok-shop:login"], "'login' is not an issue type of TikTok Shop"),
        (["--outage", "tiktok-shop:payment", "--factor", "1"], "factor above 1"),
        (["--outage", "tiktok-shop:payment", "--at", "soon"], "'soon' is not a duration"),
        (["--outage", "tiktok-shop:payment", "--for", "1.5h"], "'1.5h' is not a duration"),
        (["--backfill", "yesterday"], "'yesterday' is not a duration"),
    ],
    ids=["unknown-service", "unknown-issue-type", "factor-1", "bad-at", "bad-for", "bad-backfill"],
)
def test_simulate_refuses_bad_arguments_and_writes_nothing(demo_catalog, args, message):
    with time_machine.travel(NOW, tick=False), pytest.raises(CommandError, match=message):
        simulate(*args)

    assert not SimulatedOutage.objects.exists()
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_simulate_refuses_an_outage_on_a_retired_service(demo_catalog):
    Service.objects.filter(slug="etsy").update(active=False)

    with time_machine.travel(NOW, tick=False), pytest.raises(CommandError, match="no active service 'etsy'"):
        simulate("--outage", "etsy:payment")
