"""Spike detection over report counts (pure: plain values in, `now` implied by the rows).

One online `Detector` per series (a service's total, or one issue type)
sees one row per interval, in time order, and says how many reports it
expected and how surprising the recent rows are. The same code runs live
(one row per closed minute, state kept in the database), in the backtest
(rows from a CSV) and in tests.

The baseline
    The expected count of a row is `level x shape`:
    - `level`, the recent mean count per row, an exponentially weighted
      average with a half-life of days, so growth is followed;
    - `shape`, the time-of-day factor of the row's slot (15 minutes, or the
      row interval if longer), weekday and weekend apart, weighted over weeks.
    Each estimate is a gamma-Poisson posterior mean shrunk toward the level
    above it (slot toward all-day, weekday/weekend toward all-days slot,
    level toward a prior rate), so a sparse or young series gets a flat,
    cautious profile and a busy, old one its own curve: no alarm on a new
    service's second report, no blindness for weeks. How far weekdays and
    weekends are pulled together is estimated from the series (empirical
    Bayes: the between-kind variance of the slot rates against their
    sampling noise), so a marked week is learned and a week-blind series
    keeps one curve.
    Rows at an elevated level teach the baseline only a twentieth of their
    weight (a surge must not become normal) unless the elevation lasts so
    long it has to be the new normal, or recurs at the same time of the same
    kind of day within days (a pattern: Saturday nights, a daily rush), and
    every row is winsorised at four standard deviations above its
    expectation before it is learned, so the estimates are robust like a
    trimmed mean, not plain means. A silence that cannot be chance (a busy
    series' 30-minute window empty) is a broken feed and teaches nothing.

The test
    Over several trailing windows (1 to 30 minutes) the observed sum is
    compared with the expected sum under a negative binomial whose
    dispersion is estimated from the series' own quiet history (Poisson
    when the data are; windows as far below as an elevation is above are
    left out, so a holiday does not blunt the test), giving a tail
    probability. A window counts only
    with enough distinct reporters and a large enough ratio to the
    expectation, so a large service's statistically significant 5 % rise is
    not an outage. Levels: POSSIBLE at p < p_possible, OUTAGE at
    p < p_outage.

The verdict (Tracker)
    A row's OUTAGE level is statistics, not yet an outage. Crowd counts
    alone open one only when overwhelming: at OUTAGE level, with the
    elevated stretch's excess reports (in minutes of normal traffic) at
    least the largest such surge the series had lately that nothing
    confirmed, and never under surge_floor_minutes. On bursty series
    (social chatter, news) the tail test is easily passed by spikes that
    are not outages, and the series' own history of such spikes is the
    honest measure of "far more than usual". Anything less shows as
    "possible".
    A probe down, or the official status page at degraded or worse
    (`Corroboration`), confirms an elevation to an outage.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from scipy.special import betainc, gammainc, gammaincc

OK, POSSIBLE, OUTAGE = "ok", "possible", "outage"
_RANK = {OK: 0, POSSIBLE: 1, OUTAGE: 2}
_LN2 = math.log(2)


@dataclass(frozen=True)
class Params:
    """Detector settings. Defaults measured with `make bench` (see README)."""

    slot_minutes: int = 15
    windows_minutes: tuple[int, ...] = (1, 2, 3, 5, 10, 15, 30)
    # Tail probabilities (several windows are tested each row: these are per window).
    p_possible: float = 1e-4
    p_outage: float = 1e-6
    # Crowd-only outages ("overwhelming" crowd evidence, nothing else confirming).
    # The size of a surge is its excess reports over the whole elevated stretch
    # in minutes of the series' normal traffic (sum of (count - expected) /
    # expected-per-minute): x10 for 5 minutes is 45, x90 for one 5-minute row
    # 445, x2 for an hour 60. It is overwhelming when it reaches the largest
    # unconfirmed surge this series had lately (x burst_margin), remembered with
    # a burst_memory_days half-life, and never less than surge_floor_minutes
    # (on a quiet series x10 reaches it in 5 minutes, x5 in 11, x3 in 23). A series whose
    # chatter makes 400-minute surges needs a bigger one before the crowd alone
    # says outage; everything smaller is shown as "possible".
    surge_floor_minutes: float = 45.0
    burst_margin: float = 1.0
    burst_memory_days: float = 7.0
    # Distinct reporters (counted reports) a window needs; ratio to the expectation.
    min_reporters_possible: int = 3
    min_reporters_outage: int = 5
    ratio_possible: float = 1.5
    ratio_outage: float = 2.0
    # Back to normal: short windows (<= this) quiet for resolve_minutes.
    quiet_window_minutes: int = 5
    resolve_minutes: int = 15
    reopen_minutes: int = 30
    # Baseline.
    prior_rate_per_minute: float = 0.02
    prior_minutes: float = 240.0
    level_half_life_hours: float = 72.0
    shape_half_life_days: float = 14.0
    neighbourhood_prior_days: float = 3.0
    slot_prior_days: float = 2.0
    kind_prior_days: float = 7.0
    elevated_weight: float = 0.05
    # An elevation at a time of day that was elevated on the same kind of day
    # within this many days too recurs: a pattern to learn, not an outage.
    recur_days: float = 8.0
    winsor_sd: float = 4.0
    accept_elevated_after_hours: float = 6.0
    warmup_minutes: float = 60.0
    # Dispersion (negative-binomial 1/size) prior and its weight.
    dispersion_prior: float = 0.05
    dispersion_prior_weight: float = 20.0
    max_dispersion: float = 2.0


@dataclass
class Step:
    """The detector's view after one row."""

    at: dt.datetime
    count: int
    expected: float  # expected count of this row
    dispersion: float  # NB 1/size for one row
    level: str  # OK, POSSIBLE or OUTAGE, from this row's evidence alone
    p_value: float  # smallest tail probability over the windows
    window_minutes: float  # the window that gave it
    window_count: int
    window_expected: float
    quiet: bool  # short windows near the baseline (for resolving)
    short_level: str = OK  # the level from the short windows alone: fresh evidence
    warm: bool = True  # past the warm-up: the baseline means something


