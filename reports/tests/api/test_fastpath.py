"""The lean intake path answers exactly as the DRF view would, and hands it everything unusual."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.renderers import JSONRenderer

from catalog.tests.factories import make_service
from reports.api import fastpath
from reports.api.reports import ReportCreateApi
from reports.models import Report

pytestmark = pytest.mark.django_db

URL = "/api/v1/services/tiktok-shop/reports/"


@pytest.fixture
def api(settings):
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "1000/min"
    make_service()
    return Client(REMOTE_ADDR="81.2.69.142")


def post(client: Client, body: object, **extra):
    return client.post(URL, json.dumps(body), content_type="application/json", **extra)


def drf_body(report: Report, *, reason=None, again=None) -> bytes:
    report.not_counted_reason, report.counts_again_at = reason, again
    return JSONRenderer().render(ReportCreateApi.OutputSerializer(report).data)


def test_a_valid_report_is_answered_by_the_lean_path_with_the_drf_body_and_headers(api, monkeypatch):
    taken = []
    original = fastpath.report_post_fast
    monkeypatch.setattr(
        "reports.api.reports.report_post_fast", lambda *a, **k: taken.append(r := original(*a, **k)) or r
    )
    first = post(api, {"issue_type": "payment", "comment": "card declined ✓", "country": None})
    again = post(api, {"issue_type": "payment"})
    assert all(r is not None for r in taken) and len(taken) == 2  # both took the lean path
    assert (first.status_code, again.status_code) == (201, 201)
    stored = Report.objects.get(pk=first.json()["id"])
    assert first.content == drf_body(stored)
    body = again.json()
    repeat = Report.objects.get(pk=body["id"])
    assert again.content == drf_body(repeat, reason="cooldown", again=stored.created_at + _cooldown())
    for header, value in {
        "Content-Type": "application/json",
        "Allow": "POST, OPTIONS",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }.items():
        assert first[header] == value


def _cooldown():
    import datetime as dt

    from django.conf import settings

    return dt.timedelta(seconds=settings.OUTAGEHUB_REPORT_COOLDOWN_SECONDS)


@pytest.mark.parametrize(
    "body",
    [
        {"issue_type": " payment "},  # DRF trims it: still a report, filed the long way
        {"issue_type": "payment", "comment": 5},
        {"issue_type": "payment", "extra": 1},
        {"issue_type": "teleport"},
        {"issue_type": "payment", "country": "Narnia"},
        ["payment"],
    ],
)
def test_anything_unusual_goes_the_long_way_and_gets_its_usual_answer(api, body, monkeypatch):
    long_way = []
    original = ReportCreateApi.post
    monkeypatch.setattr(ReportCreateApi, "post", lambda self, *a, **k: long_way.append(1) or original(self, *a, **k))
    response = post(api, body)
    assert long_way == [1]
    if body == {"issue_type": " payment "}:
        assert response.status_code == 201
    else:
        assert response.status_code == 400 and response.json()["code"]


def test_an_api_key_header_or_a_format_goes_the_long_way(api, monkeypatch):
    long_way = []
    original = ReportCreateApi.post
    monkeypatch.setattr(ReportCreateApi, "post", lambda self, *a, **k: long_way.append(1) or original(self, *a, **k))
    assert post(api, {"issue_type": "payment"}, HTTP_X_API_KEY="nonsense").status_code == 401
    assert (
        api.post(
            URL + "?format=json", json.dumps({"issue_type": "server"}), content_type="application/json"
        ).status_code
        == 201
    )
    assert long_way == [1]  # the 401 is answered before the view; the ?format= one reached it


def test_the_rate_limit_holds_on_the_lean_path(api, settings):
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "2/min"
    codes = [post(api, {"issue_type": "payment"}).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
