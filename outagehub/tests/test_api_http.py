"""HTTP around the API: conditional GET (ETag, Last-Modified, 304), Cache-Control, and CORS for reads."""

from __future__ import annotations

import datetime as dt
import json
import socket

import pytest
import time_machine
from django.core.cache import caches
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from django.utils.http import http_date

from catalog.models import Service
from catalog.tests.factories import make_service
from reports.api.auth import api_key_create
from reports.tests.factories import ALICE

pytestmark = pytest.mark.django_db

DETAIL = "/api/v1/services/tiktok-shop/"
REPORTS = "/api/v1/services/tiktok-shop/reports/"
ORIGIN = "https://dashboard.example"
T0 = dt.datetime(2026, 11, 26, 12, 0, 0, tzinfo=dt.UTC)
CORS_HEADERS = {
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
    "Access-Control-Allow-Credentials",
    "Access-Control-Max-Age",
}


@pytest.fixture(autouse=True)
def service():
    caches["conditional"].clear()
    yield make_service()
    caches["conditional"].clear()


@pytest.fixture
def api() -> Client:
    return Client(REMOTE_ADDR=str(ALICE), HTTP_ORIGIN=ORIGIN)


def change(service: Service) -> None:
    Service.objects.filter(pk=service.pk).update(description=f"{service.description} (changed)")


def cors_headers(response) -> set[str]:
    return {name for name in CORS_HEADERS if response.has_header(name)}


