"""Realistic synthetic report traffic (pure: no ORM, time and randomness passed in).

A service's traffic is a Poisson process whose rate is its peak volume times
a daily curve times slowly varying noise. An injected outage adds
`(factor - 1) x` the service's normal rate, all of it to one issue type, so
`--factor 20` means the service receives 20 times its usual reports.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

MINUTE = dt.timedelta(minutes=1)

USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.1 Safari/605.1.15",
)

COMMENTS = ("", "", "", "", "Can't check out", "App keeps loading", "Order stuck", "Error 500", "Not working here")


@dataclass(frozen=True)
class SimService:
    slug: str
    volume: float  # counted reports per minute at the daily peak
    issue_types: tuple[str, ...]


@dataclass(frozen=True)
class SimOutage:
    slug: str
    issue_type: str
    start: dt.datetime
    end: dt.datetime
    factor: float

    def covers(self, at: dt.datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class SimReport:
    slug: str
    issue_type: str
    at: dt.datetime
    ip: str
    user_agent: str
    comment: str


def daily_curve(at: dt.datetime) -> float:
    """Share of the daily peak at `at` (UTC): 0.1 around 07:00, 1.0 around 19:00, a little lower at weekends."""
    hour = at.hour + at.minute / 60
    curve = 0.55 + 0.45 * math.cos(2 * math.pi * (hour - 19) / 24)
    return curve * (0.85 if at.weekday() >= 5 else 1.0)


def expected_rate(volume: float, at: dt.datetime) -> float:
    """Mean reports per minute for a service of peak `volume` at `at`, without noise or outages."""
    return volume * daily_curve(at)


def issue_weights(n: int) -> list[float]:
    """The first issue type is reported most, then less and less (Zipf-like)."""
    raw = [1 / (i + 1) for i in range(n)]
    total = sum(raw)
    return [w / total for w in raw]


def poisson(rng: random.Random, lam: float) -> int:
    if not math.isfinite(lam):
        raise ValueError(f"Poisson rate must be finite, got {lam}")
    if lam <= 0:
        return 0
    if lam > 30:
        # Normal approximation; exact sampling would cost O(lam) per draw.
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def random_public_ip(rng: random.Random) -> str:
    while True:
        address = ipaddress.IPv4Address(rng.getrandbits(32))
        if address.is_global:
            return str(address)


def noise(rng: random.Random) -> float:
    """Multiplicative noise with median 1 (log-normal, sigma 0.25)."""
    return math.exp(rng.gauss(0, 0.25))


def generate(
    services: Sequence[SimService],
    start: dt.datetime,
    end: dt.datetime,
    outages: Sequence[SimOutage],
    rng: random.Random,
) -> Iterator[SimReport]:
    """Reports for the whole minutes in [start, end), in time order."""
    minute = start.replace(second=0, microsecond=0)
    # A few percent of reports come from someone who reported recently: they
    # are stored but not counted, as in real traffic.
    recent: list[tuple[str, str]] = []
    while minute < end:
        batch: list[SimReport] = []
        for service in services:
            if not service.issue_types:
                continue
            base = expected_rate(service.volume, minute)
            weights = issue_weights(len(service.issue_types))
            for issue_type, weight in zip(service.issue_types, weights, strict=True):
                rate = base * weight * noise(rng)
                for outage in outages:
                    if outage.slug == service.slug and outage.issue_type == issue_type and outage.covers(minute):
                        rate += base * (outage.factor - 1)
                for _ in range(poisson(rng, rate)):
                    if recent and rng.random() < 0.03:
                        ip, agent = rng.choice(recent)
                    else:
                        ip, agent = random_public_ip(rng), rng.choice(USER_AGENTS)
                        recent = [*recent[-49:], (ip, agent)]
                    at = minute + dt.timedelta(seconds=rng.random() * 60)
                    batch.append(SimReport(service.slug, issue_type, at, ip, agent, rng.choice(COMMENTS)))
        yield from sorted(batch, key=lambda r: r.at)
        minute += MINUTE


# How long after its upstream fails a dependent's outage begins: its users must hit the error, give up
# retrying and report. Log-normal, median 3 minutes, cut to 1-15 (tests and the attribution benchmark).
CASCADE_LAG_MEDIAN_MINUTES = 3.0
CASCADE_LAG_SIGMA = 0.6
CASCADE_LAG_MAX_MINUTES = 15


def cascade_lag(rng: random.Random) -> dt.timedelta:
    """A dependent's delay behind its upstream, in whole minutes (1 to CASCADE_LAG_MAX_MINUTES)."""
    minutes = CASCADE_LAG_MEDIAN_MINUTES * math.exp(rng.gauss(0, CASCADE_LAG_SIGMA))
    return round(min(max(minutes, 1), CASCADE_LAG_MAX_MINUTES)) * MINUTE


def cascade(
    upstream: SimOutage, dependents: Sequence[SimService], rng: random.Random, *, share: float = 1.0
) -> list[SimOutage]:
    """The outages an upstream outage causes in its dependents (the upstream's own not included).

    Each dependent is hit with probability `share`, on its most reported issue type, starting
    after its own lag and recovering a lag after the upstream (caches and retries drain), at
    half to all of the upstream's factor (some of its users never touch the broken part).
    """
    outages = []
    for service in dependents:
        if not service.issue_types or rng.random() >= share:
            continue
        lag = cascade_lag(rng)
        factor = max(3.0, upstream.factor * rng.uniform(0.5, 1.0))
        end = upstream.end + cascade_lag(rng)
        outages.append(SimOutage(service.slug, service.issue_types[0], upstream.start + lag, end, factor))
    return outages


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> dt.timedelta:
    """'30m', '2h', '+10m', '-1d', '90s' -> timedelta (sign kept)."""
    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    body = text[1:] if text[:1] in {"+", "-"} else text
    if len(body) < 2 or body[-1] not in _DURATION_UNITS or not body[:-1].isdigit():
        raise ValueError(f"{text!r} is not a duration like 30s, 10m, 2h or 1d")
    return sign * dt.timedelta(seconds=int(body[:-1]) * _DURATION_UNITS[body[-1]])


def simulate_counts(
    volume: float,
    start: dt.datetime,
    minutes: int,
    rng: random.Random,
    *,
    spikes: Sequence[tuple[dt.datetime, dt.datetime, float]] = (),
) -> list[int]:
    """Per-minute counted reports of one service (all issue types), the same model as `generate`.

    `spikes` are (start, end, factor): the rate is multiplied by `factor`
    inside [start, end). Used by the detection benchmark, where millions of
    individual reports would be slow and add nothing.
    """
    counts = []
    for i in range(minutes):
        at = start + i * MINUTE
        rate = expected_rate(volume, at) * noise(rng)
        for s_start, s_end, factor in spikes:
            if s_start <= at < s_end:
                rate += expected_rate(volume, at) * (factor - 1)
        counts.append(poisson(rng, rate))
    return counts