def nb_sf(x: float, mean: float, dispersion: float) -> float:
    """P(X >= x) for a negative binomial with this mean and 1/size (Poisson when 0)."""
    if x <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    if dispersion <= 1e-9:
        return float(gammainc(x, mean))
    size = 1.0 / dispersion
    return float(betainc(x, size, mean / (mean + size)))


def nb_cdf(x: float, mean: float, dispersion: float) -> float:
    """P(X <= x) for a negative binomial with this mean and 1/size (Poisson when 0)."""
    if x < 0:
        return 0.0
    if mean <= 0:
        return 1.0
    if dispersion <= 1e-9:
        return float(gammaincc(x + 1, mean))
    size = 1.0 / dispersion
    return float(betainc(size, x + 1, size / (mean + size)))


def _zero_probability(mean: float, dispersion: float) -> float:
    """P(X = 0) for a negative binomial with this mean and 1/size (Poisson when 0)."""
    if dispersion <= 1e-9:
        return math.exp(-mean)
    return math.exp(-math.log1p(dispersion * mean) / dispersion)


def _pack(grid: np.ndarray, dtype: str) -> str:
    """A 3-row grid of numbers as base64 of their little-endian bytes (`dtype`, e.g. "<f8").

    Exact like JSON numbers (float64 either way), at a fraction of their size and of the
    cost to write and read, in Python and in PostgreSQL's jsonb: a detector's state is
    mostly these grids, and the tick loads and saves it every minute.
    """
    return base64.b64encode(np.ascontiguousarray(grid, dtype=dtype).tobytes()).decode("ascii")


def _unpack(value: str | list[list[float]], dtype: str) -> list[list[float]]:
    """A grid saved by `_pack`, or as nested lists (states saved before); [] when it is not 3 rows."""
    if not isinstance(value, str):
        return value
    flat = np.frombuffer(base64.b64decode(value), dtype=dtype)
    rows: list[list[float]] = flat.reshape(3, -1).tolist() if flat.size % 3 == 0 else []
    return rows


