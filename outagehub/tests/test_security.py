"""Hardening: security headers with production settings, and logs that hold no secret and no address."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth.models import User
from django.test import Client

from catalog.tests.factories import make_service
from reports.api.auth import api_key_create
from reports.models import ApiKey, ApiKeyScope

pytestmark = pytest.mark.django_db

ADDRESS = "81.2.69.142"
IPV6 = "2a00:1450:4001:81c::200e"
PASSWORD = "hunter2-correct-horse-battery"


@pytest.mark.parametrize("url", ["/", "/s/tiktok-shop/", "/api/v1/services/", "/api/v1/nope/", "/s/nope/"])
def test_every_answer_carries_the_security_headers(url, settings):
    assert not settings.DEBUG  # the test settings are the production ones, HTTPS redirect aside
    make_service()
    response = Client().get(url, secure=True)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_session_and_csrf_cookies_are_secure_and_the_session_is_not_readable_by_scripts(settings):
    make_service()
    User.objects.create_superuser("operator", "op@example.com", PASSWORD)
    client = Client()
    client.get("/s/tiktok-shop/")
    assert client.cookies["csrftoken"]["secure"]
    client.post("/admin/login/", {"username": "operator", "password": PASSWORD})
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"]


def test_requests_log_no_address_no_key_and_no_password(caplog):
    caplog.set_level(logging.DEBUG)
    make_service()
    User.objects.create_superuser("operator", "op@example.com", PASSWORD)
    key = api_key_create(name="status team", scopes=[ApiKeyScope.WEBHOOKS])[1]
    for address in [ADDRESS, IPV6]:
        visitor = Client(REMOTE_ADDR=address, HTTP_USER_AGENT="Firefox")
        body = json.dumps({"issue_type": "payment", "comment": "payments fail"})
        for _ in range(12):  # counted, not counted, then over the limit: 429s, which Django logs
            visitor.post("/api/v1/services/tiktok-shop/reports/", body, content_type="application/json")
        visitor.post("/api/v1/services/tiktok-shop/reports/", "{bad", content_type="application/json")
        visitor.post("/s/tiktok-shop/report/", {"issue_type": "nope"})
        visitor.get("/api/v1/webhooks/", HTTP_X_API_KEY=key)
        visitor.get("/api/v1/webhooks/", HTTP_AUTHORIZATION=f"Bearer {key}x")  # a bad key: 401
        visitor.post("/admin/login/", {"username": "operator", "password": PASSWORD + "-wrong"})
        visitor.post("/admin/login/", {"username": "operator", "password": PASSWORD})
    assert caplog.records, "nothing was logged: the test would prove nothing"
    logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {getattr(record, 'request', '')!r}" for record in caplog.records
    )
    for secret in [ADDRESS, IPV6, "2a00:1450:4001:81c", key, key[:20], PASSWORD]:
        assert secret not in logged
    assert not ApiKey.objects.filter(hashed=key).exists()  # and the key itself is stored hashed
