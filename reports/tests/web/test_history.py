"""Outage history as a bar per day, and timeline markers on a chart (reports.web.history, pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reports.web.history import chart_markers, history_days

TODAY = dt.date(2026, 11, 20)
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


@dataclass
class Out:
    pk: int
    level: str
    started_at: dt.datetime
    end: dt.datetime | None


@dataclass
class E:
    at: dt.datetime
    kind: str


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=dt.UTC)


def test_each_day_is_a_bar_linking_to_its_worst_outage() -> None:
    outages = [
        Out(1, "possible", at(18, 10), at(18, 11)),
        Out(2, "outage", at(18, 20), at(18, 20, 30)),  # shorter, but worse: the 18th links here
        Out(3, "outage", at(19, 23, 30), at(20, 0, 30)),  # crosses midnight: both days
    ]
    days = history_days(outages, today=TODAY, days=5, now=NOW)
    assert [d.day.day for d in days] == [16, 17, 18, 19, 20]
    assert [(d.level, d.outage_id, d.outages) for d in days] == [
        ("ok", None, 0),
        ("ok", None, 0),
        ("outage", 2, 2),
        ("outage", 3, 1),
        ("outage", 3, 1),
    ]
    assert [d.minutes for d in days] == [0, 0, 90, 30, 30]
    assert days[1].x == 10.0 and days[0].x == 0.0


def test_an_open_outage_runs_until_now_and_older_starts_are_clipped_to_the_strip() -> None:
    days = history_days([Out(7, "outage", at(1, 0), None)], today=TODAY, days=3, now=NOW)
    assert [(d.outage_id, d.minutes) for d in days] == [(7, 1440), (7, 1440), (7, 720)]


def test_overlapping_outages_count_their_minutes_once() -> None:
    outages = [Out(1, "outage", at(20, 1), at(20, 3)), Out(2, "possible", at(20, 2), at(20, 4))]
    assert history_days(outages, today=TODAY, days=1, now=NOW)[0].minutes == 180


def test_markers_number_events_in_order_and_leave_out_those_off_the_chart() -> None:
    events = [E(at(20, 9), "reports_rising"), E(at(20, 10), "opened"), E(at(20, 11), "peak"), E(at(20, 13), "resolved")]
    markers = chart_markers(events, since=at(20, 10), until=at(20, 12), left=0.0, right=100.0)
    assert [(m.number, m.kind, m.x) for m in markers] == [(2, "opened", 0.0), (3, "peak", 50.0)]