@dataclass
class Detector:
    """Online detector for one count series with a fixed row interval.

    The learned sums are exponentially decayed. Rather than multiplying every
    stored sum by the decay on every row (hundreds of slots, each row), new
    weights are added scaled up by `growth` (e^(rate x time since an epoch)),
    and a stored value divided by the current growth is its decayed value:
    one multiplication per read, nothing per idle slot.
    """

    interval_minutes: float
    params: Params = field(default_factory=Params)
    # Learned state (all JSON-serialisable through to_state/from_state).
    last_at: dt.datetime | None = None
    seen_minutes: float = 0.0
    level_sum: float = 0.0
    level_n: float = 0.0
    recent: deque[tuple[int, float]] = field(default_factory=deque)
    elevated_minutes: float = 0.0
    elevated_ratio: float = 0.0  # mean of count/expected over the current elevated stretch
    silent_minutes: float = 0.0  # how long the longest window has been implausibly empty

    def __post_init__(self) -> None:
        p = self.params
        self.slot_minutes = max(p.slot_minutes, self.interval_minutes)
        self.slots = max(1, round(1440 / self.slot_minutes))
        # Windows in rows; coarse series (5-minute, hourly) still get 1-3 row windows.
        self.windows = sorted({max(1, round(w / self.interval_minutes)) for w in p.windows_minutes} | {1, 2, 3})
        quiet_limit = max(p.quiet_window_minutes, self.interval_minutes)
        self.quiet_windows = [w for w in self.windows if w * self.interval_minutes <= quiet_limit]
        self._quiet_count = len(self.quiet_windows)
        self._shape_rate = _LN2 / (p.shape_half_life_days * 1440)
        self._level_rate = _LN2 / (p.level_half_life_hours * 60)
        # Scaled storage (see the class docstring): [kind][slot], kind 0 = all days.
        self._sum = [[0.0] * self.slots for _ in range(3)]
        self._n = [[0.0] * self.slots for _ in range(3)]
        self._total_sum = 0.0  # sum over slots of _sum[0], _n[0]: the all-day mean
        self._total_n = 0.0
        self._disp_a = [0.0] * len(self.windows)
        self._disp_b = [0.0] * len(self.windows)
        self._elevated_day = [[-1] * self.slots for _ in range(3)]  # last day (ordinal) elevated, per kind and slot
        self._kind_spread = (-1, 0.0)  # (day it was estimated on, its value): see _kind_variance
        self._elapsed = 0.0  # minutes since the epoch, when growth was 1
        self._growth = 1.0
        self.recent = deque(self.recent, maxlen=self.windows[-1])

    # Decayed views of the learned sums (numpy arrays, as saved).
    @property
    def shape_sum(self) -> np.ndarray:
        return np.array(self._sum) / self._growth

    @property
    def shape_n(self) -> np.ndarray:
        return np.array(self._n) / self._growth

    @property
    def disp_a(self) -> np.ndarray:
        return np.array(self._disp_a) / self._growth

    @property
    def disp_b(self) -> np.ndarray:
        return np.array(self._disp_b) / self._growth

    # --- baseline ---------------------------------------------------------

    def _slot(self, at: dt.datetime) -> tuple[int, int]:
        minute_of_day = at.hour * 60 + at.minute
        kind = 2 if at.weekday() >= 5 else 1
        return kind, min(self.slots - 1, int(minute_of_day // self.slot_minutes))

    def expected_at(self, at: dt.datetime) -> float:
        """Expected count of the row starting at `at`."""
        p = self.params
        shrink = 1.0 / self._growth  # stored sums x shrink = decayed sums
        prior = p.prior_rate_per_minute * self.interval_minutes
        prior_rows = p.prior_minutes / self.interval_minutes
        level = (self.level_sum + prior_rows * prior) / (self.level_n + prior_rows)
        season_mean = (self._total_sum * shrink + prior_rows * prior) / (self._total_n * shrink + prior_rows)
        rows_per_slot_day = self.slot_minutes / self.interval_minutes
        kind, slot = self._slot(at)
        # The slot's neighbourhood (a smooth daily curve), shrunk toward the
        # overall mean; then the slot itself, shrunk toward its neighbourhood.
        all_sum, all_n, slots = self._sum[0], self._n[0], self.slots
        near_sum = near_n = 0.0
        for d, w in ((-2, 1.0), (-1, 2.0), (0, 3.0), (1, 2.0), (2, 1.0)):
            j = (slot + d) % slots
            near_sum += w * all_sum[j]
            near_n += w * all_n[j]
        k_near = p.neighbourhood_prior_days * rows_per_slot_day
        neighbourhood = (near_sum * shrink + k_near * season_mean) / (near_n * shrink + k_near)
        k_slot = p.slot_prior_days * rows_per_slot_day
        all_days = (all_sum[slot] * shrink + k_slot * neighbourhood) / (all_n[slot] * shrink + k_slot)
        # Empirical Bayes: all days are worth (row variance) / (variance of the
        # kinds' true rates around all days) rows of the kind's own, both
        # relative to the rate. A busy series with a marked week (taxis at night
        # on weekends) learns its weekend from its weekends; a sparse or
        # week-blind one leans on all days as before (never more than the fixed prior).
        row_dispersion = self._row_dispersion()
        k_kind = p.kind_prior_days * rows_per_slot_day
        spread = self._kind_variance(at, row_dispersion)
        if spread > 0:
            k_kind = min(k_kind, (1 / max(all_days, 1e-9) + row_dispersion) / spread)
        this_kind = (self._sum[kind][slot] * shrink + k_kind * all_days) / (self._n[kind][slot] * shrink + k_kind)
        shape = this_kind / season_mean if season_mean > 0 else 1.0
        return max(level * shape, 1e-6)

    def _kind_variance(self, at: dt.datetime, row_dispersion: float) -> float:
        """Between-kind variance of slot rates relative to all days (method of moments, once a day).

        Each slot's weekday (weekend) mean over its all-days mean, less one,
        squared, less the sampling variance of that difference, averaged with
        the kind's rows as weights: what is left is the true week effect.
        """
        day = at.toordinal()
        if self._kind_spread[0] == day:
            return self._kind_spread[1]
        shrink = 1.0 / self._growth
        total = weight = 0.0
        all_sum, all_n = self._sum[0], self._n[0]
        for kind in (1, 2):
            kind_sum, kind_n = self._sum[kind], self._n[kind]
            for j in range(self.slots):
                n, n_all = kind_n[j] * shrink, all_n[j] * shrink
                if n < 1 or kind_sum[j] <= 0 or all_sum[j] <= 0:
                    continue
                mean_all = all_sum[j] / all_n[j]
                ratio = (kind_sum[j] / kind_n[j]) / mean_all - 1
                sampling = (1 / mean_all + row_dispersion) / n * max(0.0, 1 - n / n_all)
                total += n * (ratio * ratio - sampling)
                weight += n
        spread = max(0.0, total / weight) if weight else 0.0
        self._kind_spread = (day, spread)
        return spread

    def _row_dispersion(self) -> float:
        p = self.params
        shrink = 1.0 / self._growth
        d = (self._disp_a[0] * shrink + p.dispersion_prior * p.dispersion_prior_weight) / (
            self._disp_b[0] * shrink + p.dispersion_prior_weight
        )
        return min(max(d, 0.0), p.max_dispersion)

    def _dispersions(self) -> list[float]:
        p = self.params
        shrink, a, b = 1.0 / self._growth, self._disp_a, self._disp_b
        prior = p.dispersion_prior * p.dispersion_prior_weight
        out = []
        for i in range(len(a)):
            d = (a[i] * shrink + prior) / (b[i] * shrink + p.dispersion_prior_weight)
            out.append(min(max(d, 0.0), p.max_dispersion))
        return out

    def _advance(self, at: dt.datetime) -> None:
        """Move the decay clock to `at` (the level decays explicitly, the sums by growth)."""
        if self.last_at is None:
            return
        gap = max(0.0, (at - self.last_at).total_seconds() / 60)
        if gap:
            level_decay = math.exp(-self._level_rate * gap)
            self.level_sum *= level_decay
            self.level_n *= level_decay
            self._elapsed += gap
            self._growth = math.exp(self._shape_rate * self._elapsed)
            if self._growth > 1e12:  # renormalise long before floats lose anything
                self._rescale(1.0 / self._growth)

    def _rescale(self, factor: float) -> None:
        for rows in (self._sum, self._n):
            for row in rows:
                for j in range(len(row)):
                    row[j] *= factor
        self._total_sum *= factor
        self._total_n *= factor
        self._disp_a = [x * factor for x in self._disp_a]
        self._disp_b = [x * factor for x in self._disp_b]
        self._elapsed, self._growth = 0.0, 1.0

    def _recurs(self, at: dt.datetime) -> bool:
        """Whether this elevated row's slot was elevated on an earlier day of its kind, lately (and record it)."""
        kind, slot = self._slot(at)
        day = at.toordinal()
        last = self._elevated_day[kind][slot]
        self._elevated_day[kind][slot] = day
        return last >= 0 and 1 <= day - last <= self.params.recur_days

    def _learn(self, at: dt.datetime, count: float, weight: float) -> None:
        self.level_sum += weight * count
        self.level_n += weight
        kind, slot = self._slot(at)
        g = self._growth
        for k in (0, kind):
            self._sum[k][slot] += weight * count * g
            self._n[k][slot] += weight * g
        self._total_sum += weight * count * g
        self._total_n += weight * g

    # --- one row ----------------------------------------------------------

    def update(self, at: dt.datetime, count: int) -> Step:
        """Take the row starting at `at` with `count` reports; return the verdict on it."""
        p = self.params
        count = int(count)
        expected = self.expected_at(at)
        self.recent.append((count, expected))
        dispersions = self._dispersions()

        best_p, best_w, best_x, best_m = 1.0, self.interval_minutes, 0, expected
        level = short_level = OK
        recent = self.recent
        n_recent = len(recent)
        sums: list[tuple[int, float]] = []
        x = 0
        m = 0.0
        covered = 0
        for i, w in enumerate(self.windows):
            if w > n_recent:
                break
            for j in range(covered, w):  # extend the running sums from the newest row back
                c, e = recent[n_recent - 1 - j]
                x += c
                m += e
            covered = w
            sums.append((x, m))
            if x < p.min_reporters_possible or x < p.ratio_possible * m:
                continue
            pv = nb_sf(x, m, dispersions[i])
            if pv < best_p:
                best_p, best_w, best_x, best_m = pv, w * self.interval_minutes, x, m
            if pv < p.p_outage and x >= p.min_reporters_outage and x >= p.ratio_outage * m:
                here = OUTAGE
            elif pv < p.p_possible:
                here = POSSIBLE
            else:
                continue
            if _RANK[here] > _RANK[level]:
                level = here
            if i < self._quiet_count and _RANK[here] > _RANK[short_level]:
                short_level = here
        warm = self.seen_minutes >= max(p.warmup_minutes, 12 * self.interval_minutes)
        if not warm:
            level = POSSIBLE if level == OUTAGE else level
            short_level = POSSIBLE if short_level == OUTAGE else short_level

        # Learn: quiet history teaches the dispersion; elevated rows barely teach the baseline.
        elevated = level != OK
        step_minutes = self.interval_minutes
        if elevated:
            self.elevated_minutes += step_minutes
            self.elevated_ratio = (
                self.elevated_ratio * (self.elevated_minutes - step_minutes) + step_minutes * count / expected
            ) / self.elevated_minutes
        else:
            self.elevated_minutes = self.elevated_ratio = 0.0
        accept_after = p.accept_elevated_after_hours * 60
        accept = not warm or self.elevated_minutes >= accept_after
        self._advance(at)
        if accept and warm and elevated and self.elevated_minutes - step_minutes < accept_after:
            # Elevated for hours: this is the new normal (a level shift, not an
            # outage). Move the level to what those hours averaged at once
            # rather than over days of half-lives.
            self.level_sum *= self.elevated_ratio
        # Silence where reports cannot all stop by chance (a busy service's
        # longest window empty) is missing data, a broken feed: it teaches
        # nothing, unless it lasts as long as a level shift takes.
        x_long, m_long = sums[-1]
        silent = x_long == 0 and _zero_probability(m_long, dispersions[len(sums) - 1]) < p.p_possible
        self.silent_minutes = self.silent_minutes + step_minutes if silent else 0.0
        if not silent or self.silent_minutes >= accept_after:
            # An elevation that recurs (same time of day, same kind of day, within
            # recur_days) is a pattern, like one that lasts: learned in full.
            recurs = elevated and not accept and self._recurs(at)
            weight = p.elevated_weight if elevated and not accept and not recurs else 1.0
            # Winsorised: a row far above its expectation teaches at most the
            # edge of the quiet range, so an unflagged outlier cannot drag the
            # baseline (the robustness of a trimmed mean, in an online estimate).
            spread = math.sqrt(expected + dispersions[0] * expected * expected)
            learned = count if accept or recurs else min(count, expected + p.winsor_sd * spread + 2)
            self._learn(at, learned, weight)
        if not elevated and not silent:
            g = self._growth
            for i, (x, m) in enumerate(sums):
                if (
                    (m - x) ** 2 > 2.25 * (m + dispersions[i] * m * m)
                    and x < m
                    and nb_cdf(x, m, dispersions[i]) < p.p_possible
                ):
                    # A drop as unlikely as an elevation (a holiday, a lull, a feed's
                    # hiccup) is left out as elevated windows are: the dispersion is
                    # the spread of ordinary rows, or one quiet day would blunt the
                    # (upper) test for weeks. The 1.5 sd check only spares the tail call.
                    continue
                self._disp_a[i] += ((x - m) ** 2 - m) * g
                self._disp_b[i] += m * m * g
        self.last_at = at
        self.seen_minutes += step_minutes
        return Step(
            at=at,
            count=count,
            expected=expected,
            dispersion=dispersions[0],
            level=level,
            p_value=best_p,
            window_minutes=best_w,
            window_count=best_x,
            window_expected=best_m,
            quiet=short_level == OK,
            short_level=short_level,
            warm=warm,
        )

    # --- persistence ------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        return {
            "interval_minutes": self.interval_minutes,
            "last_at": self.last_at.isoformat() if self.last_at else None,
            "seen_minutes": self.seen_minutes,
            "level_sum": self.level_sum,
            "level_n": self.level_n,
            "shape_sum": _pack(self.shape_sum, "<f8"),
            "shape_n": _pack(self.shape_n, "<f8"),
            "disp_a": self.disp_a.tolist(),
            "disp_b": self.disp_b.tolist(),
            "recent": list(self.recent),
            "elevated_minutes": self.elevated_minutes,
            "elevated_ratio": self.elevated_ratio,
            "elevated_day": _pack(np.array(self._elevated_day), "<i4"),
            "kind_spread": list(self._kind_spread),
            "silent_minutes": self.silent_minutes,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], params: Params | None = None) -> Detector:
        detector = cls(interval_minutes=state["interval_minutes"], params=params or Params())
        shape_sum, shape_n = _unpack(state["shape_sum"], "<f8"), _unpack(state["shape_n"], "<f8")
        if (len(shape_sum), len(shape_sum[0]) if shape_sum else 0) != (3, detector.slots) or len(
            detector.windows
        ) != len(state["disp_a"]):
            return detector  # Settings changed the layout: start learning afresh.
        detector.last_at = dt.datetime.fromisoformat(state["last_at"]) if state["last_at"] else None
        detector.seen_minutes = state["seen_minutes"]
        detector.level_sum, detector.level_n = state["level_sum"], state["level_n"]
        detector._sum = [[float(v) for v in row] for row in shape_sum]
        detector._n = [[float(v) for v in row] for row in shape_n]
        detector._total_sum, detector._total_n = sum(detector._sum[0]), sum(detector._n[0])
        detector._disp_a = [float(v) for v in state["disp_a"]]
        detector._disp_b = [float(v) for v in state["disp_b"]]
        detector.recent = deque((tuple(r) for r in state["recent"]), maxlen=detector.windows[-1])
        detector.elevated_minutes = state["elevated_minutes"]
        detector.elevated_ratio = state.get("elevated_ratio", 0.0)
        detector.silent_minutes = state.get("silent_minutes", 0.0)
        elevated_day = _unpack(state.get("elevated_day", []), "<i4")
        if len(elevated_day) == 3 and len(elevated_day[0]) == detector.slots:
            detector._elevated_day = [[int(d) for d in row] for row in elevated_day]
        if "kind_spread" in state:  # else estimated afresh on the next row
            day, spread = state["kind_spread"]
            detector._kind_spread = (int(day), float(spread))
        return detector


