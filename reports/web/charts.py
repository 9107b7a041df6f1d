"""Geometry of the public pages' charts: plain values in, SVG coordinates and labels out.

Pure (no ORM, no HTML; only gettext for its words): the templates draw what these functions compute, so
the maths of a chart is unit-tested without a page. All times are UTC.
Coordinates are in the SVG's own user units (its viewBox), rounded to a
tenth so the markup stays small.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol, TypeVar

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

WIDTH, HEIGHT = 600, 260
# The y labels sit inside the plot, above their grid lines (nothing to clip on the left), so the
# margins only make room for the labels' height: the top one above the plot, the x labels below.
# A phone shrinks the chart to half its size, so CSS draws the labels larger there (site.css).
LEFT, RIGHT, TOP, BOTTOM = 4.0, 4.0, 30.0, 34.0
EDGE_ROOM = 30.0  # half a time label's width at the largest (phone) font size, in viewBox units
BAR_FILL = 0.8  # share of a bucket's width its bar covers; the rest is the gap between bars
MAX_Y_TICKS = 4
MAX_X_TICKS = 8
# Candidate x tick spacings, smallest first; ticks fall on multiples of them since the epoch (UTC).
X_TICK_STEPS = (
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
    30 * DAY,
)
# Bucket sizes a chart around an outage may use: those the series API offers.
CHART_BUCKETS = (MINUTE, 15 * MINUTE, HOUR, DAY)
UNKNOWN = "none"  # the level of a bucket the detector has not processed

T = TypeVar("T")


class Bucket(Protocol):
    """What a chart needs of a series bucket (reports.selectors_series.SeriesBucket fits)."""

    @property
    def start(self) -> dt.datetime: ...
    @property
    def count(self) -> int: ...
    @property
    def expected(self) -> float | None: ...
    @property
    def band(self) -> tuple[int, int] | None: ...
    @property
    def level(self) -> str | None: ...


@dataclass(frozen=True)
class Bar:
    """One bucket's bar, with the numbers behind it for its tooltip and the data table."""

    x: float
    y: float
    width: float
    height: float
    start: dt.datetime
    end: dt.datetime
    count: int
    expected: float | None
    band: tuple[int, int] | None
    level: str  # ok, possible, outage, or UNKNOWN
    label: str


@dataclass(frozen=True)
class Tick:
    at: float  # x or y coordinate
    label: str
    time: dt.datetime | None = None  # an x tick's time (UTC), for relabelling in the visitor's time zone
    anchor: str = "middle"  # an x label's text-anchor: "start"/"end" at the chart's edges, so none is cut off


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: float
    top: float
    right: float  # x of the plot's right edge
    bottom: float  # y of the plot's baseline (zero reports)
    bars: list[Bar]
    expected_path: str  # SVG path data, "" when no bucket has an expected count
    band_path: str  # SVG path data of the quiet band's area, "" when none
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    y_max: int
    highlight: tuple[float, float] | None  # (x, width) of the outage, on a chart around one
    unit: str  # "15 minutes", "minute"...
    summary: str  # one or two sentences for screen readers (the SVG's <title>)
    since: dt.datetime = EPOCH  # start of the first bucket
    until: dt.datetime = EPOCH  # end of the last bucket
    size: dt.timedelta = MINUTE  # bucket size

    @property
    def plot_height(self) -> float:
        return _r(self.bottom - self.top)

    @property
    def x_label_y(self) -> float:
        return self.bottom  # the labels hang below it by their own height (dy in ems)


