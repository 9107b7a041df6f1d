from __future__ import annotations

import datetime as dt
import math
import random
import statistics
import time
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reports.detection.detector import OK, Params, detect_series
from reports.simulation.model import daily_curve, issue_weights, simulate_counts

MINUTE = dt.timedelta(minutes=1)
START = dt.datetime(2026, 9, 7, tzinfo=dt.UTC)  # a Monday
HISTORY_DAYS = 4  # before each outage trial: the detector is warm after hours


@dataclass
class Spike:
    start: dt.datetime
    minutes: int
    factor: float
    ramp: bool = False


def _series(
    volume: float, days: float, spikes: list[Spike], rng: random.Random, start: dt.datetime = START
) -> tuple[list[dt.datetime], list[int]]:
    minutes = int(days * 1440)
    flat = [(s.start, s.start + s.minutes * MINUTE, s.factor) for s in spikes if not s.ramp]
    counts = simulate_counts(volume, start, minutes, rng, spikes=flat)
    for s in spikes:
        if s.ramp:  # factor grows linearly from 1 to s.factor over the spike
            for i in range(s.minutes):
                at = s.start + i * MINUTE
                extra = volume * daily_curve(at) * (s.factor - 1) * (i + 1) / s.minutes
                counts[int((at - start) / MINUTE)] += _poisson(rng, extra)
    return [start + i * MINUTE for i in range(minutes)], counts


def _poisson(rng: random.Random, lam: float) -> int:
    from reports.simulation.model import poisson

    return poisson(rng, lam)


def _volume_for(baseline: float, at: dt.datetime) -> float:
    """The peak volume whose daily curve gives `baseline` reports/min at `at`."""
    return baseline / daily_curve(at)