# --- outages from steps -----------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """Something that happened to the outage at a row: opened, reopened, level, peak, resolved."""

    kind: str  # "opened", "reopened", "level_changed", "peak", "resolved"
    at: dt.datetime
    data: dict[str, Any]


def _numbers(step: Step) -> dict[str, Any]:
    """The evidence a transition records (built only when something happens: it is not cheap)."""
    return {
        "actual": step.window_count,
        "expected": round(step.window_expected, 3),
        "window_minutes": step.window_minutes,
        "p_value": step.p_value,
        "count": step.count,
        "expected_row": round(step.expected, 3),
    }


# Official status-page levels that confirm a crowd signal (the scale of the
# `statuspages` app: operational, maintenance, degraded, partial_outage,
# major_outage, unknown). Maintenance is announced work, unknown is no evidence.
OFFICIAL_CONFIRMING = frozenset({"degraded", "partial_outage", "major_outage"})


@dataclass(frozen=True)
class Corroboration:
    """Evidence from outside the crowd at one row: our probes, the service's official status page."""

    probe_down: bool = False
    official_level: str | None = None  # None or "unknown" (or a stale page): no evidence

    @property
    def official_down(self) -> bool:
        return self.official_level in OFFICIAL_CONFIRMING

    @property
    def confirms(self) -> bool:
        return self.probe_down or self.official_down

    @property
    def source(self) -> str:
        """What to credit an outage this opened to ("probes" first: our own measurement)."""
        return "probes" if self.probe_down else "official" if self.official_down else "reports"


