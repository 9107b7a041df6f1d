"""Hostile and broken input on every write endpoint (and some reads): always a 4xx naming the problem.

Malformed JSON, wrong content types, bodies over the size limit, numbers too large for any
field, strings no database or screen should take (NUL, lone surrogates, bidirectional
overrides), and nesting deep enough to break a recursive parser.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from catalog.tests.factories import make_service
from reports.api.auth import api_key_create
from reports.models import ApiKeyScope, Confidence, Outage, Report

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoints() -> dict[str, tuple[str, dict[str, str]]]:
    """Each JSON write endpoint: its URL and the headers of a client allowed to write there."""
    service = make_service()
    outage = Outage.objects.create(
        service=service, confidence=Confidence.CROWD, started_at=timezone.now() - dt.timedelta(hours=1)
    )
    scopes = [ApiKeyScope.SERVICE_UPDATES, ApiKeyScope.WEBHOOKS]
    key = api_key_create(name="status team", scopes=scopes, service=service)[1]
    return {
        "reports": ("/api/v1/services/tiktok-shop/reports/", {}),
        "updates": (f"/api/v1/outages/{outage.pk}/updates/", {"HTTP_X_API_KEY": key}),
        "webhooks": ("/api/v1/webhooks/", {"HTTP_X_API_KEY": key}),
    }


ENDPOINTS = ["reports", "updates", "webhooks"]

# (raw body, status, field the error names, words it says)
BAD_BODIES = {
    "malformed": (b'{"issue_type": "pay', 400, "body", "JSON parse error"),
    "not an object": (b"[1, 2, 3]", 400, "non_field_errors", ""),
    "NaN": (b'{"a": NaN}', 400, "body", "NaN is not valid JSON"),
    "float overflowing to infinity": (b'{"a": 1e999}', 400, "body", "too large"),
    "integer beyond 64 bits": (b'{"a": 123456789012345678901234567890}', 400, "body", "too large"),
    "integer of 5000 digits": (b'{"a": ' + b"9" * 5000 + b"}", 400, "body", "too large"),
    "NUL in a value": (b'{"message": "a\\u0000b"}', 400, "message", "Null characters"),
    "NUL in a key": (b'{"a\\u0000": "b"}', 400, "body (a key)", "Null characters"),
    "lone surrogate": (b'{"message": "\\ud800"}', 400, "message", "lone surrogate (U+D800)"),
    "right-to-left override": (
        b'{"message": "abc\\u202edef"}',
        400,
        "message",
        "bidirectional control character (U+202E)",
    ),
    "nested list": (b'{"message": ["x", {"deep": "\\u202e"}]}', 400, "message[1].deep", "bidirectional"),
    "nested too deeply": (b"[" * 3000 + b"]" * 3000, 400, "body", "nested too deeply"),
    "invalid UTF-8": (b'{"message": "\xff\xfe"}', 400, "body", "JSON parse error"),
    "over the endpoint's size limit": (b'{"message": "' + b"x" * 20_000 + b'"}', 413, "body", "bytes"),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_a_bad_json_body_is_a_4xx_naming_the_problem(endpoints, endpoint, case):
    url, headers = endpoints[endpoint]
    raw, status, field, words = BAD_BODIES[case]
    response = Client(REMOTE_ADDR="81.2.69.142").generic("POST", url, raw, "application/json", **headers)
    assert response.status_code == status, response.content
    body = response.json()
    assert field in body["errors"], body
    assert words in " ".join(body["errors"][field]), body
    assert not Report.objects.exists()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "image/png"]
)
def test_a_body_that_is_not_json_is_a_415_saying_to_send_json(endpoints, endpoint, content_type):
    url, headers = endpoints[endpoint]
    response = Client().generic("POST", url, b"issue_type=payment", content_type, **headers)
    assert response.status_code == 415
    assert "application/json" in response.json()["message"]


def test_an_unknown_charset_is_read_as_utf_8(endpoints):
    url, _ = endpoints["reports"]
    body = '{"issue_type": "payment", "comment": "Zahlung schlägt fehl"}'.encode()
    response = Client(REMOTE_ADDR="81.2.69.142").generic("POST", url, body, "application/json; charset=nope-8")
    assert response.status_code == 201
    assert Report.objects.get().comment == "Zahlung schlägt fehl"


@pytest.mark.parametrize("charset", ["bz2_codec", "zlib_codec", "rot13"])
def test_a_charset_that_is_not_a_text_encoding_is_a_400(endpoints, charset):
    url, _ = endpoints["reports"]
    response = Client().generic("POST", url, b'{"issue_type": "payment"}', f"application/json; charset={charset}")
    assert response.status_code == 400
    assert "charset" in response.json()["message"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_body_over_the_site_wide_limit_is_a_413_before_parsing(endpoints, endpoint, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    url, headers = endpoints[endpoint]
    response = Client().generic("POST", url, b'{"message": "' + b"x" * 2000 + b'"}', "application/json", **headers)
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["errors"]["body"][0]


def test_a_report_at_the_comment_limit_in_escaped_astral_characters_fits_the_size_limit(endpoints):
    url, _ = endpoints["reports"]
    comment = "\U0001f4a5" * 500  # 500 characters, each 12 bytes as a JSON \\ud83d\\udca5 pair
    raw = ('{"issue_type": "payment", "comment": "' + "\\ud83d\\udca5" * 500 + '"}').encode()
    response = Client(REMOTE_ADDR="81.2.69.142").generic("POST", url, raw, "application/json")
    assert response.status_code == 201, response.content
    assert Report.objects.get().comment == comment


FORM = "/s/tiktok-shop/report/"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"issue_type": "payment", "comment": "a\x00b"}, "Null characters"),
        ({"issue_type": "payment", "comment": "abc\u202edef"}, "bidirectional control"),
        ({"issue_type": "x" * 100}, "at most 32 characters"),
        ({"issue_type": "nope"}, "is not an issue type"),
    ],
)
def test_a_bad_web_form_is_a_400_saying_why(endpoints, data, words):
    response = Client(REMOTE_ADDR="81.2.69.142").post(FORM, data)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not Report.objects.exists()


def test_a_web_form_over_its_size_limit_is_a_413(endpoints):
    response = Client(REMOTE_ADDR="81.2.69.142").post(FORM, {"issue_type": "payment", "comment": "x" * 20_000})
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/services/?q=" + "x" * 200, "q"),
        ("/api/v1/services/?status=%00", "status"),
        ("/api/v1/outages/?since=1e999", "since"),
        ("/api/v1/outages/?service=%00", "service"),
        ("/api/v1/services/?page=99999999999999999999999999", "page"),
        ("/api/v1/services/tiktok-shop/series/?since=%ED%A0%80", "since"),
        ("/api/v1/services/tiktok-shop/series/?since=2026-13-45T99:00Z", "since"),
        ("/api/v1/services/?page_size=-1", "page_size"),
    ],
)
def test_bad_query_parameters_on_reads_are_400s_naming_the_parameter(endpoints, url, field):
    response = Client().get(url)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


@pytest.mark.parametrize("q", ["\x00", "%00", "\u202e", "%ED%A0%80", "x" * 5000])
def test_odd_searches_on_the_home_page_are_answered(endpoints, q):
    assert Client().get(f"/?q={q}").status_code == 200
