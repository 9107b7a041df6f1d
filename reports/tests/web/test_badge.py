"""The status badge: /s/<slug>/badge.svg, "TikTok Shop | outage" in the level's colour."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.test import Client

from catalog.tests.factories import make_service
from reports.models import DetectorState, Level
from reports.tests.web.test_pages import T0
from reports.web.badges import BadgeState, badge_state, badge_svg, text_width

SVG = "{http://www.w3.org/2000/svg}"
URL = "/s/tiktok-shop/badge.svg"


def parse(svg: str | bytes) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    """The visible texts (the shadows are aria-hidden copies)."""
    return [t.text for t in root.iter(f"{SVG}text") if t.get("aria-hidden") != "true"]


def fills(root: ET.Element) -> list[str]:
    return [r.get("fill") for r in root.iter(f"{SVG}rect")]


# --- the pure parts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "message", "colour"),
    [
        (Level.OK, "operational", "#2e7d32"),
        (Level.POSSIBLE, "possible problems", "#b45309"),
        (Level.OUTAGE, "outage", "#c62828"),
        ("martian", "unknown", "#6b7280"),
    ],
)
def test_each_level_has_its_words_and_colour(level, message, colour):
    assert badge_state(level, analysed=True, stale=False) == BadgeState(message, colour)


def test_unanalysed_or_stale_status_is_unknown_whatever_the_level():
    assert badge_state(Level.OK, analysed=False, stale=True).message == "unknown"
    assert badge_state(Level.OUTAGE, analysed=True, stale=True).message == "unknown"


def test_badge_is_svg_with_label_and_message_side_by_side():
    root = parse(badge_svg("TikTok Shop", BadgeState("outage", "#c62828")))

    assert texts(root) == ["TikTok Shop", "outage"]
    assert root.get("aria-label") == "TikTok Shop: outage" and root.find(f"{SVG}title").text == "TikTok Shop: outage"
    assert fills(root)[1:3] == ["#555", "#c62828"]  # the label's grey, then the message's colour
    label, message = (float(t.get("x")) for t in root.iter(f"{SVG}text") if t.get("aria-hidden") != "true")
    label_width = int(next(r for r in root.iter(f"{SVG}rect") if r.get("fill") == "#555").get("width"))
    assert label == label_width / 2 and label_width < message < int(root.get("width"))


def test_badge_text_is_escaped():
    svg = badge_svg('<script>alert("x")</script> & Co\x01', BadgeState("outage", "#c62828"))

    assert "<script>" not in svg
    assert texts(parse(svg))[0] == '<script>alert("x")</script> & Co'  # the control character is dropped


def test_long_names_are_shortened_and_wider_texts_make_wider_badges():
    state = BadgeState("outage", "#c62828")
    long = parse(badge_svg("A" * 100, state))
    short = parse(badge_svg("AB", state))

    assert texts(long)[0] == "A" * 31 + "…"
    assert int(short.get("width")) < int(long.get("width")) < 400
    assert text_width("mmmm") > text_width("iiii")


# --- the view ---------------------------------------------------------------------------------


@pytest.fixture
def shop(db):
    return make_service()


def detector(service, level: str, last_minute: dt.datetime) -> None:
    DetectorState.objects.create(service=service, last_minute=last_minute, level=level, level_since=last_minute)


def fetch(url: str = URL, at: dt.datetime = T0, status: int = 200):
    with time_machine.travel(at, tick=False):
        response = Client().get(url)
    assert response.status_code == status
    return response


@pytest.mark.parametrize(
    ("level", "message", "colour"),
    [
        (Level.OK, "operational", "#2e7d32"),
        (Level.POSSIBLE, "possible problems", "#b45309"),
        (Level.OUTAGE, "outage", "#c62828"),
    ],
)
def test_badge_shows_the_services_current_level(shop, level, message, colour):
    detector(shop, level, T0 - dt.timedelta(minutes=2))

    response = fetch()

    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    root = parse(response.content)
    assert texts(root) == ["TikTok Shop", message] and colour in fills(root)


def test_badge_of_a_service_never_analysed_says_unknown(shop):
    assert texts(parse(fetch().content)) == ["TikTok Shop", "unknown"]


def test_badge_says_unknown_once_the_detector_has_stopped(shop):
    detector(shop, Level.OUTAGE, T0 - dt.timedelta(minutes=10))  # older than the 5-minute staleness limit

    assert texts(parse(fetch().content)) == ["TikTok Shop", "unknown"]


def test_badge_is_cached_briefly_and_may_run_nothing(shop):
    response = fetch()

    assert response["Cache-Control"] == "public, max-age=60"
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    with time_machine.travel(T0, tick=False):
        head = Client().head(URL)
    assert head.status_code == 200 and head.content == b""


def test_unknown_or_inactive_service_gets_a_404_that_is_still_a_badge(db):
    make_service("old-shop", "Old Shop", active=False)

    for url in ("/s/nope/badge.svg", "/s/old-shop/badge.svg"):
        response = fetch(url, status=404)
        assert response["Content-Type"].startswith("image/svg+xml")
        assert texts(parse(response.content)) == ["OutageHub", "no such service"]