NO_CORROBORATION = Corroboration()


@dataclass
class Tracker:
    """Opens, escalates and resolves one series' outage from its steps and outside evidence.

    The crowd alone opens an outage only when it is overwhelming: an OUTAGE-level
    row whose stretch's surge (excess reports in minutes of normal traffic)
    reaches the largest unconfirmed surge the series had lately (its own
    burstiness: a chatter-prone series needs more) and surge_floor_minutes. Anything less stays
    "possible" unless a probe is down or the official status page says
    degraded or worse, which confirms it (and, on their own, open an outage).
    Resolving needs `resolve_minutes` of quiet rows and no probe down; a new
    trigger within `reopen_minutes` of resolving, or in the same elevated
    stretch however late, reopens the same outage.
    """

    params: Params = field(default_factory=Params)
    open: bool = False
    level: str = OK
    started_at: dt.datetime | None = None
    rising_since: dt.datetime | None = None
    quiet_since: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    peak_at: dt.datetime | None = None
    peak_count: int = 0
    peak_expected: float = 0.0
    previous_level: str = OK
    pending_level: str = OK
    pending_rows: int = 0
    # The current elevated stretch and the series' burst memory (see burst_bar).
    outage_rows: int = 0  # consecutive rows at OUTAGE level (where a crowd outage began)
    surge: float = 0.0  # the stretch's excess reports so far, in minutes of normal traffic
    episode_peak: float = 0.0  # the stretch's surge, once it reached OUTAGE level (else 0: not remembered)
    episode_confirmed: bool = False  # the stretch had outside evidence: it teaches nothing about chatter
    stretch_opened: bool = False  # an outage opened during the current elevated stretch
    burst_peak: float = 0.0  # largest unconfirmed surge (minutes of normal traffic) lately, as of burst_at
    burst_at: dt.datetime | None = None

    def burst_bar(self, at: dt.datetime) -> float:
        """The surge (minutes of normal traffic) the crowd alone must reach at `at` to be overwhelming.

        The remembered surge decays toward surge_floor_minutes with
        burst_memory_days as half-life, so a series that calmed down is
        trusted again.
        """
        p = self.params
        floor = p.surge_floor_minutes
        if self.burst_at is None or self.burst_peak <= floor:
            return floor
        age_days = max(0.0, (at - self.burst_at).total_seconds() / 86400)
        remembered = floor + (self.burst_peak - floor) * math.exp(-_LN2 * age_days / p.burst_memory_days)
        return max(floor, p.burst_margin * remembered)

    def _overwhelming(self, step: Step, level: str) -> bool:
        return level == OUTAGE and self.surge >= self.burst_bar(step.at)

    def _remember(self, step: Step, corroboration: Corroboration, interval_minutes: float) -> None:
        """The stretch's surge and the burst memory, before the verdict on this row."""
        self.outage_rows = self.outage_rows + 1 if step.level == OUTAGE else 0
        if step.level != OK:
            if step.warm:  # before the warm-up the expectation is a prior: no measure of size
                excess = max(0.0, step.count - step.expected) / max(step.expected, 1e-9)
                self.surge += excess * interval_minutes
            if (step.level == OUTAGE and step.warm) or self.episode_peak > 0:
                # Remembered are stretches that reached OUTAGE level: ones the crowd
                # alone could have called an outage, whether it did or not.
                self.episode_peak = self.surge
            self.episode_confirmed = self.episode_confirmed or corroboration.confirms
        else:
            if self.episode_peak > 0 and not self.episode_confirmed:
                # An elevated stretch ended and nothing outside the crowd confirmed it:
                # its size is how big this series' chatter gets, and the bar the next
                # one must clear (if it beats what is remembered, decayed).
                bar = self.burst_bar(step.at) / self.params.burst_margin
                if self.episode_peak >= bar:
                    self.burst_peak, self.burst_at = self.episode_peak, step.at
            self.surge, self.episode_peak, self.episode_confirmed = 0.0, 0.0, False
            self.stretch_opened = False

    def update(
        self,
        step: Step,
        *,
        probe_down: bool = False,
        corroboration: Corroboration | None = None,
        interval_minutes: float = 1.0,
    ) -> list[Transition]:
        """Fold one row's step (and outside evidence at that row) in; return what happened to the outage."""
        p = self.params
        evidence = corroboration or NO_CORROBORATION
        if probe_down and not evidence.probe_down:
            evidence = Corroboration(probe_down=True, official_level=evidence.official_level)
        out: list[Transition] = []
        elevated = step.level != OK
        self._remember(step, evidence, interval_minutes)
        if not self.open:
            if elevated and self.rising_since is None:
                self.rising_since = step.at
            # A new trigger soon after resolving, or anywhere in the same elevated stretch
            # (the counts never got back to normal), is the same outage coming back.
            reopen = self.resolved_at is not None and (
                step.at - self.resolved_at <= dt.timedelta(minutes=p.reopen_minutes) or self.stretch_opened
            )
            # Just after resolving, long windows still remember the spike: only
            # fresh (short-window) evidence may reopen.
            level = step.short_level if reopen else step.level
            by_reports = self._overwhelming(step, level)
            # Probes down by quorum open an outage on their own; an official page only confirms
            # an elevation: pages sit at "degraded" for days, and alone they would open, resolve
            # and reopen an outage every quarter hour.
            if by_reports or evidence.probe_down or (evidence.official_down and elevated):
                self.open, self.quiet_since = True, None
                # Outside evidence confirms any crowd elevation to an outage.
                self.level = OUTAGE if by_reports or level != OK else OK
                # The crowd's outage started where its OUTAGE-level rows began (the alert,
                # at step.at, comes once the surge is big enough); outside evidence starts it now.
                begun = step.at - dt.timedelta(minutes=interval_minutes * (self.outage_rows - 1))
                start = begun if by_reports else step.at
                if not reopen:
                    self.started_at, self.peak_count, self.peak_at, self.peak_expected = start, 0, None, 0.0
                self.stretch_opened = step.level != OK
                data = _numbers(step) | {
                    "by": "reports" if by_reports else evidence.source,
                    "level": self.level,
                    "started_at": start.isoformat(),
                }
                if self.rising_since and self.rising_since < start and not reopen:
                    data["rising_since"] = self.rising_since.isoformat()
                out.append(Transition("reopened" if reopen else "opened", step.at, data))
            elif not elevated:
                self.rising_since = None
        else:
            # Level while open, damped: a change must hold for 3 rows. Confirmed
            # crowd evidence counts as OUTAGE.
            confirmed = elevated and evidence.confirms
            shown = OUTAGE if step.level == OUTAGE or confirmed else POSSIBLE if elevated else self.level
            if shown != self.level:
                self.pending_rows = self.pending_rows + 1 if shown == self.pending_level else 1
                self.pending_level = shown
                if self.pending_rows >= 3:
                    out.append(Transition("level_changed", step.at, _numbers(step) | {"from": self.level, "to": shown}))
                    self.level, self.pending_rows = shown, 0
            else:
                self.pending_rows = 0
            if step.quiet and not evidence.probe_down:
                self.quiet_since = self.quiet_since or step.at
                if step.at + dt.timedelta(minutes=interval_minutes) - self.quiet_since >= dt.timedelta(
                    minutes=p.resolve_minutes
                ):
                    out.append(
                        Transition(
                            "resolved", step.at, _numbers(step) | {"back_to_normal_at": self.quiet_since.isoformat()}
                        )
                    )
                    self.open, self.resolved_at, self.rising_since = False, step.at, None
                    self.level, self.quiet_since = OK, None
            else:
                self.quiet_since = None
        if self.open and step.count > self.peak_count:
            self.peak_at, self.peak_count, self.peak_expected = step.at, step.count, step.expected
            out.append(Transition("peak", step.at, {"count": step.count, "expected": round(step.expected, 3)}))
        self.previous_level = step.level
        return out

    _TIMES = ("started_at", "rising_since", "quiet_since", "resolved_at", "peak_at", "burst_at")

    def to_state(self) -> dict[str, Any]:
        # Every field is a plain value: read them directly (asdict deep-copies, Params included).
        state = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "params"}
        for key in self._TIMES:
            state[key] = state[key].isoformat() if state[key] else None
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any], params: Params | None = None) -> Tracker:
        """A tracker from its saved state; fields a state saved by an older version lacks start at their defaults."""
        known = {f.name for f in fields(cls)} - {"params"}
        values = {k: v for k, v in state.items() if k in known}
        for key in cls._TIMES:
            values[key] = dt.datetime.fromisoformat(values[key]) if values.get(key) else None
        return cls(params=params or Params(), **values)


