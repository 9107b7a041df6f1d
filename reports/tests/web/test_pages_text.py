"""The public pages' words (reports.templatetags.pages): UTC times, durations, outage events."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.template import Context, Template

from reports.models import EventKind, Level
from reports.templatetags.pages import duration_text, duration_until, event_sentence, level_label, utc_time

LABELS = {"payment": "Payment", "shipping": "Shipping"}
OPENED = {
    "actual": 312,
    "expected": 24.46,
    "window_minutes": 15,
    "p_value": 1e-12,
    "count": 40,
    "expected_row": 1.6,
    "by": "reports",
    "level": "outage",
}


def test_utc_time_is_a_time_element_in_utc_whatever_the_zone():
    berlin = dt.datetime(2026, 11, 20, 13, 5, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    assert utc_time(berlin) == '<time datetime="2026-11-20T12:05:00Z">2026-11-20 12:05 UTC</time>'
    assert utc_time(berlin, "time") == '<time datetime="2026-11-20T12:05:00Z">12:05 UTC</time>'
    assert utc_time(None) == ""


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (dt.timedelta(seconds=59), "under a minute"),
        (dt.timedelta(minutes=45, seconds=59), "45 min"),
        (dt.timedelta(hours=1), "1 h"),
        (dt.timedelta(hours=1, minutes=5), "1 h 5 min"),
        (dt.timedelta(days=2, hours=3, minutes=59), "2 d 3 h"),
        (dt.timedelta(days=1, minutes=30), "1 d"),
    ],
)
def test_duration_text_uses_two_units_at_most(delta, text):
    assert duration_text(delta) == text


def test_duration_until_runs_to_now_for_what_is_still_going_on():
    start = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start + dt.timedelta(minutes=90), tick=False):
        assert duration_until(start, None) == "1 h 30 min"
    assert duration_until(start, start + dt.timedelta(minutes=20)) == "20 min"
    assert duration_until(None, None) == ""


@pytest.mark.parametrize(
    ("kind", "data", "sentence"),
    [
        (EventKind.REPORTS_RISING, {}, "Reports started rising above the usual level."),
        (EventKind.OPENED, OPENED, "Outage opened on user reports: 312 reports in 15 minutes, 24.5 expected."),
        (EventKind.OPENED, {**OPENED, "by": "probes"}, "Outage opened: a monitoring probe found the service down."),
        (
            EventKind.REOPENED,
            OPENED,
            "Reopened: reports rose again soon after it was resolved (312 reports in 15 minutes, 24.5 expected).",
        ),
        (
            EventKind.LEVEL_CHANGED,
            {**OPENED, "from": "possible", "to": "outage", "actual": 1, "window_minutes": 1},
            "Level changed from possible problems to outage: 1 report in 1 minute, 24.5 expected.",
        ),
        (
            EventKind.PROBE_DOWN,
            {"probe": 3, "name": "Checkout", "evidence": {"regions": {"eu": "down", "us": "down", "ap": "up"}}},
            "Monitoring probe “Checkout” found the service down (2 of 3 regions).",
        ),
        (
            EventKind.PROBE_UP,
            {"probe": 3, "name": "Checkout"},
            "Monitoring probe “Checkout” found the service up again.",
        ),
        (EventKind.PEAK, {"count": 96, "expected": 1.234}, "Reports peaked: 96 in one minute, against 1.2 expected."),
        (
            EventKind.ISSUE_MIX_CHANGED,
            {"from": "payment", "to": "shipping", "counts": {}},
            "The most reported problem changed from Payment to Shipping.",
        ),
        (
            EventKind.RESOLVED,
            {**OPENED, "back_to_normal_at": "2026-11-20T15:40:00+00:00"},
            "Resolved: reports back to normal since 15:40 UTC.",
        ),
        (
            EventKind.STATUS_UPDATE,
            {"state": "identified", "message": "A bad deploy", "author": "Shop status bot"},
            "Shop status bot posted a status update: identified.",
        ),
    ],
)
def test_each_event_kind_reads_as_a_sentence(kind, data, sentence):
    assert event_sentence(kind, data, LABELS) == sentence


@pytest.mark.parametrize("kind", [*EventKind.values, "something_new"])
def test_events_without_their_data_still_read(kind):
    sentence = event_sentence(kind, {}, LABELS)
    assert sentence and sentence.endswith(".")
    odd = {"actual": "many", "expected": None, "from": ["x"], "back_to_normal_at": 5, "evidence": "?", "state": 1}
    assert event_sentence(kind, odd, LABELS).endswith(".")


def test_unknown_issue_type_key_reads_as_itself():
    assert event_sentence(EventKind.ISSUE_MIX_CHANGED, {"from": "?", "to": "login"}, LABELS) == (
        "The most reported problem changed from ? to login."
    )


def test_event_tag_escapes_what_people_wrote():
    template = Template("{% load pages %}{% event_text event labels %}")

    class Event:
        kind = EventKind.STATUS_UPDATE
        data = {"state": "monitoring", "author": "<img src=x onerror=alert(1)>"}

    html = template.render(Context({"event": Event(), "labels": {}}))
    assert "<img" not in html and html == "&lt;img src=x onerror=alert(1)&gt; posted a status update: monitoring."


def test_level_label_reads_levels_and_unanalysed_buckets():
    assert [level_label(v) for v in (Level.OK, Level.POSSIBLE, Level.OUTAGE, "none", None)] == [
        "No problems",
        "Possible problems",
        "Outage",
        "Not analysed yet",
        "Not analysed yet",
    ]
