"""Backtest of upstream attribution: precision and recall over many randomized scenarios.

Each scenario is a dependency graph of 3 upstreams and 14 dependents, evaluated at one moment.
In most, one upstream fails and a random share of its dependents follow, each after a realistic
lag (reports/simulation/model.cascade_lag plus the detector's own delay); some only reach
"possible problems". The upstream's own crowd, probes and official page may or may not notice,
the page late. Every scenario also has unrelated outages: random dependents at random times,
some of them right inside the incident (coincident), and upstream blips that hit nobody, and
quiet scenarios have only those. The truth of each dependent outage is known; the scorer
(reports/detection/attribution.py) sees only what the product would.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reports.detection.attribution import OUTAGE, POSSIBLE, CauseStatus, Episode, Span, attribute
from reports.simulation.model import cascade_lag

MINUTE = dt.timedelta(minutes=1)
T0 = dt.datetime(2026, 9, 7, 15, 0, tzinfo=dt.UTC)
UPSTREAMS = (1000, 1001, 1002)
DEPENDENTS = tuple(range(1, 15))
OFFICIAL_BAD = (("degraded", 0.3), ("partial_outage", 0.35), ("major_outage", 0.35))


@dataclass
class Scenario:
    graph: dict[int, set[int]]
    episodes: list[Episode] = field(default_factory=list)
    probes: dict[int, list[Span]] = field(default_factory=dict)
    official: dict[int, str] = field(default_factory=dict)
    truth: dict[int, int | None] = field(default_factory=dict)  # outage id -> true cause
    coincident: set[int] = field(default_factory=set)  # unrelated outages inside an incident
    coincident_same: set[int] = field(default_factory=set)  # ... of a dependent of the failing upstream
    now: dt.datetime = T0
    kind: str = "quiet"


def _graph(rng: random.Random) -> dict[int, set[int]]:
    """Every dependent on one or two upstreams, the first upstream the most popular (like a big CDN)."""
    weights = (0.55, 0.3, 0.15)
    graph: dict[int, set[int]] = {}
    for d in DEPENDENTS:
        ups = {rng.choices(UPSTREAMS, weights)[0]}
        if rng.random() < 0.4:
            ups.add(rng.choices(UPSTREAMS, weights)[0])
        graph[d] = ups
    return graph


def _detection_delay(rng: random.Random) -> dt.timedelta:
    """The detector's delay on a dependent's step (bench_detect: median under 2 min at >= 1/min)."""
    return rng.choice((1, 1, 2, 2, 2, 3, 4, 6)) * MINUTE


def scenario(rng: random.Random, unrelated_per_service_day: float = 0.1) -> Scenario:
    s = Scenario(graph=_graph(rng))
    s.now = T0 + rng.randint(10, 75) * MINUTE
    next_id = iter(range(1, 10_000))
    dependents_of = {u: [d for d, ups in s.graph.items() if u in ups] for u in UPSTREAMS}

    def add(
        service: int, start: dt.datetime, cause: int | None, *, level: str = OUTAGE, end: dt.datetime | None = None
    ) -> None:
        if start > s.now:
            return  # not yet seen at evaluation time
        end = end if end is not None else start + rng.randint(10, 90) * MINUTE
        ended = end if end <= s.now else None
        if level == POSSIBLE:
            s.episodes.append(Episode(service, start, ended, POSSIBLE))
            return
        oid = next(next_id)
        s.episodes.append(Episode(service, start, ended, OUTAGE, oid))
        if service in s.graph:  # only dependents' outages are scored
            s.truth[oid] = cause

    if rng.random() < 0.65:
        s.kind = "incident"
        upstream = rng.choice([u for u in UPSTREAMS if dependents_of[u]])
        share = rng.uniform(0.3, 1.0)
        incident_end = T0 + rng.randint(20, 120) * MINUTE
        for d in dependents_of[upstream]:
            if rng.random() < share:
                start = T0 + cascade_lag(rng) + _detection_delay(rng)
                # Small services may only reach "possible problems": no outage to attribute.
                level = POSSIBLE if rng.random() < 0.2 else OUTAGE
                add(d, start, upstream, level=level, end=incident_end + cascade_lag(rng))
        if rng.random() < 0.5:  # the upstream's own crowd notices
            level = OUTAGE if rng.random() < 0.7 else POSSIBLE
            add(upstream, T0 + rng.randint(0, 12) * MINUTE, None, level=level, end=incident_end)
        if rng.random() < 0.5:  # its probes go down (3 failed checks)
            s.probes[upstream] = [Span(T0 + 3 * MINUTE, incident_end if incident_end <= s.now else None)]
        page_delay = rng.randint(8, 45) * MINUTE  # status pages are updated by people, late
        if rng.random() < 0.6 and s.now >= T0 + page_delay:
            s.official[upstream] = rng.choices([lv for lv, _ in OFFICIAL_BAD], [w for _, w in OFFICIAL_BAD])[0]
        # An unrelated outage right inside the incident, of any dependent not hit.
        if rng.random() < 0.4:
            hit = {e.service_id for e in s.episodes}
            others = [d for d in DEPENDENTS if d not in hit]
            if others:
                before = len(s.truth)
                victim = rng.choice(others)
                add(victim, T0 + rng.randint(0, 20) * MINUTE, None)
                new = list(s.truth)[before:]
                s.coincident.update(new)
                if upstream in s.graph[victim]:
                    s.coincident_same.update(new)
    # Unrelated outages everywhere (their own bugs, or the detector's false alarms), in the last two hours.
    for _ in range(_poisson(rng, unrelated_per_service_day * len(DEPENDENTS) * 120 / 1440)):
        add(rng.choice(DEPENDENTS), s.now - rng.randint(0, 120) * MINUTE, None)
    # An upstream blip nobody downstream feels, and status pages showing minor trouble.
    if rng.random() < 0.2:
        add(rng.choice(UPSTREAMS), s.now - rng.randint(0, 60) * MINUTE, None, level=POSSIBLE)
    for u in UPSTREAMS:
        if u not in s.official and rng.random() < 0.1:
            s.official[u] = "degraded"
    return s


def _poisson(rng: random.Random, lam: float) -> int:
    from reports.simulation.model import poisson

    return poisson(rng, lam)


@dataclass
class Tally:
    right: int = 0  # caused by an upstream, and that upstream named
    wrong: int = 0  # caused by one upstream, another named
    missed: int = 0  # caused by an upstream, none named
    blamed: int = 0  # unrelated, yet an upstream named
    clear: int = 0  # unrelated, none named
    confirmed: int = 0
    confirmed_right: int = 0

    def add(self, truth: int | None, predicted: int | None, status: str | None) -> None:
        if truth is None:
            self.blamed += predicted is not None
            self.clear += predicted is None
        elif predicted is None:
            self.missed += 1
        elif predicted == truth:
            self.right += 1
        else:
            self.wrong += 1
        if status == CauseStatus.CONFIRMED:
            self.confirmed += 1
            self.confirmed_right += predicted == truth

    @property
    def caused(self) -> int:
        return self.right + self.wrong + self.missed

    @property
    def unrelated(self) -> int:
        return self.blamed + self.clear

    @property
    def precision(self) -> float:
        named = self.right + self.wrong + self.blamed
        return self.right / named if named else float("nan")

    @property
    def recall(self) -> float:
        return self.right / self.caused if self.caused else float("nan")


def run(scenarios: int, seed: int, unrelated_per_service_day: float) -> dict[str, Any]:
    rng = random.Random(seed)
    overall, by_delay = Tally(), {k: Tally() for k in ("<= 20 min", "20-45 min", "> 45 min")}
    coincident_same, coincident_other = Tally(), Tally()
    kinds: Counter[str] = Counter()
    for _ in range(scenarios):
        s = scenario(rng, unrelated_per_service_day)
        kinds[s.kind] += 1
        causes = attribute(s.episodes, dependencies=s.graph, probes_down=s.probes, official=s.official, now=s.now)
        since = (s.now - T0) / MINUTE
        bucket = "<= 20 min" if since <= 20 else "20-45 min" if since <= 45 else "> 45 min"
        for oid, truth in s.truth.items():
            cause = causes.get(oid)
            predicted, status = (cause.cause_id, cause.status) if cause else (None, None)
            overall.add(truth, predicted, status)
            if s.kind == "incident":
                by_delay[bucket].add(truth, predicted, status)
            if oid in s.coincident:
                (coincident_same if oid in s.coincident_same else coincident_other).add(truth, predicted, status)
    return {
        "overall": overall,
        "by_delay": by_delay,
        "coincident_same": coincident_same,
        "coincident_other": coincident_other,
        "kinds": kinds,
    }


def _pct(value: float) -> str:
    return "-" if value != value else f"{100 * value:.1f} %"


class Command(BaseCommand):
    help = "Backtest upstream attribution: precision and recall over randomized cascades and unrelated outages."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scenarios", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, scenarios: int, seed: int, **options: Any) -> None:
        started = time.perf_counter()
        results = {rate: run(scenarios, seed, rate) for rate in RATES}
        elapsed = time.perf_counter() - started
        out = self.stdout.write
        kinds = results[RATES[0]]["kinds"]
        out(
            f"attribution backtest (seed {seed}, {scenarios} scenarios per row: {kinds['incident']} upstream "
            f"incidents, {kinds['quiet']} without; {elapsed:.1f} s)"
        )
        out("")
        out(
            "| unrelated outages per service-day | dependents' outages | caused by an upstream | precision | recall "
            "| unrelated ones given a cause | confirmed and right |"
        )
        out("|---|---|---|---|---|---|---|")
        for rate, result in results.items():
            t: Tally = result["overall"]
            confirmed = t.confirmed_right / t.confirmed if t.confirmed else float("nan")
            blamed = t.blamed / t.unrelated if t.unrelated else float("nan")
            out(
                f"| {rate:g} | {t.caused + t.unrelated} | {t.caused} | {_pct(t.precision)} | {_pct(t.recall)} | "
                f"{t.blamed} of {t.unrelated} ({_pct(blamed)}) | {_pct(confirmed)} of {t.confirmed} |"
            )
        result = results[RATES[0]]
        out("")
        out(f"at {RATES[0]:g} unrelated outages per service-day:")
        out("")
        out("| incident outages, evaluated after the upstream failed by | precision | recall |")
        out("|---|---|---|")
        for bucket, tally in result["by_delay"].items():
            out(f"| {bucket} | {_pct(tally.precision)} | {_pct(tally.recall)} |")
        same: Tally = result["coincident_same"]
        other: Tally = result["coincident_other"]
        out("")
        out(
            "unrelated outages injected inside an incident (coincident), given a cause: "
            f"{same.blamed} of {same.unrelated} of a spared dependent of the failing upstream (indistinguishable "
            f"from a cascade by timing), {other.blamed} of {other.unrelated} of services not depending on it; "
            f"caused outages blamed on the wrong upstream: {result['overall'].wrong}"
        )


# Unrelated outages per service-day: 0.1 is about three a month (a service's own outages and the
# detector's false alarms together, a pessimistic real rate); 1 is a stress test.
RATES = (0.1, 1.0)
