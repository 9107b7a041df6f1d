"""Upstream attribution end to end: simulated cascades through detection to stored causes, pages, API, webhooks."""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest
import time_machine
from django.db import connections
from django.test import Client

from catalog.loader import catalog_load, parse_catalog
from catalog.models import Service
from reports.api.auth import api_key_create
from reports.detection.tick import detection_tick
from reports.models import CauseStatus, EventKind, Outage, OutageEvent, WebhookDelivery, WebhookEvent
from reports.outages.attribution import outages_attribute
from reports.outages.webhooks import webhook_create
from reports.simulation.services import simulated_cascade_schedule, simulated_outage_schedule, simulator_backfill

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)
NOW = dt.datetime(2026, 3, 4, 19, 30, 30, tzinfo=dt.UTC)  # a Wednesday, at the daily peak
START = NOW - 45 * MINUTE  # the upstream fails
HISTORY = dt.timedelta(hours=3)

CATALOG = """
services:
  - {slug: cdn, name: Edge CDN, demo_traffic: 1.0}
  - {slug: shop-a, name: Shop A, demo_traffic: 1.0, depends_on: [cdn]}
  - {slug: shop-b, name: Shop B, demo_traffic: 1.0, depends_on: [cdn]}
  - {slug: shop-c, name: Shop C, demo_traffic: 1.0, depends_on: [cdn]}
  - {slug: shop-d, name: Shop D, demo_traffic: 1.0, depends_on: [cdn]}
  - {slug: bystander, name: Bystander, demo_traffic: 1.0}
"""


@pytest.fixture
def services() -> dict[str, Service]:
    catalog_load(parse_catalog(CATALOG))
    return {s.slug: s for s in Service.objects.all()}


def run_detection_and_attribution(services: dict[str, Service], *, official=None, now=NOW) -> int:
    simulator_backfill(start=NOW - HISTORY, end=now, rng=random.Random(7))
    for service in services.values():
        detection_tick(service_id=service.pk, now=now)
    return outages_attribute(now=now, official=official or {})


def test_an_upstream_outage_cascading_to_its_dependents_gives_them_the_upstream_as_cause(services):
    rows = simulated_cascade_schedule(
        upstream=services["cdn"],
        issue_type_key="server",
        starts_at=START,
        ends_at=START + 30 * MINUTE,
        factor=15,
        rng=random.Random(3),
    )
    assert [r.service.slug for r in rows] == ["cdn", "shop-a", "shop-b", "shop-c", "shop-d"]
    assert all(START + MINUTE <= r.starts_at <= START + 15 * MINUTE for r in rows[1:])

    changed = run_detection_and_attribution(services)

    upstream = Outage.objects.get(service=services["cdn"])
    dependents = list(Outage.objects.filter(service__slug__startswith="shop-").order_by("service__slug"))
    assert len(dependents) == 4 and changed == 4
    for outage in dependents:
        assert outage.cause == services["cdn"]
        assert outage.cause_outage == upstream
        # The CDN's own crowd opened an outage: it confirms.
        assert outage.cause_status == CauseStatus.CONFIRMED
        assert outage.cause_evidence["affected"] == 4 and outage.cause_evidence["dependents"] == 4
        event = OutageEvent.objects.get(outage=outage, kind=EventKind.CAUSE)
        assert event.data["cause_name"] == "Edge CDN"
    assert upstream.cause is None
    assert Outage.objects.filter(service=services["bystander"]).count() == 0
    assert sorted(upstream.affected_dependents.values_list("service__slug", flat=True)) == [
        "shop-a",
        "shop-b",
        "shop-c",
        "shop-d",
    ]

    # Running again (another worker, the next tick) changes nothing and adds no event.
    assert outages_attribute(now=NOW, official={}) == 0
    assert OutageEvent.objects.filter(kind=EventKind.CAUSE).count() == 4


