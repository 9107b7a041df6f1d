"""Chart geometry (reports.web.charts): plain buckets in, coordinates and words out."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template.defaultfilters import floatformat

from reports.detection.detector import Problem
from reports.selectors.series import SeriesBucket
from reports.web.charts import (
    HEIGHT,
    LEFT,
    WIDTH,
    chart_summary,
    chart_window,
    nice_scale,
    one_decimal,
    problem_rows,
    report_chart,
    share_rows,
    time_ticks,
    unit_label,
)

T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
Q = dt.timedelta(minutes=15)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


def quarter_hours(counts, expected=None, bands=None, levels=None, start=T0):
    n = len(counts)
    expected, bands, levels = expected or [None] * n, bands or [None] * n, levels or [None] * n
    return [
        SeriesBucket(start + i * Q, c, e, b, lv) for i, (c, e, b, lv) in enumerate(zip(counts, expected, bands, levels))
    ]


def test_bars_grow_with_counts_from_the_baseline_and_span_the_plot():
    chart = report_chart(quarter_hours([0, 5, 10, 20]), size=Q)
    assert [b.count for b in chart.bars] == [0, 5, 10, 20]
    assert chart.y_max == 20
    heights = [b.height for b in chart.bars]
    assert heights[0] == 0 and heights[1] < heights[2] < heights[3]
    assert heights[3] == pytest.approx(chart.bottom - chart.top)
    assert all(b.y + b.height == pytest.approx(chart.bottom) for b in chart.bars)
    # Equal slots, left to right, inside the plot.
    xs = [b.x for b in chart.bars]
    assert xs == sorted(xs) and xs[0] > LEFT and xs[-1] + chart.bars[-1].width < chart.right
    assert xs[1] - xs[0] == pytest.approx(xs[3] - xs[2], abs=0.11)


def test_scale_leaves_room_for_the_band_and_expected_count_above_the_bars():
    buckets = quarter_hours([2, 3], expected=[4.0, 30.5], bands=[(0, 9), (18, 44)])
    chart = report_chart(buckets, size=Q)
    assert chart.y_max == 60  # the band's 44 on a step of 20 (10 would need five steps)
    assert [t.label for t in chart.y_ticks] == ["0", "20", "40", "60"]
    assert chart.y_ticks[0].at == chart.bottom and chart.y_ticks[-1].at == chart.top


@pytest.mark.parametrize(
    ("highest", "expected"),
    [
        (0, (1, 1)),
        (1, (1, 1)),
        (3.2, (4, 1)),
        (7, (8, 2)),
        (20, (20, 5)),
        (21, (30, 10)),
        (41, (60, 20)),
        (96, (100, 50)),
    ],
)
def test_nice_scale_rounds_up_to_a_1_2_5_step(highest, expected):
    assert nice_scale(highest, 4) == expected


def test_expected_line_is_a_step_per_bucket_and_breaks_where_unknown():
    buckets = quarter_hours([1, 1, 1, 1], expected=[2.0, 4.0, None, 2.0])
    chart = report_chart(buckets, size=Q)
    segments = re.findall(r"M[^M]+", chart.expected_path)
    assert len(segments) == 2  # the gap at the third bucket breaks the line
    assert segments[0].count("H") == 2 and segments[0].count("V") == 1
    assert segments[1].count("H") == 1


def test_band_area_closes_between_high_and_low():
    buckets = quarter_hours([1, 1], bands=[(0, 4), (1, 6)])
    chart = report_chart(buckets, size=Q)
    assert chart.band_path.startswith("M") and chart.band_path.endswith("Z")
    ys = [float(n) for n in re.findall(r"V([\d.]+)", chart.band_path)]
    high, low = chart.bottom - (chart.bottom - chart.top) * 6 / chart.y_max, chart.bottom
    assert min(ys) == pytest.approx(high, abs=0.11) and max(ys) == pytest.approx(low, abs=0.11)


def test_no_band_or_expected_gives_empty_paths():
    chart = report_chart(quarter_hours([3, 0]), size=Q)
    assert chart.expected_path == "" and chart.band_path == ""
    assert [b.level for b in chart.bars] == ["none", "none"]


def test_levels_and_tooltips_describe_each_bucket():
    buckets = quarter_hours([14, 96], expected=[12.44, 12.0], bands=[(5, 22), (5, 22)], levels=["ok", "outage"])
    chart = report_chart(buckets, size=Q)
    assert [b.level for b in chart.bars] == ["ok", "outage"]
    assert chart.bars[0].label == "2026-11-20 12:00 to 12:15 UTC: 14 reports, 12.4 expected (usually 5 to 22)"
    assert chart.bars[1].expected == 12.0


@pytest.mark.parametrize(("value", "text"), [(1.15, "1.2"), (0.05, "0.1"), (2.0, "2.0"), (12.449, "12.4"), (0, "0.0")])
def test_one_decimal_rounds_halves_up_like_the_templates(value, text):
    assert one_decimal(value) == text
    assert floatformat(value, 1) == text


def test_highlight_is_clipped_to_the_chart_and_open_ended_runs_to_its_end():
    buckets = quarter_hours([0] * 8)  # 12:00 to 14:00
    whole = report_chart(buckets, size=Q, highlight=(T0 - HOUR, None))
    assert whole.highlight == (LEFT, pytest.approx(whole.right - LEFT, abs=0.11))
    half = report_chart(buckets, size=Q, highlight=(T0 + HOUR, T0 + 3 * HOUR))
    x, width = half.highlight
    assert x == pytest.approx((LEFT + half.right) / 2, abs=0.11) and x + width == pytest.approx(half.right, abs=0.11)
    assert report_chart(buckets, size=Q, highlight=(T0 + 5 * HOUR, None)).highlight is None
    assert report_chart(buckets, size=Q).highlight is None


def test_empty_series_still_draws_an_empty_chart():
    chart = report_chart([], size=Q)
    assert chart.bars == [] and chart.summary == "No data."
    assert (chart.width, chart.height) == (WIDTH, HEIGHT)


def test_day_ticks_are_round_hours_and_midnight_shows_the_date():
    since = dt.datetime(2026, 11, 20, 16, 15, tzinfo=dt.UTC)
    ticks = time_ticks(since, since + dt.timedelta(hours=24), 8)
    assert [label for _, label in ticks] == ["18:00", "21:00", "Nov 21", "03:00", "06:00", "09:00", "12:00", "15:00"]
    assert all(at.minute == 0 and at.hour % 3 == 0 for at, _ in ticks)


def test_short_and_long_spans_get_fitting_tick_steps():
    short = time_ticks(T0, T0 + 2 * HOUR, 8)
    assert [label for _, label in short] == [
        "12:00",
        "12:15",
        "12:30",
        "12:45",
        "13:00",
        "13:15",
        "13:30",
        "13:45",
        "14:00",
    ]
    week = time_ticks(T0, T0 + dt.timedelta(days=7), 8)
    assert [label for _, label in week][:2] == ["Nov 21", "Nov 22"]


@pytest.mark.parametrize(
    ("size", "label"),
    [(MINUTE, "minute"), (Q, "15 minutes"), (HOUR, "hour"), (2 * HOUR, "2 hours"), (dt.timedelta(days=1), "day")],
)
def test_unit_label(size, label):
    assert unit_label(size) == label


def test_summary_names_the_total_and_the_busiest_bucket():
    buckets = quarter_hours([1, 96, 3], expected=[1.0, 12.44, None])
    assert chart_summary(buckets, Q) == (
        "Reports per 15 minutes from 2026-11-20 12:00 to 2026-11-20 12:45 UTC: 100 in all. "
        "The most, 96, from 2026-11-20 12:15 UTC, against 12.4 expected."
    )
    assert chart_summary(quarter_hours([0, 0]), Q).endswith("UTC: none.")


def test_chart_window_pads_aligns_and_picks_the_finest_fitting_bucket():
    start = dt.datetime(2026, 11, 20, 15, 2, tzinfo=dt.UTC)
    assert chart_window(start, start + 20 * MINUTE) == (start - HOUR, start + 20 * MINUTE + HOUR + MINUTE, MINUTE)
    since, until, size = chart_window(start, start + 5 * HOUR)
    assert size == Q and since == dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC)
    assert until == dt.datetime(2026, 11, 20, 21, 15, tzinfo=dt.UTC)
    since, until, size = chart_window(start, start + dt.timedelta(days=3))
    assert size == HOUR and (until - since) / size <= 180


def test_chart_window_stops_at_the_bucket_holding_now():
    start = dt.datetime(2026, 11, 20, 15, 2, tzinfo=dt.UTC)
    now = start + 20 * MINUTE + dt.timedelta(seconds=30)
    since, until, size = chart_window(start, now, latest=now)
    assert (since, until, size) == (start - HOUR, start + 21 * MINUTE, MINUTE)
    # An outage that (by a clock skew) starts after now still gets one bucket.
    since, until, _ = chart_window(now + HOUR, now + HOUR, latest=now)
    assert until - since >= MINUTE


def test_chart_window_of_a_very_long_outage_keeps_its_latest_part():
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    since, until, size = chart_window(start, start + dt.timedelta(days=400), max_buckets=180)
    assert size == dt.timedelta(days=1) and (until - since) / size == 180
    assert until > start + dt.timedelta(days=400)


def test_share_rows_label_and_sort_by_count_with_percentages():
    rows = share_rows({"server": 1, "payment": 3, "?": 0}, {"server": "Server", "payment": "Payment"})
    assert [(r.label, r.count, r.percent) for r in rows] == [("Payment", 3, 75.0), ("Server", 1, 25.0)]  # no zeros
    assert share_rows({}, {}) == []
    assert share_rows({"a": 0}, {}) == []


def test_share_rows_beyond_the_limit_are_one_other_row():
    counts = {f"c{i:02}": 100 - i for i in range(70)}
    rows = share_rows(counts, {}, limit=10)
    assert [r.key for r in rows[:9]] == [f"c{i:02}" for i in range(9)]
    assert rows[-1].label == "Other" and rows[-1].count == sum(100 - i for i in range(9, 70))
    assert sum(r.count for r in rows) == sum(counts.values())
    assert share_rows({"a": 1, "b": 2}, {}, limit=2) == share_rows({"a": 1, "b": 2}, {})


def test_problem_rows_keep_the_detectors_order_and_flags():
    problems = [Problem("payment", 40, 80.0, 2.0, True), Problem("server", 10, 20.0, 8.0, False)]
    rows = problem_rows(problems, {"payment": "Payment"})
    assert [(r.label, r.percent, r.flagged) for r in rows] == [("Payment", 80.0, True), ("server", 20.0, False)]


def test_steps_at_the_same_height_merge_into_one_segment():
    chart = report_chart(quarter_hours([1] * 4, expected=[2.0, 2.0, 2.0, 3.0], bands=[(0, 4)] * 4), size=Q)
    assert chart.expected_path.count("H") == 2 and chart.expected_path.count("V") == 1
    # Highs and lows are flat: one segment along the top, one back along the bottom.
    assert chart.band_path.count("H") == 2 and chart.band_path.endswith(f"H{LEFT}Z")
