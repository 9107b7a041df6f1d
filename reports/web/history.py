"""Outage history as one bar per day, and the timeline's events marked on a chart.

Pure: outages and events as plain values in, SVG coordinates and labels out. Days are UTC days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

DAY = dt.timedelta(days=1)
# The history strip's viewBox: a slot per day, the bar filling most of it.
DAY_SLOT, DAY_BAR, STRIP_HEIGHT = 10.0, 7.0, 40.0
LEVEL_RANK = {"ok": 0, "possible": 1, "outage": 2}


class OutageLike(Protocol):
    @property
    def pk(self) -> int | None: ...
    @property
    def level(self) -> str: ...
    @property
    def started_at(self) -> dt.datetime: ...
    @property
    def end(self) -> dt.datetime | None: ...


@dataclass(frozen=True)
class Day:
    day: dt.date
    x: float
    level: str  # "ok" on a day without outage, else the worst level of that day's outages
    outage_id: int | None  # the day's worst outage (the longest of equals), the one its bar links to
    outages: int  # how many outages touched the day
    minutes: int  # minutes of the day under an outage (overlaps counted once)


def history_days(outages: Iterable[OutageLike], *, today: dt.date, days: int, now: dt.datetime) -> list[Day]:
    """The last `days` UTC days up to `today`, oldest first, each with the outages that touched it.

    An outage still open runs until `now`. A day's bar links to its worst outage.
    """
    first = today - dt.timedelta(days=days - 1)
    spans: dict[dt.date, list[tuple[dt.datetime, dt.datetime, OutageLike]]] = {}
    for outage in outages:
        start, end = outage.started_at, outage.end or now
        day = max(start.astimezone(dt.UTC).date(), first)
        while day <= min(end.astimezone(dt.UTC).date(), today):
            midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
            spans.setdefault(day, []).append((max(start, midnight), min(end, midnight + DAY), outage))
            day += DAY
    result = []
    for i in range(days):
        day = first + dt.timedelta(days=i)
        touching = spans.get(day, [])
        worst = max(touching, key=lambda s: (LEVEL_RANK.get(s[2].level, 0), s[1] - s[0]), default=None)
        result.append(
            Day(
                day=day,
                x=round(i * DAY_SLOT, 1),
                level=worst[2].level if worst else "ok",
                outage_id=worst[2].pk if worst else None,
                outages=len(touching),
                minutes=_covered_minutes([(s, e) for s, e, _ in touching]),
            )
        )
    return result


def _covered_minutes(spans: list[tuple[dt.datetime, dt.datetime]]) -> int:
    """Minutes covered by the union of the spans."""
    total, reach = dt.timedelta(0), None
    for start, end in sorted(spans):
        if reach is not None and start < reach:
            start = reach
        if end > start:
            total += end - start
            reach = end if reach is None else max(reach, end)
    return int(total.total_seconds() // 60)


# --- the timeline on a chart -------------------------------------------------------------


class EventLike(Protocol):
    @property
    def at(self) -> dt.datetime: ...
    @property
    def kind(self) -> str: ...


@dataclass(frozen=True)
class Marker:
    number: int  # 1-based, as the timeline lists it
    x: float
    kind: str
    at: dt.datetime


def chart_markers(
    events: Sequence[EventLike], *, since: dt.datetime, until: dt.datetime, left: float, right: float
) -> list[Marker]:
    """A numbered marker per event inside [since, until], at its x on a chart whose time axis runs left to right.

    Numbers follow the events' order (the timeline's), so "3" on the chart is the third event listed.
    """
    span = until - since
    markers = []
    for n, event in enumerate(events, start=1):
        if since <= event.at <= until and span > dt.timedelta(0):
            x = round(left + (right - left) * ((event.at - since) / span), 1)
            markers.append(Marker(number=n, x=x, kind=event.kind, at=event.at))
    return markers