def test_an_unrelated_single_outage_of_a_dependent_gets_no_cause(services):
    simulated_outage_schedule(
        service=services["shop-b"], issue_type_key="payment", starts_at=START, ends_at=START + 30 * MINUTE, factor=15
    )

    assert run_detection_and_attribution(services) == 0

    outage = Outage.objects.get(service=services["shop-b"])
    assert (outage.cause, outage.cause_status, outage.cause_evidence) == (None, "", {})
    assert not OutageEvent.objects.filter(kind=EventKind.CAUSE).exists()


# --- stored causes from constructed outages (fast) ---------------------------------------------------


def open_outage(service: Service, minutes_after: int, **kwargs) -> Outage:
    return Outage.objects.create(
        service=service, confidence="crowd", started_at=START + minutes_after * MINUTE, **kwargs
    )


@pytest.fixture
def three_down(services) -> list[Outage]:
    """Three of the CDN's four dependents down within minutes; the CDN itself quiet."""
    return [open_outage(services[slug], lag) for slug, lag in (("shop-a", 2), ("shop-b", 4), ("shop-c", 7))]


def test_a_likely_cause_is_confirmed_by_the_official_page_on_the_same_timeline_event(services, three_down):
    later = NOW + 2 * MINUTE

    assert outages_attribute(now=NOW, official={}) == 3
    outage = Outage.objects.get(pk=three_down[0].pk)
    assert (outage.cause_status, outage.cause_evidence["affected"]) == (CauseStatus.LIKELY, 3)
    event = OutageEvent.objects.get(outage=outage, kind=EventKind.CAUSE)
    assert event.at == NOW

    assert outages_attribute(now=later, official={services["cdn"].pk: "major_outage"}) == 3

    outage.refresh_from_db()
    assert outage.cause_status == CauseStatus.CONFIRMED
    assert outage.cause_evidence["official_level"] == "major_outage"
    event = OutageEvent.objects.get(outage=outage, kind=EventKind.CAUSE)  # still one
    assert event.at == NOW and event.data["confirmed_at"] == later.isoformat()
    # The page going green again does not undo what the upstream said.
    assert outages_attribute(now=later + MINUTE, official={services["cdn"].pk: "operational"}) == 0
    outage.refresh_from_db()
    assert outage.cause_status == CauseStatus.CONFIRMED


def test_a_worker_holding_an_old_revision_writes_nothing(services, three_down):
    stale = Outage.objects.get(pk=three_down[0].pk)
    outages_attribute(now=NOW, official={})

    from reports.detection.attribution import CauseStatus as Status
    from reports.detection.attribution import attribute
    from reports.outages.attribution import _episodes, _probes_down, dependency_graph, outage_cause_set

    involved = set(dependency_graph()) | {services["cdn"].pk}
    cause = attribute(
        _episodes(involved, NOW - dt.timedelta(hours=4)),
        dependencies=dependency_graph(),
        probes_down=_probes_down(involved, NOW - dt.timedelta(hours=4)),
        official={services["cdn"].pk: "major_outage"},
        now=NOW,
    )[stale.pk]
    assert cause.status == Status.CONFIRMED

    names = {s.pk: (s.slug, s.name) for s in services.values()}
    assert outage_cause_set(outage=stale, cause=cause, names=names, now=NOW) is False
    stale.refresh_from_db()
    assert (stale.cause_status, stale.cause_revision) == (CauseStatus.LIKELY, 1)


def test_webhooks_hear_of_a_new_cause_and_its_confirmation_with_the_cause_in_the_payload(
    services, three_down, django_capture_on_commit_callbacks
):
    owner, _ = api_key_create(name="Team", scopes=["webhooks"])
    webhook_create(owner=owner, url="https://hooks.example/x", events=[WebhookEvent.OUTAGE_UPDATED])
    outage_id = three_down[1].pk

    with django_capture_on_commit_callbacks():
        outages_attribute(now=NOW, official={})
        outages_attribute(now=NOW, official={})  # nothing new: nothing sent
        outages_attribute(now=NOW + MINUTE, official={services["cdn"].pk: "partial_outage"})

    payloads = [d.payload["outage"] for d in WebhookDelivery.objects.filter(outage_id=outage_id).order_by("id")]
    assert [p["cause"]["status"] for p in payloads] == ["likely", "confirmed"]
    cause = payloads[1]["cause"]
    assert (cause["service"], cause["service_name"], cause["outage"]) == ("cdn", "Edge CDN", None)
    assert (
        cause["summary"]
        == "Caused by Edge CDN (3 of 4 dependent services affected, Edge CDN's status page: partial outage)"
    )
    assert cause["evidence"]["affected_services"] == ["shop-a", "shop-b", "shop-c"]


