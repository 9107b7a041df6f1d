"""Template helpers of the public pages: UTC times, durations, and outage events in words.

The text functions are pure (plain values in, plain text out) and tested
without templates; the tags only adapt them. Text is returned unescaped:
Django escapes a simple tag's output, which matters because probe names,
authors and messages come from people.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html

from reports.detection.attribution import cause_text
from reports.models import EventKind, Level, Outage, OutageEvent, UpdateState
from reports.web.charts import one_decimal
from statuspages.kinds import IncidentStatus

register = template.Library()

MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
TIME_FORMATS = {"datetime": "%Y-%m-%d %H:%M UTC", "time": "%H:%M UTC", "date": "%Y-%m-%d"}


@register.simple_tag
def utc_time(value: dt.datetime | None, style: str = "datetime") -> str:
    """A <time> element in UTC, machine-readable in its datetime attribute; "" for None."""
    if value is None:
        return ""
    utc = value.astimezone(dt.UTC)
    return format_html(
        '<time datetime="{}">{}</time>',
        utc.isoformat().replace("+00:00", "Z"),
        utc.strftime(TIME_FORMATS.get(style, TIME_FORMATS["datetime"])),
    )


@register.filter
def duration_until(start: dt.datetime | None, end: dt.datetime | None) -> str:
    """How long from `start` to `end` (or to now, for what is still going on), in words."""
    if start is None:
        return ""
    return duration_text((end or timezone.now()) - start)


def duration_text(delta: dt.timedelta) -> str:
    """'under a minute', '45 min', '1 h 5 min', '2 d 3 h': two units at most, rounded down."""
    if delta < MINUTE:
        return "under a minute"
    days, rest = divmod(delta, DAY)
    hours, rest = divmod(rest, HOUR)
    minutes = rest // MINUTE
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


@register.simple_tag
def event_text(event: OutageEvent, labels: Mapping[str, str]) -> str:
    return event_sentence(event.kind, event.data if isinstance(event.data, dict) else {}, labels)


def event_sentence(kind: str, data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """One outage event as a sentence, from the numbers reports.detection.tick stored with it.

    `labels` names issue types by key. Missing or odd data (old rows, a
    hand-edited event) shortens the sentence instead of failing.
    """
    sentence = _SENTENCES.get(kind)
    if sentence is not None:
        return sentence(data, labels)
    return EventKind(kind).label + "." if kind in EventKind.values else "Event."


def _opened(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    if data.get("by") == "probes":
        return "Outage opened: a monitoring probe found the service down."
    numbers = _numbers(data)
    return f"Outage opened on user reports: {numbers}." if numbers else "Outage opened on user reports."


def _reopened(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    if data.get("by") == "probes":
        return "Reopened: a monitoring probe found the service down again."
    numbers = _numbers(data)
    return "Reopened: reports rose again soon after it was resolved" + (f" ({numbers})." if numbers else ".")


def _level_changed(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    numbers = _numbers(data)
    change = f"Level changed from {_level(data.get('from'))} to {_level(data.get('to'))}"
    return change + (f": {numbers}." if numbers else ".")


def _probe_down(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    evidence = data.get("evidence")
    # A quorum change stores every region's state: say how many were down.
    regions = evidence.get("regions") if isinstance(evidence, dict) else None
    if isinstance(regions, dict) and regions:
        down = sum(1 for state in regions.values() if state == "down")
        return f"{_probe(data)} found the service down ({down} of {len(regions)} regions)."
    return f"{_probe(data)} found the service down."


def _probe_up(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    return f"{_probe(data)} found the service up again."


def _peak(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    count, expected = _int(data.get("count")), _float(data.get("expected"))
    if count is None:
        return "Reports peaked."
    against = f", against {one_decimal(expected)} expected" if expected is not None else ""
    return f"Reports peaked: {count} in one minute{against}."


def _issue_mix_changed(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    before, after = _label(data.get("from"), labels), _label(data.get("to"), labels)
    if before and after:
        return f"The most reported problem changed from {before} to {after}."
    return "The most reported problem changed."


def _resolved(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    since = _time(data.get("back_to_normal_at"))
    return f"Resolved: reports back to normal since {since:%H:%M} UTC." if since else "Resolved."


def _status_update(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    author = str(data.get("author") or "The service's team")
    state = data.get("state")
    label = UpdateState(state).label.lower() if state in UpdateState.values else ""
    return f"{author} posted a status update: {label}." if label else f"{author} posted a status update."


def _official_update(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    page = f"{data.get('service') or 'The service'}'s status page"
    title, body = str(data.get("title") or ""), str(data.get("body") or "")
    status = data.get("status")
    state = IncidentStatus(status).label.lower() if status in IncidentStatus.values else ""
    said = f"{title} ({state})" if title and state else title or state or "updated"
    return f"{page}: {said}" + (f": {body[:200]}" if body else ".")


def _silent_outage(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    page = f"{data.get('service') or 'the service'}'s status page"
    return f"Silent outage: reports and probes agree, but {page} says everything is operational."


@register.simple_tag
def cause_summary(outage: Outage) -> str:
    """ "Likely caused by Cloudflare (7 of 9 dependent services affected, ...)" for an outage with a cause."""
    return cause_text(outage.cause_evidence if isinstance(outage.cause_evidence, dict) else {})


_SENTENCES: dict[str, Callable[[Mapping[str, Any], Mapping[str, str]], str]] = {
    EventKind.CAUSE: lambda data, labels: cause_text(data) + ".",
    EventKind.REPORTS_RISING: lambda data, labels: "Reports started rising above the usual level.",
    EventKind.OPENED: _opened,
    EventKind.REOPENED: _reopened,
    EventKind.LEVEL_CHANGED: _level_changed,
    EventKind.PROBE_DOWN: _probe_down,
    EventKind.PROBE_UP: _probe_up,
    EventKind.PEAK: _peak,
    EventKind.ISSUE_MIX_CHANGED: _issue_mix_changed,
    EventKind.RESOLVED: _resolved,
    EventKind.STATUS_UPDATE: _status_update,
    EventKind.OFFICIAL_UPDATE: _official_update,
    EventKind.SILENT_OUTAGE: _silent_outage,
}


def _numbers(data: Mapping[str, Any]) -> str:
    """'312 reports in 15 minutes, 24.5 expected', or "" without them."""
    actual, expected = _int(data.get("actual")), _float(data.get("expected"))
    window = _float(data.get("window_minutes"))
    if actual is None or expected is None or not window:
        return ""
    # The detector stores the window as a float (15.0): whole minutes read without the ".0".
    span = "1 minute" if window == 1 else f"{window:g} minutes"
    return f"{actual} report{'' if actual == 1 else 's'} in {span}, {one_decimal(expected)} expected"


def _probe(data: Mapping[str, Any]) -> str:
    name = data.get("name")
    return f"Monitoring probe “{name}”" if name else "A monitoring probe"


def _level(value: Any) -> str:
    return Level(value).label.lower() if value in Level.values else "unknown"


def _label(key: Any, labels: Mapping[str, str]) -> str:
    return (labels.get(key) or key) if isinstance(key, str) else ""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _time(value: Any) -> dt.datetime | None:
    try:
        at = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return at.astimezone(dt.UTC) if at.tzinfo else at


@register.filter
def level_label(value: str | None) -> str:
    """A detector level as people read it ("Possible problems").

    Anything else, such as a chart bucket the detector has not processed yet, reads "Not analysed yet".
    """
    return Level(value).label if value in Level.values else "Not analysed yet"