# --- whole series (backtest, bench) -------------------------------------------


def shown_level(step: Step, tracker: Tracker) -> str:
    """The status people see: OUTAGE exactly while an outage is open, else at most POSSIBLE.

    Just after an outage resolves the long windows still remember it, so
    only the short windows speak then.
    """
    if tracker.open:
        return tracker.level if tracker.level != OK else OUTAGE  # opened by probes with the crowd quiet
    recent = tracker.resolved_at is not None and step.at - tracker.resolved_at <= dt.timedelta(
        minutes=tracker.params.reopen_minutes
    )
    evidence = step.short_level if recent else step.level
    return OK if evidence == OK else POSSIBLE


@dataclass
class DetectedOutage:
    start: dt.datetime
    end: dt.datetime | None
    peak: dt.datetime | None
    peak_count: int
    level: str


@dataclass
class SeriesResult:
    """What the product would have done over a series.

    `alerts`: the times outages opened (what users are notified of);
    `outages`: those outages; `possible`: stretches shown as "possible
    problems" that never became an outage (no notification).
    """

    alerts: list[dt.datetime]
    outages: list[DetectedOutage]
    steps: list[Step]
    possible: list[DetectedOutage] = field(default_factory=list)


def infer_interval(times: list[dt.datetime]) -> float:
    """Row interval in minutes: the most common spacing (gaps and duplicates aside)."""
    if len(times) < 2:
        return 1.0
    spacings = [(b - a).total_seconds() / 60 for a, b in itertools.pairwise(times) if b > a]
    if not spacings:
        return 1.0
    values, counts = np.unique(np.round(spacings, 6), return_counts=True)
    return float(values[int(np.argmax(counts))])