def report_chart(
    buckets: Sequence[Bucket],
    *,
    size: dt.timedelta,
    highlight: tuple[dt.datetime, dt.datetime | None] | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """Bars of counted reports per bucket, the expected count as a step line and the quiet band as an area.

    `buckets` are consecutive, oldest first, each `size` long. `highlight`
    (start, end or None for ongoing) shades a time range, clipped to the chart.
    """
    right, bottom = width - RIGHT, height - BOTTOM
    since = buckets[0].start if buckets else EPOCH
    until = buckets[-1].start + size if buckets else EPOCH + size
    slot = (right - LEFT) / max(len(buckets), 1)
    y_max, y_step = nice_scale(_highest(buckets), MAX_Y_TICKS)

    def y(value: float) -> float:
        return _r(bottom - (bottom - TOP) * value / y_max)

    def x(at: dt.datetime) -> float:
        return _r(LEFT + (right - LEFT) * ((at - since) / (until - since)))

    bars = [_bar(b, size, LEFT + i * slot, slot, y(b.count), bottom) for i, b in enumerate(buckets)]
    edges = [(LEFT + i * slot, LEFT + (i + 1) * slot) for i in range(len(buckets))]
    expected = [(i, y(b.expected)) for i, b in enumerate(buckets) if b.expected is not None]
    band = [(i, (y(b.band[1]), y(b.band[0]))) for i, b in enumerate(buckets) if b.band is not None]
    shade = None
    if highlight and buckets:
        start, end = max(highlight[0], since), min(highlight[1] or until, until)
        shade = (x(start), _r(x(end) - x(start))) if start < end else None
    return Chart(
        width=width,
        height=height,
        left=LEFT,
        top=TOP,
        right=right,
        bottom=bottom,
        bars=bars,
        expected_path=" ".join(_step_line(run, edges) for run in _runs(expected)),
        band_path=" ".join(_step_area(run, edges) for run in _runs(band)),
        y_ticks=[Tick(y(v), str(v)) for v in range(0, y_max + 1, y_step)],
        x_ticks=[Tick(x(at), label, at, _anchor(x(at), right)) for at, label in time_ticks(since, until, MAX_X_TICKS)],
        y_max=y_max,
        highlight=shade,
        unit=unit_label(size),
        summary=chart_summary(buckets, size),
        since=since,
        until=until,
        size=size,
    )


def _anchor(x: float, right: float) -> str:
    """Where an x label hangs from its tick: centred, or inwards within EDGE_ROOM of either edge."""
    return "start" if x - LEFT < EDGE_ROOM else "end" if right - x < EDGE_ROOM else "middle"


def _bar(b: Bucket, size: dt.timedelta, left: float, slot: float, top: float, bottom: float) -> Bar:
    """The bar of bucket `b` in the slot starting at x `left`, from y `top` down to the baseline."""
    return Bar(
        x=_r(left + slot * (1 - BAR_FILL) / 2),
        y=top,
        width=_r(slot * BAR_FILL),
        height=_r(bottom - top),
        start=b.start,
        end=b.start + size,
        count=b.count,
        expected=b.expected,
        band=b.band,
        level=b.level or UNKNOWN,
        label=bucket_label(b, size),
    )


def _highest(buckets: Iterable[Bucket]) -> float:
    values: list[float] = [1.0]
    for b in buckets:
        values.append(b.count)
        if b.expected is not None:
            values.append(b.expected)
        if b.band is not None:
            values.append(b.band[1])
    return max(values)


def nice_scale(highest: float, max_ticks: int) -> tuple[int, int]:
    """(top, step): the smallest top >= `highest` on a 1-2-5 step giving at most `max_ticks` steps."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if math.ceil(highest / step) <= max_ticks:
                return max(step * math.ceil(highest / step), step), step
        magnitude *= 10


def time_ticks(since: dt.datetime, until: dt.datetime, max_ticks: int) -> list[tuple[dt.datetime, str]]:
    """Round UTC times in [since, until] at the smallest spacing cutting it in at most `max_ticks`, with labels.

    Within a day a tick reads "15:00"; a midnight tick, or every tick once
    they are days apart, reads the date ("Nov 21") so a 24-hour chart shows
    where the day changes.
    """
    span = until - since
    step = next((s for s in X_TICK_STEPS if span / s <= max_ticks), X_TICK_STEPS[-1])
    first = since + (EPOCH - since) % step  # the first multiple of step at or after since
    ticks = []
    at = first
    while at <= until:
        midnight = at.hour == 0 and at.minute == 0
        ticks.append((at, f"{at:%b} {at.day}" if step >= DAY or midnight else f"{at:%H:%M}"))
        at += step
    return ticks


def unit_label(size: dt.timedelta) -> str:
    """'minute', '15 minutes', 'hour', '2 hours', 'day': how a bucket size reads after "per"."""
    units = (
        (DAY, _("day"), ("%(n)s day", "%(n)s days")),
        (HOUR, _("hour"), ("%(n)s hour", "%(n)s hours")),
        (MINUTE, _("minute"), ("%(n)s minute", "%(n)s minutes")),
    )
    for unit, one, (singular, plural) in units:
        if size % unit == dt.timedelta(0):
            n = size // unit
            return one if n == 1 else ngettext(singular, plural, n) % {"n": n}
    return _("%(n)s seconds") % {"n": int(size.total_seconds())}


def bucket_label(b: Bucket, size: dt.timedelta) -> str:
    """One bucket in words, for its tooltip and the data table.

    '2026-11-20 13:15 to 13:30 UTC: 14 reports, 12.4 expected (usually 5 to 22)'.
    """
    end = b.start + size
    when = f"{b.start:%Y-%m-%d %H:%M} to {end:%H:%M}" if size < DAY else f"{b.start:%Y-%m-%d}"
    text = ngettext("%(when)s UTC: %(count)s report", "%(when)s UTC: %(count)s reports", b.count) % {
        "when": when,
        "count": b.count,
    }
    if b.expected is not None:
        text += _(", %(expected)s expected") % {"expected": one_decimal(b.expected)}
    if b.band is not None:
        text += _(" (usually %(low)s to %(high)s)") % {"low": b.band[0], "high": b.band[1]}
    return text


def chart_summary(buckets: Sequence[Bucket], size: dt.timedelta) -> str:
    """The chart in a sentence or two: the window, the total and the busiest bucket against its expectation."""
    if not buckets:
        return _("No data.")
    since, until = buckets[0].start, buckets[-1].start + size
    values: dict[str, object] = {
        "unit": unit_label(size),
        "since": f"{since:%Y-%m-%d %H:%M}",
        "until": f"{until:%Y-%m-%d %H:%M}",
        "total": sum(b.count for b in buckets),
    }
    if values["total"] == 0:
        return _("Reports per %(unit)s from %(since)s to %(until)s UTC: none.") % values
    peak = max(buckets, key=lambda b: b.count)  # the first of equal peaks
    values.update(peak=peak.count, at=f"{peak.start:%Y-%m-%d %H:%M}")
    if peak.expected is None:
        return (
            _(
                "Reports per %(unit)s from %(since)s to %(until)s UTC: %(total)s in all. "
                "The most, %(peak)s, from %(at)s UTC."
            )
            % values
        )
    values["expected"] = one_decimal(peak.expected)
    return (
        _(
            "Reports per %(unit)s from %(since)s to %(until)s UTC: %(total)s in all. "
            "The most, %(peak)s, from %(at)s UTC, against %(expected)s expected."
        )
        % values
    )


def chart_window(
    start: dt.datetime,
    end: dt.datetime,
    *,
    latest: dt.datetime | None = None,
    pad: dt.timedelta = HOUR,
    max_buckets: int = 180,
) -> tuple[dt.datetime, dt.datetime, dt.timedelta]:
    """(since, until, size) of a chart around [start, end): `pad` either side, the finest size fitting `max_buckets`.

    Both ends are aligned to the size (as the series selector wants); the
    window ends with the bucket holding `latest` (now: no empty future) at the
    latest, and is cut from the left if even the coarsest size does not fit.
    """
    for size in CHART_BUCKETS:
        since, until = _floor(start - pad, size), _floor(end + pad, size) + size
        if latest is not None:
            until = max(min(until, _floor(latest, size) + size), since + size)
        if (until - since) / size <= max_buckets:
            return since, until, size
    return max(since, until - max_buckets * size), until, size


def _floor(at: dt.datetime, size: dt.timedelta) -> dt.datetime:
    return at - (at - EPOCH) % size


def _runs(points: list[tuple[int, T]]) -> list[list[tuple[int, T]]]:
    """Split (index, value) pairs into runs of consecutive indexes (a gap breaks a line)."""
    runs: list[list[tuple[int, T]]] = []
    for point in points:
        if runs and runs[-1][-1][0] == point[0] - 1:
            runs[-1].append(point)
        else:
            runs.append([point])
    return runs


def _step_line(run: list[tuple[int, float]], edges: list[tuple[float, float]]) -> str:
    """A horizontal segment across each bucket at its value, joined by vertical steps."""
    segments = _segments(run, edges)
    moves = [f"M{_r(edges[run[0][0]][0])} {segments[0][0]}"]
    for n, (y, x) in enumerate(segments):
        moves.append(("" if n == 0 else f"V{y}") + f"H{_r(x)}")
    return "".join(moves)


def _step_area(run: list[tuple[int, tuple[float, float]]], edges: list[tuple[float, float]]) -> str:
    """The area between each bucket's (high, low) values: along the highs, back along the lows."""
    top = _step_line([(i, high) for i, (high, _) in run], edges)
    back = _segments([(i, low) for i, (_, low) in run], edges, backwards=True)
    return top + "".join(f"V{y}H{_r(x)}" for y, x in back) + "Z"


def _segments(
    run: list[tuple[int, float]], edges: list[tuple[float, float]], *, backwards: bool = False
) -> list[tuple[float, float]]:
    """(y, x where it ends) of each horizontal segment; neighbours at the same height merge into one."""
    segments: list[tuple[float, float]] = []
    for i, y in reversed(run) if backwards else run:
        left, right = edges[i]
        end = left if backwards else right
        if segments and segments[-1][0] == y:
            segments[-1] = (y, end)
        else:
            segments.append((y, end))
    return segments


def _r(value: float) -> float:
    return round(value, 1)


def one_decimal(value: float) -> str:
    """`value` with one decimal, halves rounded up as Django's floatformat does, so the page's numbers agree.

    (An f-string rounds the binary float: 1.15 would read 1.1 here and 1.2 in a template.)
    """
    return str(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# --- shares (horizontal percentage bars) ---------------------------------------------


@dataclass(frozen=True)
class ShareRow:
    """One row of a "most reported problems" or "countries" list."""

    key: str
    label: str
    count: int
    percent: float  # of the list's total, one decimal
    flagged: bool = False  # a problem spiking above its usual share


class ProblemLike(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def count(self) -> int: ...
    @property
    def percent(self) -> float: ...
    @property
    def spiking(self) -> bool: ...


def share_rows(counts: Mapping[str, int], labels: Mapping[str, str], *, limit: int | None = None) -> list[ShareRow]:
    """Counts by key as rows with labels and percentages, most first (ties by label), zeros left out.

    With `limit`, at most that many rows: the first limit - 1 and one "Other" row summing the rest.
    """
    total = sum(counts.values())
    rows = sorted(
        (
            ShareRow(key, labels.get(key) or key, n, round(100 * n / total, 1) if total else 0.0)
            for key, n in counts.items()
            if n > 0
        ),
        key=lambda r: (-r.count, r.label),
    )
    if limit is None or len(rows) <= limit:
        return rows
    rest = sum(r.count for r in rows[limit - 1 :])
    other = ShareRow("", _("Other"), rest, round(100 * rest / total, 1) if total else 0.0)
    return [*rows[: limit - 1], other]


def problem_rows(problems: Iterable[ProblemLike], labels: Mapping[str, str]) -> list[ShareRow]:
    """The detector's most reported problems (reports.detection.Problem) as labelled rows, in their order."""
    return [ShareRow(p.key, labels.get(p.key) or p.key, p.count, p.percent, p.spiking) for p in problems]
