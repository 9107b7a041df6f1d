"""API conventions every app shares: page sizes, and JSON 404s for unknown /api/ paths whatever the method."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.tests.factories import make_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Client:
    make_service("amazon", "Amazon")
    make_service("tiktok-shop", "TikTok Shop")
    return Client()


@pytest.mark.parametrize("size", ["abc", "0", "-3", "null", "1.5", ""])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_a_400(api, size):
    response = api.get(f"/api/v1/services/?page_size={size}")
    assert response.status_code == 400
    assert response.json()["errors"] == {"page_size": ["Must be a whole number from 1 to 200."]}


def test_a_page_size_over_the_maximum_is_a_400_naming_the_range(api):
    response = api.get("/api/v1/services/?page_size=201")
    assert response.status_code == 400
    assert response.json()["errors"] == {"page_size": ["Must be a whole number from 1 to 200."]}
    assert api.get("/api/v1/services/?page_size=200").json()["count"] == 2
    assert [s["slug"] for s in api.get("/api/v1/services/?page_size=1").json()["results"]] == ["amazon"]


def test_a_cursor_page_size_over_the_maximum_is_a_400_too(api):
    response = api.get("/api/v1/outages/?page_size=201")
    assert response.status_code == 400
    assert response.json()["errors"] == {"page_size": ["Must be a whole number from 1 to 200."]}


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_an_unknown_api_path_is_a_json_404_whatever_the_method(method):
    # A POST used to meet the CSRF check first: a 403 page in HTML.
    client = Client(enforce_csrf_checks=True)
    body = {} if method == "get" else {"data": "{}", "content_type": "application/json"}
    response = getattr(client, method)("/api/v1/no-such-thing/", **body)
    assert response.status_code == 404
    assert response.json() == {"message": "No such endpoint: /api/v1/no-such-thing/", "code": "not_found", "errors": {}}


def test_a_path_parameter_with_a_newline_is_a_json_404():
    response = Client().post("/api/v1/services/a%0Ab/reports/", data="{}", content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_a_body_over_the_upload_limit_is_a_json_413_naming_the_body(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"issue_type": "payment", "comment": "' + "a" * 2000 + '"}'
    response = api.post("/api/v1/services/tiktok-shop/reports/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {
        "message": "The body is larger than 1000 bytes.",
        "code": "too_large",
        "errors": {"body": ["The body is larger than 1000 bytes."]},
    }


def test_an_unknown_host_is_a_json_400_on_the_api_and_html_elsewhere(settings):
    settings.ALLOWED_HOSTS = ["outagehub.example"]
    client = Client(HTTP_HOST="evil.example")
    api = client.get("/api/v1/services/")
    assert api.status_code == 400 and api.json()["code"] == "bad_request"
    page = client.get("/")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("version", ["%00", "%0d%0aX-Injected:%201", "2.0"])
def test_the_schema_ignores_a_version_parameter_it_would_have_put_in_a_header(api, version):
    response = api.get(f"/api/v1/schema/?format=json&version={version}")
    assert response.status_code == 200
    assert response.json()["info"]["version"] == "1.0.0"
    assert "X-Injected" not in response.headers
    assert "\n" not in response["Content-Disposition"] and "\x00" not in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/api/v1/services/?format=xml", "Allowed: json."),
        ("/api/v1/services/tiktok-shop/series/?format=xls", "Allowed: json, csv."),
    ],
)
def test_an_unknown_format_is_a_400_naming_the_formats(api, url, allowed):
    response = api.get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"]["format"][0].endswith(allowed)


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        ("99", "That page contains no results."),
        ("abc", "That page number is not an integer."),
        ("0", "That page number is less than 1."),
        ("", "Must be a whole number from 1 (empty)."),
    ],
)
def test_a_page_that_is_none_of_the_lists_pages_is_a_400_naming_the_page(api, page, reason):
    response = api.get(f"/api/v1/services/?page={page}")
    assert response.status_code == 400
    assert response.json()["errors"] == {"page": [reason]}