def test_the_api_shows_the_cause_and_an_upstream_outages_affected_dependents(services, three_down):
    upstream = open_outage(services["cdn"], 0)
    outages_attribute(now=NOW, official={})
    client = Client()

    detail = client.get(f"/api/v1/outages/{three_down[0].pk}/").json()
    assert detail["cause"]["service"] == "cdn"
    assert detail["cause"]["status"] == "confirmed"  # the CDN's own outage at level outage
    assert detail["cause"]["outage"] == upstream.pk
    assert detail["cause"]["evidence"]["affected"] == 3
    assert detail["affected_dependents"] == []
    assert any(e["kind"] == "cause" for e in detail["timeline"])

    up = client.get(f"/api/v1/outages/{upstream.pk}/").json()
    assert up["cause"] is None
    assert [d["service"] for d in up["affected_dependents"]] == ["shop-a", "shop-b", "shop-c"]
    assert {d["cause_status"] for d in up["affected_dependents"]} == {"confirmed"}

    listed = {o["id"]: o for o in client.get("/api/v1/outages/").json()["results"]}
    assert listed[three_down[2].pk]["cause"]["service"] == "cdn"
    assert len(listed[upstream.pk]["affected_dependents"]) == 3
    assert listed[upstream.pk]["cause"] is None


def test_the_outage_pages_link_cause_and_dependents_and_the_service_page_names_upstreams(services, three_down):
    upstream = open_outage(services["cdn"], 0)
    outages_attribute(now=NOW, official={})
    client = Client()

    page = client.get(f"/s/shop-a/outages/{three_down[0].pk}/").content.decode()
    assert "Caused by Edge CDN" in page and "3 of 4 dependent services affected" in page
    assert f'href="/s/cdn/outages/{upstream.pk}/"' in page

    up_page = client.get(f"/s/cdn/outages/{upstream.pk}/").content.decode()
    for slug, outage in zip(("shop-a", "shop-b", "shop-c"), three_down, strict=True):
        assert f'href="/s/{slug}/outages/{outage.pk}/"' in up_page

    shop_page = client.get("/s/shop-a/").content.decode()
    assert 'href="/s/cdn/"' in shop_page and "Depends on" in shop_page
    cdn_page = client.get("/s/cdn/").content.decode()
    assert 'href="/s/shop-d/"' in cdn_page


@pytest.mark.django_db(transaction=True)
def test_two_workers_attributing_at_once_write_each_change_once(postgres, services, three_down):
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def work():
        try:
            barrier.wait()
            results.append(outages_attribute(now=NOW, official={services["cdn"].pk: "major_outage"}))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors
    assert sum(results) == 3  # each outage's change stored by exactly one of them
    assert OutageEvent.objects.filter(kind=EventKind.CAUSE).count() == 3
    assert set(Outage.objects.filter(cause__isnull=False).values_list("cause_revision", flat=True)) == {1}


def test_the_beat_task_attributes_on_crowd_and_probes_alone_until_status_pages_are_wired(
    services, three_down, settings
):
    from reports.tasks import attribution_tick

    assert settings.CELERY_BEAT_SCHEDULE["attribution-tick"]["task"] == "reports.tasks.attribution_tick"
    with time_machine.travel(NOW, tick=False):
        assert attribution_tick() == 3
        assert attribution_tick() == 0
    assert {o.cause_status for o in Outage.objects.filter(pk__in=[o.pk for o in three_down])} == {"likely"}
