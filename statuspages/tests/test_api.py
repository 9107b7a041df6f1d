"""GET /api/v1/services/{slug}/status-page/ against a page polled from a real loopback server."""

from __future__ import annotations

import random

import pytest
from django.test import Client

from catalog.tests.factories import make_service
from outagehub.tests.test_api_examples import schema_example, shape
from statuspages.demo.server import Route, fixture
from statuspages.services import status_page_poll_now
from statuspages.tests.conftest import NOW
from statuspages.tests.factories import make_page

pytestmark = pytest.mark.django_db
PATH = "/api/v1/services/{slug}/status-page/"


@pytest.fixture(scope="module")
def schema():
    return Client().get("/api/v1/schema/?format=json").json()


@pytest.fixture
def polled(allowed, time_machine):
    time_machine.move_to(NOW)
    allowed.routes["/s.json"] = Route(fixture("atlassian_incident.json", NOW))
    return status_page_poll_now(page=make_page(allowed.url("/s.json")), now=NOW, rng=random.Random(0))


def test_the_page_is_served_with_the_fields_of_its_example(schema, polled):
    response = Client().get(PATH.format(slug="tiktok-shop"))
    assert response.status_code == 200
    body = response.json()
    assert shape(body) == shape(schema_example(schema, "get", PATH, "200"))
    assert (body["level"], body["stale"], body["description"]) == ("partial_outage", False, "Partial System Outage")
    assert body["incidents"][0]["updates"][-1]["status"] == "identified"
    assert body["fetched_at"] == "2026-11-26T19:30:00Z"


def test_a_service_without_a_page_is_a_404_naming_status_page(schema):
    make_service("etsy", "Etsy")
    response = Client().get(PATH.format(slug="etsy"))
    assert response.status_code == 404
    assert response.json() == schema_example(schema, "get", PATH, "404")


def test_an_unknown_service_is_a_404_naming_service():
    response = Client().get(PATH.format(slug="nope"))
    assert response.status_code == 404
    assert response.json()["errors"] == {"service": ["No service with slug 'nope'."]}


def test_a_failed_poll_shows_unknown_and_stale_with_the_last_good_components(allowed, polled, time_machine):
    allowed.routes["/s.json"] = Route(b"<html>", status=503, conditional=False)
    status_page_poll_now(page=polled, now=NOW, rng=random.Random(0))
    body = Client().get(PATH.format(slug="tiktok-shop")).json()
    assert (body["level"], body["stale"], body["reason"]) == ("unknown", True, "HTTP 503")
    assert len(body["components"]) == 3
