"""A view that loses the database answers 503 with Retry-After, in the API's error shape or as a page, never a 500."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError
from django.db.backends.utils import CursorWrapper

from catalog.tests.factories import make_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_down(monkeypatch):
    def make_down(error=OperationalError):
        def raising(self, *args, **kwargs):
            raise error("the database went away")

        monkeypatch.setattr(CursorWrapper, "execute", raising)
        monkeypatch.setattr(CursorWrapper, "executemany", raising)

    return make_down


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_an_api_read_without_its_database_is_a_503_in_the_error_shape(client, database_down, error):
    make_service()
    database_down(error)
    response = client.get("/api/v1/outages/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0 and response["Cache-Control"] == "no-store"
    assert response.json()["code"] == "unavailable" and "the database" not in response.content.decode()


def test_a_page_without_its_database_is_a_short_503_page(client, database_down):
    make_service()
    database_down()
    response = client.get("/s/tiktok-shop/")
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert b"briefly unavailable" in response.content and b"Traceback" not in response.content


def test_other_errors_are_not_dressed_as_unavailability(client, monkeypatch):
    make_service()

    def broken(self, *args, **kwargs):
        raise ZeroDivisionError

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    client.raise_request_exception = False
    assert client.get("/api/v1/outages/").status_code == 500
