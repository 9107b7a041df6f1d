from __future__ import annotations

import datetime as dt
import math
import random
import statistics
import time
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reports.detection.detector import Params, detect_series
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
        for baseline in (0.5, 1, 2, 5, 20, 50):
            for factor in (3.0, 5.0, 10.0, 20.0):
                d, m, n = self._spikes(baseline, factor, trials, seed, params)
                rows += n
                delays[(baseline, factor)], missed[(baseline, factor)] = d, m

        # 3. Ramps, blips, one issue type, near-silent burst.
        ramp_d, ramp_m, n = self._spikes(2, 10, trials, seed + 1, params, ramp=True)
        rows += n
        weight = issue_weights(4)[-1]
        one_type = 1 + weight * 19  # x20 on the least reported of four issue types
        type_d, type_m, n = self._spikes(2, one_type, trials, seed + 2, params)
        rows += n
        blip_opened, n = self._blips(2, 3, 2, trials, seed + 3, params)
        rows += n
        burst_d, burst_m, n = self._bursts(trials, seed + 4, params)
        rows += n

        elapsed = time.perf_counter() - started
        target = [x for (b, f), d in delays.items() if b >= 1 and f >= 5 for x in d]
        target_missed = sum(m for (b, f), m in missed.items() if b >= 1 and f >= 5)
        out = self.stdout.write
        out(f"detector benchmark (seed {seed}, {rows:,} rows in {elapsed:.1f} s, {rows / elapsed:,.0f} rows/s)")
        out("")
        out("| scenario | outages | missed | median delay | p95 delay |")
        out("|---|---|---|---|---|")
        for (baseline, factor), d in delays.items():
            out(
                f"| step x{factor:g} at {baseline:g}/min | {len(d) + missed[(baseline, factor)]} | "
                f"{missed[(baseline, factor)]} | {_fmt(_median(d))} | {_fmt(_p95(d))} |"
            )
        out(
            f"| ramp to x10 over 30 min at 2/min | {len(ramp_d) + ramp_m} | {ramp_m} | "
            f"{_fmt(_median(ramp_d))} | {_fmt(_p95(ramp_d))} |"
        )
        out(
            f"| one issue type x20 (total x{one_type:.2f}) at 2/min | {len(type_d) + type_m} | {type_m} | "
            f"{_fmt(_median(type_d))} | {_fmt(_p95(type_d))} |"
        )
        out(
            f"| 10 reporters in 5 min on a 0.05/min service | {len(burst_d) + burst_m} | {burst_m} | "
            f"{_fmt(_median(burst_d))} | {_fmt(_p95(burst_d))} |"
        )
        out("")
        out(
            f"targets (steps >= x5 at >= 1/min): median delay {_fmt(_median(target))} (<= 2), "
            f"p95 {_fmt(_p95(target))} (<= 5), missed {target_missed} (0)"
        )
        out(f"near-silent burst within 5 min: {sum(1 for x in burst_d if x <= 5)}/{len(burst_d) + burst_m}")
        out(
            f"false outages: {false_total} in {service_days} quiet service-days = "
            f"{30 * false_total / service_days:.2f} per 30 service-days (<= 1); by volume: "
            + ", ".join(f"{v:g}/min: {n}" for v, n in false_by_volume.items())
        )
        out(f"2-minute x3 blips that opened an outage: {blip_opened}/{trials}")

    def _spikes(
        self, baseline: float, factor: float, trials: int, seed: int, params: Params, *, ramp: bool = False
    ) -> tuple[list[float], int, int]:
        """One series per trial: days of history, then the outage, at a different time of day each trial."""
        rng = random.Random(seed * 7919 + int(baseline * 100) * 31 + int(factor * 10))
        spikes = []
        for k in range(trials):
            at = START + dt.timedelta(days=7 + k, hours=(k * 7) % 24, minutes=(k * 13) % 60)
            spikes.append(Spike(at, 30, factor, ramp))
        # Volume so that the baseline at the spike is `baseline`; spikes at different
        # hours see different baselines, so each trial gets its own series.
        delays, missed, rows = [], 0, 0
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
        return delays, missed, rows

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


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def _p95(values: list[float]) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def _fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f} min"