def detect_series(
    times: list[dt.datetime],
    values: Sequence[float],
    params: Params | None = None,
    interval_minutes: float | None = None,
    corroboration: Sequence[Corroboration] | None = None,
) -> SeriesResult:
    """Run the detector causally over a whole series: each row sees only the rows up to it.

    `times` are row starts at a fixed interval (see `regular_rows` for
    anything else); `corroboration`, one per row, is outside evidence.
    """
    params = params or Params()
    interval = interval_minutes or infer_interval(times)
    detector, tracker = Detector(interval, params), Tracker(params)
    alerts: list[dt.datetime] = []
    outages: list[DetectedOutage] = []
    possible: list[DetectedOutage] = []
    steps: list[Step] = []
    current: DetectedOutage | None = None
    maybe: DetectedOutage | None = None
    step_length = dt.timedelta(minutes=interval)
    for i, (at, value) in enumerate(zip(times, values, strict=True)):
        count = max(0, round(value)) if math.isfinite(value) else 0
        step = detector.update(at, count)
        steps.append(step)
        evidence = corroboration[i] if corroboration is not None else None
        for t in tracker.update(step, corroboration=evidence, interval_minutes=interval):
            if t.kind == "opened":
                alerts.append(t.at)
                start = dt.datetime.fromisoformat(t.data["started_at"])
                current = DetectedOutage(start, None, t.at, step.count, OUTAGE)
                outages.append(current)
            elif t.kind == "reopened" and outages:
                current = outages[-1]
                current.end = None
            elif t.kind == "resolved" and current is not None:
                current.end = dt.datetime.fromisoformat(t.data["back_to_normal_at"])
                current = None
            elif t.kind == "peak" and current is not None:
                current.peak, current.peak_count = t.at, t.data["count"]
        # "Possible" stretches: shown as possible, never an open outage.
        if shown_level(step, tracker) == POSSIBLE and not tracker.open:
            if maybe is None:
                maybe = DetectedOutage(at, None, at, step.count, POSSIBLE)
            elif step.count > maybe.peak_count:
                maybe.peak, maybe.peak_count = at, step.count
            maybe.end = at + step_length
        elif maybe is not None:
            if not tracker.open:  # an outage that opened out of it is listed as an outage
                possible.append(maybe)
            maybe = None
    if maybe is not None:
        maybe.end = None  # still possible at the end of the series
        possible.append(maybe)
    return SeriesResult(alerts, outages, steps, possible)