def test_a_read_has_an_etag_and_sending_it_back_is_a_bodiless_304(api):
    first = api.get(DETAIL)
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')

    again = api.get(DETAIL, HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert again["Cache-Control"] == "public, max-age=30"
    assert again["Access-Control-Allow-Origin"] == "*"


def test_a_changed_representation_has_a_new_etag_and_answers_200(api, service):
    etag = api.get(DETAIL)["ETag"]
    change(service)

    response = api.get(DETAIL, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response.json()["description"].endswith("(changed)")


def test_head_is_conditional_too(api):
    etag = api.get(DETAIL)["ETag"]
    assert api.head(DETAIL)["ETag"] == etag
    assert api.head(DETAIL, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_last_modified_is_when_the_representation_was_first_served(api, service):
    with time_machine.travel(T0, tick=False):
        first = api.get(DETAIL)
    assert first["Last-Modified"] == http_date(T0.timestamp())

    with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False):
        unchanged = api.get(DETAIL, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
        assert unchanged.status_code == 304
        assert unchanged["Last-Modified"] == first["Last-Modified"]

        change(service)
        changed = api.get(DETAIL, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert changed.status_code == 200
    assert changed["Last-Modified"] == http_date((T0 + dt.timedelta(minutes=5)).timestamp())


def test_an_if_modified_since_later_than_our_clock_is_ignored(api, service):
    with time_machine.travel(T0, tick=False):
        first = api.get(DETAIL)
    with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False):
        future = http_date((T0 + dt.timedelta(days=365)).timestamp())
        # Honoured, it would pin the client to its copy: every later change is "before" it.
        assert api.get(DETAIL, HTTP_IF_MODIFIED_SINCE=future).status_code == 200
        assert api.get(DETAIL, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304


def test_a_second_change_within_a_second_withholds_last_modified_until_the_next_second(api, service):
    with time_machine.travel(T0, tick=False):
        first = api.get(DETAIL)
        change(service)
        second = api.get(DETAIL)
    # Both would say 12:00:00: an If-Modified-Since from the first would match the second.
    assert first["Last-Modified"] == http_date(T0.timestamp())
    assert second.status_code == 200 and not second.has_header("Last-Modified")

    with time_machine.travel(T0 + dt.timedelta(seconds=1), tick=False):
        stale = api.get(DETAIL, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
        assert stale.status_code == 200
        assert stale["Last-Modified"] == http_date(T0.timestamp() + 1)
        assert api.get(DETAIL, HTTP_IF_MODIFIED_SINCE=stale["Last-Modified"]).status_code == 304


def test_without_its_cache_a_read_still_answers_with_an_etag_and_no_last_modified(api, settings):
    with socket.socket() as s:  # a port nothing listens on: the cache refuses connections
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.CACHES = {
        **settings.CACHES,
        "conditional": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    response = api.get(DETAIL)
    assert response.status_code == 200
    assert response.has_header("ETag") and not response.has_header("Last-Modified")
    assert api.get(DETAIL, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_anonymous_reads_may_be_kept_by_any_cache_for_the_configured_seconds(api, settings):
    assert api.get(DETAIL)["Cache-Control"] == "public, max-age=30"
    assert api.get("/api/v1/services/")["Cache-Control"] == "public, max-age=30"
    settings.OUTAGEHUB_API_CACHE_SECONDS = 120
    assert api.get(DETAIL)["Cache-Control"] == "public, max-age=120"


@pytest.mark.parametrize("header", ["HTTP_AUTHORIZATION", "HTTP_X_API_KEY"])
def test_reads_with_an_api_key_are_for_that_client_only(api, header):
    key = api_key_create(name="Reader", scopes=["read"])[1]  # an unknown key is a 401 (reports.api.auth)
    response = api.get(DETAIL, **{header: f"Bearer {key}" if header == "HTTP_AUTHORIZATION" else key})
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-cache"


def test_read_errors_are_never_stored(api):
    missing = api.get("/api/v1/services/nope/")
    assert missing.status_code == 404
    assert missing["Cache-Control"] == "no-store"
    assert not missing.has_header("ETag") and not missing.has_header("Last-Modified")
    # Cross-origin readers see read errors too: they are public information.
    assert missing["Access-Control-Allow-Origin"] == "*"


def test_a_filed_report_is_not_cacheable_and_not_readable_cross_origin(api):
    created = api.post(REPORTS, data=json.dumps({"issue_type": "payment"}), content_type="application/json")
    assert created.status_code == 201
    assert created["Cache-Control"] == "no-store"
    assert not created.has_header("ETag") and not created.has_header("Last-Modified")
    assert cors_headers(created) == set()


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [("issue_type=payment", "application/x-www-form-urlencoded", 415), ("{", "application/json", 400)],
)
def test_report_errors_are_not_cacheable_and_not_readable_cross_origin(api, body, content_type, status):
    response = api.post(REPORTS, data=body, content_type=content_type)
    assert response.status_code == status
    assert response["Cache-Control"] == "no-store"
    assert cors_headers(response) == set()


def test_too_many_reports_are_a_429_no_proxy_keeps(api, settings):
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "1/min"
    body = json.dumps({"issue_type": "payment"})
    assert api.post(REPORTS, data=body, content_type="application/json").status_code == 201
    throttled = api.post(REPORTS, data=body, content_type="application/json")
    assert throttled.status_code == 429
    assert throttled["Cache-Control"] == "no-store"
    assert cors_headers(throttled) == set()


def test_cross_origin_reads_are_allowed_from_any_origin(api):
    response = api.get(DETAIL)
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Expose-Headers"] == "ETag, Retry-After"
    assert not response.has_header("Access-Control-Allow-Credentials")


def test_a_read_without_an_origin_has_no_cors_headers_and_varies_on_origin():
    # django-cors-headers answers CORS only to requests that send an Origin; Vary keeps a shared
    # cache from serving this copy to a cross-origin page, which would then be refused.
    response = Client(REMOTE_ADDR=str(ALICE)).get(DETAIL)
    assert response.status_code == 200
    assert cors_headers(response) == set()
    assert "origin" in response["Vary"].lower()


def test_a_preflight_for_a_read_is_answered_before_any_view(api):
    response = api.options(
        "/api/v1/services/",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-api-key, if-none-match",
    )
    assert response.status_code == 200  # django-cors-headers' answer: 200 and no body
    assert response.content == b""
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    allowed = {name.strip().lower() for name in response["Access-Control-Allow-Headers"].split(",")}
    assert {"x-api-key", "if-none-match", "authorization"} <= allowed
    assert int(response["Access-Control-Max-Age"]) > 0


@pytest.mark.parametrize("method", ["POST", "DELETE", "PUT"])
def test_a_preflight_for_a_write_is_not_allowed(api, method):
    response = api.options(
        REPORTS, HTTP_ACCESS_CONTROL_REQUEST_METHOD=method, HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type"
    )
    # Answered before any view, but with no Access-Control-Allow-Origin the browser refuses the write.
    assert response.status_code == 200 and response.content == b""
    assert cors_headers(response) == set()


def test_a_preflight_with_a_host_not_allowed_is_refused_like_any_request(settings):
    settings.ALLOWED_HOSTS = ["outagehub.example"]
    client = Client(raise_request_exception=False, HTTP_ORIGIN=ORIGIN)
    response = client.options("/api/v1/services/", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert cors_headers(response) == set()


def test_a_failed_if_match_is_a_412_with_the_error_body(api):
    response = api.get(DETAIL, HTTP_IF_MATCH='"not-this-one"')
    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    assert response["Cache-Control"] == "no-store"


def test_pages_outside_the_api_are_left_alone(api):
    response = api.get("/s/tiktok-shop/")
    assert response.status_code == 200
    assert cors_headers(response) == set()
    assert not response.has_header("ETag")
    assert "public" not in response.get("Cache-Control", "")


# Views of kinds the API has none of yet, for the tests below (pytest.mark.urls).
urlpatterns = [
    path("api/empty/", lambda request: HttpResponse(b"")),
    path("api/tagged/", lambda request: HttpResponse(b"{}", headers={"ETag": '"v7"'})),
]


@pytest.mark.urls(__name__)
def test_an_empty_read_has_no_etag_and_is_still_answered(api):
    response = api.get("/api/empty/")
    assert response.status_code == 200
    assert not response.has_header("ETag") and not response.has_header("Last-Modified")


@pytest.mark.urls(__name__)
def test_a_view_that_sets_its_own_etag_keeps_it(api):
    assert api.get("/api/tagged/")["ETag"] == '"v7"'
    assert api.get("/api/tagged/", HTTP_IF_NONE_MATCH='"v7"').status_code == 304