class Command(BaseCommand):
    help = "Benchmark the detector on simulated scenarios: delays, misses and false outages."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--quiet-days", type=int, default=30, help="Evaluated quiet days per volume.")
        parser.add_argument("--trials", type=int, default=10, help="Outages per step scenario.")

    def handle(self, *args: Any, seed: int, quiet_days: int, trials: int, **options: Any) -> None:
        params = Params()
        started = time.perf_counter()
        rows = 0
        warmup_days = 7

        # 1. Quiet traffic: every outage opened after warm-up is false.
        false_by_volume: dict[float, int] = {}
        for volume in (0.02, 0.1, 0.5, 1, 5, 20, 50):
            times, counts = _series(
                volume, warmup_days + quiet_days, [], random.Random(seed * 1000 + int(volume * 100))
            )
            result = detect_series(times, counts, params, 1.0)
            rows += len(times)
            false_by_volume[volume] = sum(1 for a in result.alerts if a >= START + dt.timedelta(days=warmup_days))
        service_days = quiet_days * len(false_by_volume)
        false_total = sum(false_by_volume.values())

        # 2. Step outages at a given baseline (reports/min at the spike) and factor.
        delays: dict[tuple[float, float], list[float]] = {}
        missed: dict[tuple[float, float], int] = {}
        shown: dict[tuple[float, float], list[float]] = {}
        for baseline in (0.5, 1, 2, 5, 20, 50):
            for factor in (3.0, 5.0, 10.0, 20.0):
                d, m, n, seen = self._spikes(baseline, factor, trials, seed, params)
                rows += n
                delays[(baseline, factor)], missed[(baseline, factor)], shown[(baseline, factor)] = d, m, seen

        # 3. Ramps, blips, one issue type, near-silent burst.
        ramp_d, ramp_m, n, _ = self._spikes(2, 10, trials, seed + 1, params, ramp=True)
        rows += n
        weight = issue_weights(4)[-1]
        one_type = 1 + weight * 19  # x20 on the least reported of four issue types
        type_d, type_m, n, _ = self._spikes(2, one_type, trials, seed + 2, params)
        rows += n
        blip_opened, n = self._blips(2, 3, 2, trials, seed + 3, params)
        rows += n
        burst_d, burst_m, n = self._bursts(trials, seed + 4, params)
        rows += n

        elapsed = time.perf_counter() - started

        # What the product promises at >= 1 report/min (issue 12), crowd alone: a step of
        # x5 or more is shown as "possible problems" within 2 minutes; an outage opens
        # (notifies) in about 2 minutes at x20, 5 at x10 and 12 at x5; x3 may stay
        # "possible" (a probe or the status page confirms it at once).
        def pooled(table: dict[tuple[float, float], list[float]], factors: set[float]) -> tuple[list[float], int]:
            picked = {k: d for k, d in table.items() if k[0] >= 1 and k[1] in factors}
            return [x for d in picked.values() for x in d], sum(trials - len(d) for d in picked.values())

        out = self.stdout.write
        out(f"detector benchmark (seed {seed}, {rows:,} rows in {elapsed:.1f} s, {rows / elapsed:,.0f} rows/s)")
        out("")
        out('| scenario | outages | missed | median delay | p95 delay | "possible" shown (median) |')
        out("|---|---|---|---|---|---|")
        for (baseline, factor), d in delays.items():
            out(
                f"| step x{factor:g} at {baseline:g}/min | {len(d) + missed[(baseline, factor)]} | "
                f"{missed[(baseline, factor)]} | {_fmt(_median(d))} | {_fmt(_p95(d))} | "
                f"{_fmt(_median(shown[(baseline, factor)]))} |"
            )
        out(
            f"| ramp to x10 over 30 min at 2/min | {len(ramp_d) + ramp_m} | {ramp_m} | "
            f"{_fmt(_median(ramp_d))} | {_fmt(_p95(ramp_d))} | |"
        )
        out(
            f"| one issue type x20 (total x{one_type:.2f}) at 2/min | {len(type_d) + type_m} | {type_m} | "
            f"{_fmt(_median(type_d))} | {_fmt(_p95(type_d))} | |"
        )
        out(
            f"| 10 reporters in 5 min on a 0.05/min service | {len(burst_d) + burst_m} | {burst_m} | "
            f"{_fmt(_median(burst_d))} | {_fmt(_p95(burst_d))} | |"
        )
        out("")
        out("targets at >= 1/min (crowd only, nothing confirming):")
        _target(out, "steps >= x5 shown as possible", *pooled(shown, {5, 10, 20}), median=1, p95=2)
        _target(out, "x20 steps open an outage", *pooled(delays, {20}), median=2, p95=3)
        _target(out, "x10 steps open an outage", *pooled(delays, {10}), median=5, p95=7)
        _target(out, "x5 steps open an outage", *pooled(delays, {5}), median=12, p95=20)
        out(f"near-silent burst within 5 min: {sum(1 for x in burst_d if x <= 5)}/{len(burst_d) + burst_m}")
        out(
            f"false outages: {false_total} in {service_days} quiet service-days = "
            f"{30 * false_total / service_days:.2f} per 30 service-days (<= 1); by volume: "
            + ", ".join(f"{v:g}/min: {n}" for v, n in false_by_volume.items())
        )
        out(f"2-minute x3 blips that opened an outage: {blip_opened}/{trials}")

    def _spikes(
        self, baseline: float, factor: float, trials: int, seed: int, params: Params, *, ramp: bool = False
    ) -> tuple[list[float], int, int, list[float]]:
        """One series per trial: days of history, then the outage, at a different time of day each trial.

        Returns the delays to the outage opening, the trials where it never
        did, the rows run, and the delays to the first row shown as at least
        "possible problems" (what the service page says before an outage opens).
        """
        rng = random.Random(seed * 7919 + int(baseline * 100) * 31 + int(factor * 10))
        spikes = []
        for k in range(trials):
            at = START + dt.timedelta(days=7 + k, hours=(k * 7) % 24, minutes=(k * 13) % 60)
            spikes.append(Spike(at, 30, factor, ramp))
        # Volume so that the baseline at the spike is `baseline`; spikes at different
        # hours see different baselines, so each trial gets its own series.
        delays, missed, rows, shown = [], 0, 0, []
        for spike in spikes:
            volume = _volume_for(baseline, spike.start)
            first = spike.start - dt.timedelta(days=HISTORY_DAYS)
            times, counts = _series(volume, HISTORY_DAYS + 1, [spike], random.Random(rng.random()), start=first)
            result = detect_series(times, counts, params, 1.0)
            rows += len(times)
            hits = [a for a in result.alerts if spike.start <= a <= spike.start + (spike.minutes + 15) * MINUTE]
            if hits:
                delays.append((hits[0] - spike.start) / MINUTE)
            else:
                missed += 1
            seen = [st.at for st in result.steps if spike.start <= st.at and st.level != OK]
            if seen and seen[0] <= spike.start + (spike.minutes + 15) * MINUTE:
                shown.append((seen[0] - spike.start) / MINUTE)
        return delays, missed, rows, shown

    def _blips(
        self, baseline: float, factor: float, minutes: int, trials: int, seed: int, params: Params
    ) -> tuple[int, int]:
        opened, rows = 0, 0
        for k in range(trials):
            at = START + dt.timedelta(days=7, hours=(k * 7) % 24, minutes=(k * 13) % 60)
            volume = _volume_for(baseline, at)
            times, counts = _series(volume, 8, [Spike(at, minutes, factor)], random.Random(seed * 31 + k))
            result = detect_series(times, counts, params, 1.0)
            rows += len(times)
            opened += any(at <= a <= at + 30 * MINUTE for a in result.alerts)
        return opened, rows

    def _bursts(self, trials: int, seed: int, params: Params) -> tuple[list[float], int, int]:
        """10 extra reporters spread over 5 minutes on a 0.05/min (peak) service."""
        delays, missed, rows = [], 0, 0
        for k in range(trials):
            rng = random.Random(seed * 97 + k)
            times, counts = _series(0.05, 8, [], rng)
            at = START + dt.timedelta(days=7, hours=(k * 7) % 24, minutes=(k * 13) % 60)
            base = int((at - START) / MINUTE)
            for i in range(10):
                counts[base + (i * 5) // 10] += 1
            result = detect_series(times, counts, params, 1.0)
            rows += len(times)
            hits = [a for a in result.alerts if at <= a <= at + 30 * MINUTE]
            if hits:
                delays.append((hits[0] - at) / MINUTE)
            else:
                missed += 1
        return delays, missed, rows


def _target(out: Any, what: str, delays: list[float], missed: int, *, median: float, p95: float) -> None:
    """One promised delay (minutes): met when nothing is missed and the median and p95 are within it."""
    ok = missed == 0 and _median(delays) <= median and _p95(delays) <= p95
    out(
        f"  {what}: median {_fmt(_median(delays))} (<= {median:g}), p95 {_fmt(_p95(delays))} "
        f"(<= {p95:g}), missed {missed} (0): {'pass' if ok else 'FAIL'}"
    )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def _p95(values: list[float]) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def _fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f} min"
