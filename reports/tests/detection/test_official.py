"""Official status pages on our outages: provider updates as timeline events, and silent outages."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.test import Client

from catalog.tests.factories import make_service
from reports.detection.official import official_apply
from reports.detection.tick import detection_tick
from reports.models import Confidence, EventKind, Outage, OutageEvent, OutageStatus, outage_confidence
from reports.templatetags.pages import event_sentence
from reports.tests.detection.test_tick import MINUTE, scenario
from statuspages.demo.server import FixtureServer, Route, fixture
from statuspages.models import StatusPage
from statuspages.services import status_page_poll_now

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 26, 19, 30, tzinfo=dt.UTC)  # the fixture's incident started 19:05


@pytest.fixture
def pages(settings):
    with FixtureServer() as server:
        settings.STATUSPAGES_ALLOW_PRIVATE = False
        settings.STATUSPAGES_ALLOWED_ADDRESSES = [f"127.0.0.1:{server.port}"]
        yield server


def page_for(service, pages, name, anchor=NOW, at=NOW):
    pages.routes[f"/{service.slug}.json"] = Route(fixture(name, anchor))
    page = StatusPage.objects.create(service=service, kind="atlassian", url=pages.url(f"/{service.slug}.json"))
    return status_page_poll_now(page=page, now=at, rng=random.Random(0))


def open_outage(service, started, confidence=Confidence.CROWD):
    return Outage.objects.create(
        service=service,
        confidence=confidence,
        started_at=started,
        reports_confirmed=True,
        probes_confirmed=confidence == Confidence.CONFIRMED,
    )


def official_events(outage):
    return list(OutageEvent.objects.filter(outage=outage, kind=EventKind.OFFICIAL_UPDATE).order_by("at"))


def test_each_provider_update_overlapping_the_outage_becomes_one_event(pages):
    shop = make_service()
    page_for(shop, pages, "atlassian_incident.json")
    outage = open_outage(shop, NOW.replace(minute=3))
    assert official_apply(service=shop, now=NOW) == 2
    events = official_events(outage)
    assert [e.at for e in events] == [NOW.replace(minute=5), NOW.replace(minute=20)]
    assert [e.data["status"] for e in events] == ["investigating", "identified"]
    assert event_sentence(EventKind.OFFICIAL_UPDATE, events[0].data, {}) == (
        "TikTok Shop's status page: Investigating payment errors (investigating): "
        "We are investigating payment errors at checkout."
    )


def test_applying_again_adds_nothing_and_a_new_update_adds_one(pages):
    shop = make_service()
    page = page_for(shop, pages, "atlassian_incident.json")
    outage = open_outage(shop, NOW.replace(minute=3))
    official_apply(service=shop, now=NOW)
    assert official_apply(service=shop, now=NOW + MINUTE) == 0
    pages.routes["/tiktok-shop.json"] = Route(fixture("atlassian_ok.json", NOW))  # the incident left the page
    status_page_poll_now(page=page, now=NOW + 5 * MINUTE, rng=random.Random(0))
    # Its resolution, the lifecycle's last state, stands in for the update the page did not post.
    assert official_apply(service=shop, now=NOW + 6 * MINUTE) == 1
    assert official_apply(service=shop, now=NOW + 7 * MINUTE) == 0
    events = official_events(outage)
    assert [(e.data["status"], e.at) for e in events][2:] == [("resolved", NOW + 5 * MINUTE)]
    assert len(events) == 3  # keyed by update: the fixture's own two are not repeated


def test_incidents_that_do_not_overlap_the_outage_are_left_out(pages):
    shop = make_service()
    page_for(shop, pages, "atlassian_incident.json", anchor=NOW - dt.timedelta(days=2), at=NOW - dt.timedelta(days=2))
    pages.routes["/tiktok-shop.json"] = Route(fixture("atlassian_ok.json", NOW))
    status_page_poll_now(page=StatusPage.objects.get(), now=NOW - dt.timedelta(days=1), rng=random.Random(0))
    open_outage(shop, NOW.replace(minute=3))
    assert official_apply(service=shop, now=NOW) == 0


def test_a_silent_outage_is_flagged_once_when_crowd_and_probes_agree_and_the_page_is_green(pages):
    shop = make_service()
    page_for(shop, pages, "atlassian_ok.json")
    outage = open_outage(shop, NOW - 10 * MINUTE, confidence=Confidence.CONFIRMED)
    official_apply(service=shop, now=NOW + MINUTE)
    official_apply(service=shop, now=NOW + 2 * MINUTE)
    (silent,) = OutageEvent.objects.filter(outage=outage, kind=EventKind.SILENT_OUTAGE)
    assert silent.at == NOW + MINUTE
    assert "says everything is operational" in event_sentence(EventKind.SILENT_OUTAGE, silent.data, {})


@pytest.mark.parametrize(
    ("fixture_name", "confidence", "fails", "later"),
    [
        ("atlassian_ok.json", Confidence.CROWD, False, dt.timedelta(minutes=1)),  # crowd alone: not agreed
        ("atlassian_incident.json", Confidence.CONFIRMED, False, dt.timedelta(minutes=1)),  # the page is red
        ("atlassian_ok.json", Confidence.CONFIRMED, True, dt.timedelta(minutes=1)),  # unreadable: unknown
        ("atlassian_ok.json", Confidence.CONFIRMED, False, dt.timedelta(hours=1)),  # green, but stale
    ],
)
def test_no_silent_outage_without_agreement_or_a_fresh_green_page(pages, fixture_name, confidence, fails, later):
    shop = make_service()
    page = page_for(shop, pages, fixture_name)
    if fails:
        pages.routes["/tiktok-shop.json"] = Route(b"", status=500, conditional=False)
        status_page_poll_now(page=page, now=NOW, rng=random.Random(0))
    outage = open_outage(shop, NOW - 10 * MINUTE, confidence=confidence)
    official_apply(service=shop, now=NOW + later)
    assert not OutageEvent.objects.filter(outage=outage, kind=EventKind.SILENT_OUTAGE).exists()


def test_the_detection_tick_puts_the_providers_updates_on_the_outage_it_opens(pages):
    shop = make_service()
    spike, end = scenario(shop)
    # The provider opened its incident as reports rose, and the page was read 25 minutes later.
    page_for(shop, pages, "atlassian_incident.json", anchor=spike + 25 * MINUTE, at=spike + 25 * MINUTE)
    detection_tick(service_id=shop.pk, now=end + MINUTE)
    outage = Outage.objects.get(service=shop)
    assert outage.status == OutageStatus.RESOLVED
    assert [e.data["status"] for e in official_events(outage)] == ["investigating", "identified"]
    page = Client().get(f"/s/{shop.slug}/outages/{outage.pk}/")
    assert "TikTok Shop&#x27;s status page: Investigating payment errors (investigating)" in page.content.decode()


@pytest.mark.parametrize("with_page", [False, True])
def test_an_official_page_in_trouble_turns_a_short_crowd_rise_into_an_outage(pages, with_page):
    # Four minutes of reports: too short for the crowd alone to open an outage (it shows
    # "possible problems"), but the provider's own page saying it is in trouble confirms it.
    shop = make_service()
    spike, end = scenario(shop, spike=4, spike_minutes=4, after=0)
    if with_page:
        page = page_for(shop, pages, "atlassian_incident.json", anchor=spike, at=end)
        assert page.level not in ("operational", "unknown")
    detection_tick(service_id=shop.pk, now=end + MINUTE)
    assert Outage.objects.filter(service=shop).exists() is with_page


def test_a_stale_official_page_confirms_nothing(pages):
    shop = make_service()
    spike, end = scenario(shop, spike=4, spike_minutes=4, after=0)
    page_for(shop, pages, "atlassian_incident.json", anchor=spike, at=end)
    StatusPage.objects.filter(service=shop).update(stale=True)
    detection_tick(service_id=shop.pk, now=end + MINUTE)
    assert not Outage.objects.exists()


def test_a_crowd_outage_the_official_page_confirms_is_confirmed(pages):
    # Reports open the outage (crowd); the page, read as the surge goes on, says it is in trouble.
    shop = make_service()
    spike, end = scenario(shop, after=0)
    page_for(shop, pages, "atlassian_incident.json", anchor=spike, at=end)
    detection_tick(service_id=shop.pk, now=end + MINUTE)
    outage = Outage.objects.get(service=shop)
    assert outage.status == OutageStatus.OPEN
    assert (outage.reports_confirmed, outage.probes_confirmed, outage.official_confirmed) == (True, False, True)
    assert outage.confidence == Confidence.CONFIRMED
    opened = OutageEvent.objects.get(outage=outage, kind=EventKind.OPENED)
    assert opened.data["by"] == "reports"


def test_a_crowd_outage_without_a_page_in_trouble_stays_crowd(pages):
    shop = make_service()
    spike, end = scenario(shop, after=0)
    page_for(shop, pages, "atlassian_ok.json", anchor=spike, at=end)
    detection_tick(service_id=shop.pk, now=end + MINUTE)
    outage = Outage.objects.get(service=shop)
    assert (outage.confidence, outage.official_confirmed) == (Confidence.CROWD, False)


def test_an_outage_the_official_page_opens_alone_is_official(pages):
    shop = make_service()
    spike, end = scenario(shop, spike=4, spike_minutes=4, after=0)
    page_for(shop, pages, "atlassian_incident.json", anchor=spike, at=end)
    detection_tick(service_id=shop.pk, now=end + MINUTE)
    outage = Outage.objects.get(service=shop)
    opened = OutageEvent.objects.get(outage=outage, kind=EventKind.OPENED)
    assert opened.data["by"] == "official"
    assert (outage.reports_confirmed, outage.probes_confirmed, outage.official_confirmed) == (False, False, True)
    assert outage.confidence == Confidence.OFFICIAL
    page = Client().get(f"/s/{shop.slug}/outages/{outage.pk}/").content.decode()
    assert "<dd>Official status page</dd>" in page  # the outage summary's Evidence
    detail = Client().get(f"/api/v1/outages/{outage.pk}/").json()
    assert detail["confidence"] == "official"
    assert [o["id"] for o in Client().get("/api/v1/outages/?confidence=official").json()["results"]] == [outage.pk]


@pytest.mark.parametrize(
    ("reports", "probes", "official", "expected"),
    [
        (False, False, False, Confidence.CROWD),
        (True, False, False, Confidence.CROWD),
        (False, True, False, Confidence.PROBE),
        (False, False, True, Confidence.OFFICIAL),
        (True, True, False, Confidence.CONFIRMED),
        (True, False, True, Confidence.CONFIRMED),
        (False, True, True, Confidence.CONFIRMED),
        (True, True, True, Confidence.CONFIRMED),
    ],
)
def test_confidence_is_confirmed_by_any_two_signals(reports, probes, official, expected):
    assert outage_confidence(reports=reports, probes=probes, official=official) == expected


def test_an_official_page_in_trouble_alone_opens_no_outage(pages):
    # Pages sit at "degraded" for days: without any rise in reports (or a probe down) the page
    # confirms nothing, so no outage opens, resolves and reopens every quarter hour.
    shop = make_service()
    spike, end = scenario(shop, spike=1, spike_minutes=30, after=30)
    page = page_for(shop, pages, "atlassian_incident.json", anchor=spike, at=end)
    assert page.level not in ("operational", "unknown")
    detection_tick(service_id=shop.pk, now=end + MINUTE)
    assert not Outage.objects.filter(service=shop).exists()
