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
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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


# Within this of now, "since 15:05" is unambiguous; before it, the date is needed too.
SINCE_TIME_ONLY = dt.timedelta(hours=12)


@register.simple_tag
def utc_since(value: dt.datetime | None) -> str:
    """utc_time for a "since": the time alone within SINCE_TIME_ONLY of now, else with its date."""
    if value is None:
        return ""
    return utc_time(value, "time" if timezone.now() - value < SINCE_TIME_ONLY else "datetime")


@register.filter
def utc_datetime(value: dt.datetime | None) -> str:
    """utc_time as a filter, for a time inside {% blocktranslate %}."""
    return utc_time(value)


@register.filter
def utc_clock(value: dt.datetime | None) -> str:
    """utc_time's "time" style ("15:05 UTC") as a filter."""
    return utc_time(value, "time")


@register.filter
def live_number(value: object, name: str) -> str:
    """A number the live script updates in place: <span data-n-NAME>value</span>."""
    return format_html('<span data-n-{}="">{}</span>', name, value)


@register.filter
def join_and(items: list[str]) -> str:
    """'payment', 'payment and server', 'login, payment and server'."""
    items = [str(i) for i in items]
    if len(items) < 2:
        return "".join(items)
    return _("%(list)s and %(last)s") % {"list": ", ".join(items[:-1]), "last": items[-1]}


@register.filter
def iso_utc(value: dt.datetime | None) -> str:
    """ISO 8601 in UTC with a Z ("2026-11-20T15:00:00Z"), as the API writes times; "" for None."""
    if value is None:
        return ""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@register.filter
def duration_until(start: dt.datetime | None, end: dt.datetime | None) -> str:
    """How long from `start` to `end` (or to now, for what is still going on), in words."""
    if start is None:
        return ""
    return duration_text((end or timezone.now()) - start)


def duration_text(delta: dt.timedelta) -> str:
    """'under a minute', '45 min', '1 h 5 min', '2 d 3 h': two units at most, rounded down."""
    if delta < MINUTE:
        return _("under a minute")
    days, rest = divmod(delta, DAY)
    hours, rest = divmod(rest, HOUR)
    minutes = rest // MINUTE
    values = {"days": days, "hours": hours, "minutes": minutes}
    if days:
        return (_("%(days)s d %(hours)s h") if hours else _("%(days)s d")) % values
    if hours:
        return (_("%(hours)s h %(minutes)s min") if minutes else _("%(hours)s h")) % values
    return _("%(minutes)s min") % values


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
    return _("%(event)s.") % {"event": EventKind(kind).label} if kind in EventKind.values else _("Event.")


def _opened(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    if data.get("by") == "probes":
        return _("Outage opened: a monitoring probe found the service down.")
    numbers = _numbers(data)
    if numbers:
        return _("Outage opened on user reports: %(numbers)s.") % {"numbers": numbers}
    return _("Outage opened on user reports.")


def _reopened(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    if data.get("by") == "probes":
        return _("Reopened: a monitoring probe found the service down again.")
    numbers = _numbers(data)
    if numbers:
        return _("Reopened: reports rose again soon after it was resolved (%(numbers)s).") % {"numbers": numbers}
    return _("Reopened: reports rose again soon after it was resolved.")


def _level_changed(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    values = {"old": _level(data.get("from")), "new": _level(data.get("to")), "numbers": _numbers(data)}
    if values["numbers"]:
        return _("Level changed from %(old)s to %(new)s: %(numbers)s.") % values
    return _("Level changed from %(old)s to %(new)s.") % values


def _probe_down(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    evidence = data.get("evidence")
    # A quorum change stores every region's state: say how many were down.
    regions = evidence.get("regions") if isinstance(evidence, dict) else None
    if isinstance(regions, dict) and regions:
        down = sum(1 for state in regions.values() if state == "down")
        values = {"probe": _probe(data), "down": down, "regions": len(regions)}
        return _("%(probe)s found the service down (%(down)s of %(regions)s regions).") % values
    return _("%(probe)s found the service down.") % {"probe": _probe(data)}


def _probe_up(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    return _("%(probe)s found the service up again.") % {"probe": _probe(data)}


def _peak(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    count, expected = _int(data.get("count")), _float(data.get("expected"))
    if count is None:
        return _("Reports peaked.")
    if expected is None:
        return _("Reports peaked: %(count)s in one minute.") % {"count": count}
    return _("Reports peaked: %(count)s in one minute, against %(expected)s expected.") % {
        "count": count,
        "expected": one_decimal(expected),
    }


def _issue_mix_changed(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    before, after = _label(data.get("from"), labels), _label(data.get("to"), labels)
    if before and after:
        return _("The most reported problem changed from %(old)s to %(new)s.") % {"old": before, "new": after}
    return _("The most reported problem changed.")


def _resolved(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    since = _time(data.get("back_to_normal_at"))
    if since:
        return _("Resolved: reports back to normal since %(time)s UTC.") % {"time": f"{since:%H:%M}"}
    return _("Resolved.")


def _status_update(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    author = str(data.get("author") or _("The service's team"))
    state = data.get("state")
    label = UpdateState(state).label.lower() if state in UpdateState.values else ""
    if label:
        return _("%(author)s posted a status update: %(state)s.") % {"author": author, "state": label}
    return _("%(author)s posted a status update.") % {"author": author}


def _official_update(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    page = _("%(service)s's status page") % {"service": data.get("service") or _("The service")}
    title, body = str(data.get("title") or ""), str(data.get("body") or "")
    status = data.get("status")
    state = IncidentStatus(status).label.lower() if status in IncidentStatus.values else ""
    said = f"{title} ({state})" if title and state else title or state or _("updated")
    return f"{page}: {said}" + (f": {body[:200]}" if body else ".")


def _silent_outage(data: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    service = data.get("service") or _("the service")
    return _(
        "Silent outage: reports and probes agree, but %(service)s's status page says everything is operational."
    ) % {"service": service}


@register.simple_tag
def cause_summary(outage: Outage) -> str:
    """ "Likely caused by Cloudflare (7 of 9 dependent services affected, ...)" for an outage with a cause."""
    return cause_text(outage.cause_evidence if isinstance(outage.cause_evidence, dict) else {})


_SENTENCES: dict[str, Callable[[Mapping[str, Any], Mapping[str, str]], str]] = {
    EventKind.CAUSE: lambda data, labels: cause_text(data) + ".",
    EventKind.REPORTS_RISING: lambda data, labels: _("Reports started rising above the usual level."),
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
    span = _("1 minute") if window == 1 else _("%(minutes)s minutes") % {"minutes": f"{window:g}"}
    reports = ngettext("%(count)s report", "%(count)s reports", actual) % {"count": actual}
    return _("%(reports)s in %(span)s, %(expected)s expected") % {
        "reports": reports,
        "span": span,
        "expected": one_decimal(expected),
    }


def _probe(data: Mapping[str, Any]) -> str:
    name = data.get("name")
    return _("Monitoring probe “%(name)s”") % {"name": name} if name else _("A monitoring probe")


def _level(value: Any) -> str:
    return Level(value).label.lower() if value in Level.values else _("unknown")


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
    return Level(value).label if value in Level.values else _("Not analysed yet")
