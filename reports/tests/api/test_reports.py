from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from catalog.tests.factories import make_service
from reports.api.reports import ReportCreateApi
from reports.models import Channel, Report

pytestmark = pytest.mark.django_db

URL = "/api/v1/services/tiktok-shop/reports/"


@pytest.fixture
def service():
    return make_service()


@pytest.fixture
def api() -> Client:
    return Client(REMOTE_ADDR="81.2.69.142", HTTP_USER_AGENT="curl/8.5")


def post(api: Client, body, url: str = URL, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return api.post(url, data=data, content_type="application/json", **extra)


def assert_error(response, status: int, field: str | None, *needles: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "code", "errors"}
    if field is not None:
        assert field in body["errors"], body
        text = " ".join(body["errors"][field])
        for needle in needles:
            assert needle in text, body
        assert field in body["message"]
    return body


def test_report_is_created_with_the_documented_shape(api, service):
    response = post(api, {"issue_type": "payment", "comment": "can't pay", "country": "DE"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "service",
        "issue_type",
        "counted",
        "not_counted_reason",
        "counts_again_at",
        "created_at",
    }
    assert (body["not_counted_reason"], body["counts_again_at"]) == (None, None)
    assert body["service"] == "tiktok-shop"
    assert body["issue_type"] == "payment"
    assert body["counted"] is True
    report = Report.objects.get(id=body["id"])
    assert (report.channel, report.country, report.comment) == (Channel.API, "DE", "can't pay")


def test_repeat_report_from_the_same_client_is_not_counted_and_says_until_when(api, service, settings):
    post(api, {"issue_type": "payment"})
    second = post(api, {"issue_type": "server"})
    assert second.status_code == 201
    assert second.json()["counted"] is False
    assert second.json()["not_counted_reason"] == "cooldown"
    first_at = Report.objects.order_by("id").first().created_at
    cooldown = dt.timedelta(seconds=settings.OUTAGEHUB_REPORT_COOLDOWN_SECONDS)
    assert dt.datetime.fromisoformat(second.json()["counts_again_at"]) == first_at + cooldown


def test_comment_and_country_may_be_null_or_absent(api, service):
    response = post(api, {"issue_type": "server", "comment": None, "country": None})
    assert response.status_code == 201
    assert Report.objects.get().country == "GB"  # derived from 81.2.69.142


def test_unknown_service_is_404_naming_the_service(api, service):
    assert_error(post(api, {"issue_type": "payment"}, url="/api/v1/services/nope/reports/"), 404, "service", "nope")


def test_unknown_issue_type_is_400_listing_valid_keys(api, service):
    assert_error(post(api, {"issue_type": "login"}), 400, "issue_type", "server, payment, inventory, shipping")


@pytest.mark.parametrize(
    ("body", "field", "needle"),
    [
        ({}, "issue_type", "required"),
        ({"issue_type": 5}, "issue_type", "Must be a string"),
        ({"issue_type": ["payment"]}, "issue_type", "Must be a string"),
        ({"issue_type": "payment", "comment": "x" * 501}, "comment", "500"),
        ({"issue_type": "payment", "comment": 12}, "comment", "Must be a string"),
        ({"issue_type": "payment", "country": "XX"}, "country", "ISO 3166-1 alpha-2"),
        ({"issue_type": "payment", "country": "Germany"}, "country", "ISO 3166-1 alpha-2"),
        # Not two ASCII letters, though str.upper() folds them into real codes (SS, FI, ST).
        ({"issue_type": "payment", "country": "ß"}, "country", "ISO 3166-1 alpha-2"),
        ({"issue_type": "payment", "country": "\ufb01"}, "country", "ISO 3166-1 alpha-2"),
        ({"issue_type": "payment", "country": True}, "country", "Must be a string"),
        ({"issue_type": "payment", "comment": "a\x00b"}, "comment", "Null characters"),
        ({"issue_type": "payment", "verbose": True}, "verbose", "Allowed: issue_type, comment, country"),
    ],
)
def test_bad_fields_are_400_naming_the_field(api, service, body, field, needle):
    assert_error(post(api, body), 400, field, needle)
    assert not Report.objects.exists()


def test_many_unknown_fields_give_a_short_error_not_one_entry_each(api, service, settings, monkeypatch):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000_000
    monkeypatch.setattr(ReportCreateApi, "max_body_bytes", None)  # the size limits have tests of their own
    body = {"issue_type": "payment"} | {f"field{i:06d}": 1 for i in range(200_000)}
    response = post(api, body)
    errors = assert_error(response, 400, "field000000", "Allowed: issue_type, comment, country")["errors"]
    assert len(response.content) < 5_000
    assert len(errors) == 11
    assert errors["non_field_errors"] == ["And 199990 more unknown fields."]


def test_a_long_unknown_field_name_is_not_echoed_back_whole(api, service, settings, monkeypatch):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000_000
    monkeypatch.setattr(ReportCreateApi, "max_body_bytes", None)
    response = post(api, {"issue_type": "payment", "x" * 100_000: 1})
    assert response.status_code == 400
    assert len(response.content) < 2_000
    assert "x" * 61 + "..." in response.json()["errors"]


@pytest.mark.parametrize("raw", ["{bad json", "", "[1, 2]", '"payment"', "null", b"\xff\xfe"])
def test_malformed_or_non_object_json_is_400(api, service, raw):
    response = post(api, raw)
    assert response.status_code == 400, response.content
    assert response.json()["errors"]


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 1000 + "]" * 1000,
        '{"issue_type": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"comment": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + ', "issue_type": "payment"}',
    ],
    ids=["array", "inside a field", "objects"],
)
def test_json_nested_too_deeply_to_parse_is_400_not_500(api, service, raw, settings, monkeypatch):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000_000
    monkeypatch.setattr(ReportCreateApi, "max_body_bytes", None)
    body = assert_error(post(api, raw), 400, "body", "nested too deeply")
    assert body["code"] == "invalid"
    assert not Report.objects.exists()


