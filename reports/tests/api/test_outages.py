"""GET /api/v1/outages/: one query per page, two when upstream outages on it name the outages they caused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework import serializers

from catalog.tests.factories import make_service
from reports.api.outages import OutageDetailApi, OutageSerializer
from reports.models import CauseStatus, Outage, OutageStatus
from reports.selectors.outages import outage_dependents_prefetch, outage_get, outage_list
from reports.tests.api.test_filters import HOUR, T0, make_outage

pytestmark = pytest.mark.django_db

URL = "/api/v1/outages/"


@pytest.fixture
def api() -> Client:
    return Client(REMOTE_ADDR="81.2.69.142")


def many_outages(count: int) -> list[Outage]:
    services = [make_service(f"shop-{i}", f"Shop {i}") for i in range(3)]
    return [
        make_outage(services[i % 3], started=T0 - i * HOUR, resolved=T0 - i * HOUR + dt.timedelta(minutes=30))
        for i in range(count)
    ]


def caused(upstream: Outage, *dependents: Outage) -> None:
    for outage in dependents:
        outage.cause, outage.cause_outage, outage.cause_status = upstream.service, upstream, CauseStatus.LIKELY
        outage.save()


def test_a_page_of_outages_is_one_query_however_many(api, django_assert_num_queries):
    many_outages(60)
    with django_assert_num_queries(1):
        body = api.get(URL).json()
    assert len(body["results"]) == 50 and all(o["affected_dependents"] == [] for o in body["results"])
    with django_assert_num_queries(1):
        assert len(api.get(body["next"]).json()["results"]) == 10


def test_upstream_outages_on_a_page_cost_one_query_more_however_many(api, django_assert_num_queries):
    outages = many_outages(12)
    caused(outages[0], outages[3], outages[6])
    caused(outages[1], outages[4])
    caused(outages[2], outages[5], outages[8], outages[11])
    with django_assert_num_queries(2):
        results = api.get(URL).json()["results"]

    dependents = {o["id"]: [d["id"] for d in o["affected_dependents"]] for o in results}
    # In the order they started: the oldest first.
    assert dependents[outages[0].pk] == [outages[6].pk, outages[3].pk]
    assert dependents[outages[1].pk] == [outages[4].pk]
    assert dependents[outages[2].pk] == [outages[11].pk, outages[8].pk, outages[5].pk]
    assert all(dependents[o.pk] == [] for o in outages[3:])
    assert results[3]["cause"]["outage"] == outages[0].pk


def test_a_page_shows_the_fields_the_schema_names_and_no_others(api):
    outages = many_outages(2)
    caused(outages[0], outages[1])
    first = api.get(URL).json()["results"][0]
    assert list(first) == [
        "id",
        "service",
        "status",
        "confidence",
        "level",
        "started_at",
        "resolved_at",
        "ended_at",
        "acknowledged_at",
        "team_state",
        "peak_at",
        "peak_count",
        "peak_expected",
        "issue_types",
        "countries",
        "cause",
        "affected_dependents",
    ]
    assert first["affected_dependents"] == [
        {
            "id": outages[1].pk,
            "service": "shop-1",
            "service_name": "Shop 1",
            "status": "resolved",
            "started_at": "2026-03-01T11:00:00Z",
            "cause_status": "likely",
        }
    ]


def generic(serializer: serializers.Serializer, outage: Outage) -> dict:
    """What DRF's own Serializer.to_representation gives, field by field."""
    return serializers.Serializer.to_representation(serializer, outage)


def test_the_outage_fields_written_directly_are_what_drf_writes(api):
    # OutageSerializer writes its plain fields itself (a fifth of a page's cost was DRF's generic
    # field machinery): open and resolved, with and without a cause, dependents, a team state,
    # a peak, and in another active time zone, each must match DRF's answer key for key, in order.
    outages = many_outages(4)
    caused(outages[0], outages[1], outages[2])
    outages[3].status, outages[3].resolved_at, outages[3].team_state = OutageStatus.OPEN, None, "identified"
    outages[3].acknowledged_at = T0 + dt.timedelta(minutes=7, microseconds=1500)
    outages[3].peak_at, outages[3].peak_count, outages[3].peak_expected = T0, 41, 2.5
    outages[3].countries = {"DE": 30, "??": 4}
    outages[3].save()
    listed = list(outage_list())
    outage_dependents_prefetch(listed)
    for zone in ("UTC", "Europe/Berlin"):
        with timezone.override(zone):
            for outage in listed:
                fast = OutageSerializer(outage).data
                assert list(fast.items()) == list(generic(OutageSerializer(), outage).items())
                detail = OutageDetailApi.OutputSerializer(outage_get(outage_id=outage.pk))
                assert list(detail.data.items()) == list(generic(detail, detail.instance).items())
    shown = {o["id"]: o for o in api.get(URL).json()["results"]}
    assert shown[outages[3].pk]["acknowledged_at"] == "2026-03-01T12:07:00.001500Z"
    assert [d["id"] for d in shown[outages[0].pk]["affected_dependents"]] == [outages[2].pk, outages[1].pk]
