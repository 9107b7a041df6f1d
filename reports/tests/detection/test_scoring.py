"""Scoring alerts against labelled windows (reports/detection/scoring.py)."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from reports.detection.scoring import Window, format_table, nab_windows, score_series, score_total

T0 = dt.datetime(2015, 3, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def hours(n: int) -> list[dt.datetime]:
    return [T0 + i * HOUR for i in range(n)]


def test_a_window_is_detected_by_one_alert_and_an_alert_outside_every_window_is_false():
    times = hours(100)  # probation: the first 15 rows
    windows = [Window(T0 + 40 * HOUR, T0 + 50 * HOUR), Window(T0 + 70 * HOUR, T0 + 80 * HOUR)]
    alerts = [T0 + 40 * HOUR, T0 + 45 * HOUR, T0 + 60 * HOUR, T0 + 80 * HOUR]  # window edges count
    score = score_series("s", times, windows, alerts)
    assert (score.windows, score.detected, score.alerts, score.false_alarms) == (2, 2, 4, 1)
    assert score.precision == 0.75 and score.recall == 1.0


def test_alerts_in_the_probation_are_ignored_and_so_is_a_window_that_ends_there():
    times = hours(100)
    windows = [Window(T0, T0 + 10 * HOUR), Window(T0 + 10 * HOUR, T0 + 20 * HOUR)]
    score = score_series("s", times, windows, [T0 + 5 * HOUR, T0 + 14 * HOUR, T0 + 16 * HOUR])
    # Probation ends at row 15: the first window is not counted, the second is (and detected at 16).
    assert (score.windows, score.detected, score.alerts, score.false_alarms) == (1, 1, 1, 0)


def test_false_alarms_per_month_use_the_scored_days():
    times = [T0 + i * dt.timedelta(minutes=5) for i in range(100 * 288)]  # 100 days; 85 scored
    score = score_series("s", times, [], [T0 + dt.timedelta(days=d) for d in (20, 40, 60)])
    assert score.false_alarms == 3
    assert score.false_alarms_per_month == pytest.approx(3 / (85 / 30), rel=1e-3)
    assert math.isnan(score.precision) is False and score.precision == 0.0
    assert math.isnan(score.recall)


def test_totals_pool_the_counts_and_the_table_has_a_total_row():
    times = hours(100)
    a = score_series("a", times, [Window(T0 + 50 * HOUR, T0 + 60 * HOUR)], [T0 + 55 * HOUR])
    b = score_series("b", times, [Window(T0 + 50 * HOUR, T0 + 60 * HOUR)], [T0 + 20 * HOUR, T0 + 30 * HOUR])
    total = score_total([a, b])
    assert (total.windows, total.detected, total.alerts, total.false_alarms) == (2, 1, 3, 2)
    assert total.precision == pytest.approx(1 / 3) and total.recall == 0.5
    table = format_table([a, b])
    assert table[-1].startswith("| total | 2 | 1 | 3 | 2 | 33 % | 50 % |")
    assert "| a | 1 | 1 | 1 | 0 | 100 % | 100 % |" in table[2]


def test_an_empty_series_scores_nothing():
    assert score_series("s", [], [Window(T0, T0 + HOUR)], [T0]).alerts == 0


def test_nab_windows_are_read_as_utc():
    labels = {"realTweets/x.csv": [["2015-03-14 17:52:53.000000", "2015-03-17 12:02:53.000000"]]}
    assert nab_windows(labels, "realTweets/x.csv") == [
        Window(dt.datetime(2015, 3, 14, 17, 52, 53, tzinfo=dt.UTC), dt.datetime(2015, 3, 17, 12, 2, 53, tzinfo=dt.UTC))
    ]
    assert nab_windows(labels, "realTweets/other.csv") == []