def test_lone_surrogate_in_json_is_400_not_500(api, service):
    assert_error(post(api, '{"issue_type": "payment", "comment": "\\ud800"}'), 400, "comment")


def test_form_encoded_body_is_415_saying_json_is_expected(api, service):
    response = api.post(URL, data={"issue_type": "payment"})
    assert response.status_code == 415
    assert "application/json" in response.json()["message"]


def test_oversized_body_is_rejected_without_a_500(api, service, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = post(api, {"issue_type": "payment", "comment": "x" * 20_000})
    assert 400 <= response.status_code < 500


def test_get_on_the_report_endpoint_is_405(api, service):
    assert api.get(URL).status_code == 405


def test_rate_limit_is_429_with_retry_after(api, service, settings):
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "3/min"
    statuses = [post(api, {"issue_type": "payment"}).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    limited = post(api, {"issue_type": "payment"})
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["code"] == "throttled"
    assert Report.objects.count() == 3
    other = Client(REMOTE_ADDR="8.8.4.4")
    assert post(other, {"issue_type": "payment"}).status_code == 201


def test_rate_limit_keys_on_the_forwarded_client_behind_a_trusted_proxy(service, settings):
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "1/min"
    settings.OUTAGEHUB_TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    assert post(proxy, {"issue_type": "payment"}, HTTP_X_FORWARDED_FOR="81.2.69.142").status_code == 201
    assert post(proxy, {"issue_type": "payment"}, HTTP_X_FORWARDED_FOR="8.8.4.4").status_code == 201
    assert post(proxy, {"issue_type": "payment"}, HTTP_X_FORWARDED_FOR="8.8.4.4").status_code == 429


def test_trusted_proxy_forwarded_clients_count_separately(service, settings):
    settings.OUTAGEHUB_TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    a = post(proxy, {"issue_type": "payment"}, HTTP_X_FORWARDED_FOR="81.2.69.142").json()
    b = post(proxy, {"issue_type": "payment"}, HTTP_X_FORWARDED_FOR="8.8.4.4").json()
    assert (a["counted"], b["counted"]) == (True, True)
    assert sorted(Report.objects.values_list("country", flat=True)) == ["GB", "US"]


def test_clients_behind_a_proxy_on_a_unix_socket_count_and_are_limited_separately(service, settings):
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "1/min"
    settings.OUTAGEHUB_TRUSTED_PROXIES = ["unix"]
    proxy = Client(REMOTE_ADDR="")  # gunicorn bound to a unix socket
    a = post(proxy, {"issue_type": "payment"}, HTTP_X_FORWARDED_FOR="81.2.69.142")
    b = post(proxy, {"issue_type": "payment"}, HTTP_X_FORWARDED_FOR="8.8.4.4")
    assert (a.status_code, b.status_code) == (201, 201)
    assert (a.json()["counted"], b.json()["counted"]) == (True, True)
    assert post(proxy, {"issue_type": "payment"}, HTTP_X_FORWARDED_FOR="8.8.4.4").status_code == 429


def test_one_ipv6_host_cannot_count_or_dodge_the_limit_with_fresh_addresses_from_its_64(service, settings):
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "2/min"
    first = post(Client(REMOTE_ADDR="2001:4860:1:2::1"), {"issue_type": "payment"})
    second = post(Client(REMOTE_ADDR="2001:4860:1:2::beef"), {"issue_type": "payment"})
    assert (first.json()["counted"], second.json()["counted"]) == (True, False)
    assert post(Client(REMOTE_ADDR="2001:4860:1:2:ffff::9"), {"issue_type": "payment"}).status_code == 429
    neighbour = post(Client(REMOTE_ADDR="2001:4860:1:3::1"), {"issue_type": "payment"})
    assert (neighbour.status_code, neighbour.json()["counted"]) == (201, True)


def test_untrusted_forwarded_for_cannot_make_one_client_look_like_many(api, service):
    a = post(api, {"issue_type": "payment"}, HTTP_X_FORWARDED_FOR="1.1.1.1").json()
    b = post(api, {"issue_type": "payment"}, HTTP_X_FORWARDED_FOR="8.8.8.8").json()
    assert (a["counted"], b["counted"]) == (True, False)
    assert set(Report.objects.values_list("country", flat=True)) == {"GB"}


def test_service_list_is_paginated_and_searchable(api, service):
    make_service("amazon", "Amazon")
    make_service("hidden", "Hidden Shop", active=False)
    body = api.get("/api/v1/services/").json()
    assert body["count"] == 2
    assert [s["slug"] for s in body["results"]] == ["amazon", "tiktok-shop"]
    assert set(body["results"][0]) == {"slug", "name", "homepage", "description", "status"}
    assert [s["slug"] for s in api.get("/api/v1/services/?q=tik").json()["results"]] == ["tiktok-shop"]
    assert api.get("/api/v1/services/?q=SHOP").json()["count"] == 1
    paged = api.get("/api/v1/services/?page_size=1&page=2").json()
    assert [s["slug"] for s in paged["results"]] == ["tiktok-shop"]
    assert paged["previous"] is not None


def test_service_list_is_by_name_whatever_the_case(api, service):
    make_service("ebay", "eBay")
    make_service("walmart", "Walmart")
    slugs = [s["slug"] for s in api.get("/api/v1/services/").json()["results"]]
    assert slugs == ["ebay", "tiktok-shop", "walmart"]
    home = Client().get("/").content.decode()
    assert home.index("eBay") < home.index("TikTok Shop") < home.index("Walmart")


def test_service_list_rejects_bad_query_parameters(api, service):
    assert_error(api.get("/api/v1/services/?q=%00"), 400, "q")
    assert_error(api.get("/api/v1/services/?status=down"), 400, "status", "Allowed: ok, possible, outage.")
    assert_error(api.get("/api/v1/services/?page=999"), 400, "page")
    assert_error(api.get("/api/v1/services/?page=abc"), 400, "page")


def test_service_detail_has_issue_types_and_counts(api, service):
    post(api, {"issue_type": "payment"})
    post(api, {"issue_type": "payment"})  # not counted
    post(Client(REMOTE_ADDR="8.8.4.4"), {"issue_type": "server"})
    body = api.get("/api/v1/services/tiktok-shop/").json()
    assert body["name"] == "TikTok Shop"
    assert [it["key"] for it in body["issue_types"]] == ["server", "payment", "inventory", "shipping"]
    assert body["reports"] == {"last_15_minutes": 2, "last_24_hours": 2}


def test_unknown_service_detail_and_unknown_endpoint_are_json_404(api, service):
    assert_error(api.get("/api/v1/services/nope/"), 404, "service")
    assert_error(api.get("/api/v1/nothing/here"), 404, None)


def test_openapi_schema_documents_the_intake(api):
    response = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/services/{slug}/reports/" in text