# --- helpers for readers --------------------------------------------------------


def band(expected: float, dispersion: float, *, low: float = 0.01, high: float = 0.99) -> tuple[int, int]:
    """The range a quiet period stays within: the `low` and `high` quantiles of the count."""
    return bands([expected], [dispersion], low=low, high=high)[0]


def bands(
    expected: list[float], dispersion: list[float], *, low: float = 0.01, high: float = 0.99
) -> list[tuple[int, int]]:
    """`band` for many buckets at once (one scipy call, not two per bucket).

    The band of a bucket is approximate: a negative binomial with the bucket's
    summed expectation and the largest per-minute dispersion in it. Minutes
    that vary independently would give a narrower range, so this errs wide.
    """
    from scipy.stats import nbinom, poisson

    if not expected:
        return []
    mean = np.asarray(expected, dtype=float)
    disp = np.asarray(dispersion, dtype=float)
    positive, poissonian = mean > 0, disp <= 1e-9
    # Placeholder parameters where a case does not apply keep scipy quiet; np.where picks the right one.
    mean = np.where(positive, mean, 1.0)
    size = 1.0 / np.where(poissonian, 1.0, disp)
    p = size / (size + mean)
    lows = np.where(poissonian, poisson.ppf(low, mean), nbinom.ppf(low, size, p))
    highs = np.where(poissonian, poisson.ppf(high, mean), nbinom.ppf(high, size, p))
    return [(int(lo), int(hi)) if ok else (0, 0) for lo, hi, ok in zip(lows, highs, positive, strict=True)]


@dataclass(frozen=True)
class Problem:
    """One issue type's share of recent reports, and whether it is spiking against its usual share."""

    key: str
    count: int
    percent: float
    expected: float
    spiking: bool


def problems(
    counts: dict[str, int], usual_shares: dict[str, float], total_expected: float, params: Params | None = None
) -> list[Problem]:
    """Most reported problems, by count; `spiking` when a type is far above its usual share of the expected total.

    Each type's expectation is the window's expected total times the type's
    share of the service's recent history (equal shares without history), and
    the same tail test and minimum-reporters rule as the detector decide.
    """
    params = params or Params()
    total = sum(counts.values())
    keys = set(counts) | set(usual_shares)
    default_share = 1.0 / len(keys) if keys else 0.0
    shares_total = sum(usual_shares.values())
    out = []
    for key in keys:
        share = usual_shares[key] / shares_total if shares_total > 0 and key in usual_shares else default_share
        expected = max(total_expected * share, 1e-6)
        n = counts.get(key, 0)
        spiking = (
            n >= params.min_reporters_possible
            and n >= params.ratio_possible * expected
            and nb_sf(n, expected, params.dispersion_prior) < params.p_possible
        )
        out.append(Problem(key, n, round(100 * n / total, 1) if total else 0.0, round(expected, 3), spiking))
    return sorted(out, key=lambda p: (-p.count, p.key))
