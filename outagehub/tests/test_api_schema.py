"""The OpenAPI schema documents the one error body on every operation that can answer with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.test import Client

ERROR = {"$ref": "#/components/schemas/Error"}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    response = Client().get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def responses(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return schema["paths"][path][method]["responses"]


def error_schema(response: dict[str, Any]) -> dict[str, Any]:
    return response["content"]["application/json"]["schema"]


def test_the_error_body_is_one_component(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"message", "code", "errors"}
    assert error["properties"]["errors"] == {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "description": error["properties"]["errors"]["description"],
    }


def test_filing_a_report_documents_every_error_it_can_answer_with(schema):
    documented = responses(schema, "post", "/api/v1/services/{slug}/reports/")

    assert sorted(documented) == ["201", "202", "400", "401", "404", "406", "415", "429", "503"]
    assert error_schema(documented["503"]) == ERROR  # database and broker both down
    for status in ["400", "401", "404", "406", "415", "429"]:
        assert error_schema(documented[status]) == ERROR, status
        assert documented[status]["description"], status
    assert documented["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}


def test_reads_document_only_the_errors_they_can_answer_with(schema):
    # Path parameter, no query, no body: 404, 406 as everywhere, 429 as every read (per-address
    # limit), 401 as everywhere a key is read (a bad one is refused); no 403: anyone may read.
    detail = responses(schema, "get", "/api/v1/services/{slug}/")
    assert sorted(s for s in detail if s.startswith("4")) == ["401", "404", "406", "429"]
    # Query parameters and pages (an unknown page is a 404), no path parameter.
    listing = responses(schema, "get", "/api/v1/services/")
    assert sorted(s for s in listing if s.startswith("4")) == ["400", "401", "404", "406", "429"]
    assert error_schema(listing["400"]) == error_schema(listing["404"]) == ERROR


def test_403_is_documented_where_permissions_can_refuse_and_nowhere_else(schema):
    with_403 = {
        (method, path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "403" in operation["responses"]
    }
    assert with_403 == {
        ("post", "/api/v1/outages/{outage_id}/updates/"),
        ("get", "/api/v1/webhooks/"),
        ("post", "/api/v1/webhooks/"),
        ("get", "/api/v1/webhooks/{webhook_id}/"),
        ("delete", "/api/v1/webhooks/{webhook_id}/"),
        ("get", "/api/v1/webhooks/{webhook_id}/deliveries/"),
    }


@pytest.mark.django_db
def test_every_operation_answers_a_bad_key_with_the_documented_401(schema):
    from catalog.tests.factories import make_service

    make_service("tiktok-shop", "TikTok Shop")
    client = Client(HTTP_AUTHORIZATION="Bearer not-a-key-we-ever-issued-0123456789")
    for path, operations in schema["paths"].items():
        url = path.format(slug="tiktok-shop", outage_id=1, probe_id=1, webhook_id=1)
        for method, operation in operations.items():
            assert "401" in operation["responses"], f"{method} {path}"
            response = getattr(client, method)(url, data={}, content_type="application/json")
            assert response.status_code == 401, f"{method} {path}"
            assert response.json()["code"] == "authentication_failed"
            assert response["WWW-Authenticate"].startswith("Bearer")


def test_every_operation_documents_its_4xx_with_the_error_body(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            errors = {s: r for s, r in operation["responses"].items() if s.startswith("4")}
            assert errors, f"{method} {path} documents no error"
            for status, response in errors.items():
                assert error_schema(response) == ERROR, f"{method} {path} {status}"


def test_reads_document_conditional_get(schema):
    detail = responses(schema, "get", "/api/v1/services/{slug}/")
    assert "304" in detail and "content" not in detail["304"]
    assert {"ETag", "Last-Modified", "Cache-Control"} <= set(detail["200"]["headers"])
    assert "304" not in responses(schema, "post", "/api/v1/services/{slug}/reports/")


def test_tags_and_operation_ids_come_from_the_path_after_the_version(schema):
    operation = schema["paths"]["/api/v1/services/{slug}/reports/"]["post"]
    assert (operation["operationId"], operation["tags"]) == ("services_reports_create", ["services"])


@pytest.mark.django_db
def test_an_accept_no_renderer_satisfies_is_a_406_with_the_error_body():
    response = Client().get("/api/v1/services/", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"


@pytest.mark.django_db
def test_a_method_a_path_does_not_list_is_a_405_with_the_error_body_and_allow():
    response = Client().delete("/api/v1/services/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert response.json() == {"message": 'Method "DELETE" not allowed.', "code": "method_not_allowed", "errors": {}}


def test_schema_is_valid_openapi_without_a_single_warning(tmp_path: Path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert yaml.safe_load(out.read_text())["paths"]["/api/v1/services/{slug}/reports/"]["post"]
