"""Scoring alerts against labelled anomaly windows (pure: plain values in, figures out).

The rule, NAB-style (the Numenta Anomaly Benchmark's windows and probation):
- the first `probation` share of a series' rows (15 %) is for learning:
  alerts in it are ignored, and a window that ends in it is not counted;
- a window (start and end inclusive) is detected if at least one alert falls in it;
- an alert outside every window is a false alarm;
- precision = alerts in a window / alerts, recall = detected / windows, and
  false alarms per series-month = false alarms / (scored days / 30).
NAB's own score weighs an alert by how early in its window it comes; this
counts alerts, which is what a person receiving them sees.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PROBATION = 0.15
DAYS_PER_MONTH = 30.0


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime

    def __contains__(self, at: object) -> bool:
        return isinstance(at, dt.datetime) and self.start <= at <= self.end


@dataclass(frozen=True)
class Score:
    """One series' figures (or the totals of several)."""

    name: str
    windows: int
    detected: int
    alerts: int
    false_alarms: int
    scored_days: float

    @property
    def true_alerts(self) -> int:
        return self.alerts - self.false_alarms

    @property
    def precision(self) -> float:
        """Share of alerts inside a window; NaN without alerts."""
        return self.true_alerts / self.alerts if self.alerts else math.nan

    @property
    def recall(self) -> float:
        """Share of windows detected; NaN without windows."""
        return self.detected / self.windows if self.windows else math.nan

    @property
    def false_alarms_per_month(self) -> float:
        return self.false_alarms / (self.scored_days / DAYS_PER_MONTH) if self.scored_days > 0 else math.nan


def score_series(
    name: str,
    times: Sequence[dt.datetime],
    windows: Iterable[Window],
    alerts: Iterable[dt.datetime],
    *,
    probation: float = PROBATION,
) -> Score:
    """Score one series' alerts against its windows; `times` are its rows in order (for probation and length)."""
    if not times:
        return Score(name, 0, 0, 0, 0, 0.0)
    scored_from = times[min(len(times) - 1, math.floor(probation * len(times)))]
    counted = [w for w in windows if w.end >= scored_from]
    scored = [a for a in alerts if a >= scored_from]
    detected = sum(1 for w in counted if any(a in w for a in scored))
    false_alarms = sum(1 for a in scored if not any(a in w for w in counted))
    days = (times[-1] - scored_from).total_seconds() / 86400
    return Score(name, len(counted), detected, len(scored), false_alarms, days)


def score_total(scores: Iterable[Score], name: str = "total") -> Score:
    """The sums over several series (precision and recall pooled, not averaged)."""
    scores = list(scores)
    return Score(
        name,
        sum(s.windows for s in scores),
        sum(s.detected for s in scores),
        sum(s.alerts for s in scores),
        sum(s.false_alarms for s in scores),
        sum(s.scored_days for s in scores),
    )


def format_table(scores: Sequence[Score]) -> list[str]:
    """A Markdown table, one row per series and a total row."""
    rows = [
        "| series | windows | detected | alerts | false alarms | precision | recall | false alarms / series-month |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in [*scores, score_total(scores)]:
        rows.append(
            f"| {s.name} | {s.windows} | {s.detected} | {s.alerts} | {s.false_alarms} | "
            f"{_percent(s.precision)} | {_percent(s.recall)} | {_number(s.false_alarms_per_month)} |"
        )
    return rows


def _percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.0f} %"


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def nab_windows(labels: dict[str, list[list[str]]], key: str) -> list[Window]:
    """One series' windows from NAB's combined_windows.json (`"YYYY-MM-DD HH:MM:SS.ffffff"` pairs, UTC)."""
    out = []
    for start, end in labels.get(key, []):
        out.append(Window(_nab_time(start), _nab_time(end)))
    return out


def _nab_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
