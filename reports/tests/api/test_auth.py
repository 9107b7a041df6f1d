"""API keys: stored hashed, found by either header, a bad or revoked one refused, a good one lifting the read limit."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from reports.api.auth import api_key_create, api_key_find
from reports.models import ApiKey, ApiKeyScope, api_key_hash

pytestmark = pytest.mark.django_db

READ = "/api/v1/services/"


@pytest.fixture
def alice() -> Client:
    return Client(REMOTE_ADDR="81.2.69.142")


@pytest.fixture
def key() -> str:
    return api_key_create(name="TikTok status team", scopes=[ApiKeyScope.READ])[1]


def test_a_created_key_is_stored_as_prefix_and_hash_never_in_plain():
    _, key = api_key_create(name="Team", scopes=["read", "webhooks"])
    stored = ApiKey.objects.get()
    assert len(key) >= 43
    assert stored.prefix == key[:8]
    assert stored.hashed == api_key_hash(key) != key
    assert key not in str(ApiKey.objects.values().get())
    assert stored.scopes == ["read", "webhooks"]


def test_an_unknown_scope_is_refused():
    with pytest.raises(Exception, match="Unknown scope"):
        api_key_create(name="Team", scopes=["admin"])


def test_a_key_is_found_by_its_plain_value_only():
    api_key, key = api_key_create(name="Team", scopes=["read"])
    assert api_key_find(key=key) == api_key
    assert api_key_find(key=key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert api_key_find(key=api_key.hashed) is None


def test_bearer_and_x_api_key_both_authenticate(alice, key):
    assert alice.get(READ, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    assert alice.get(READ, HTTP_X_API_KEY=key).status_code == 200


def test_an_unknown_key_is_a_401_with_the_error_body(alice):
    response = alice.get(READ, HTTP_X_API_KEY="not-a-key-at-all")
    assert response.status_code == 401
    assert response.json() == {"message": "Unknown or revoked API key.", "code": "authentication_failed", "errors": {}}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_another_authorization_scheme_is_a_401(alice, key):
    response = alice.get(READ, HTTP_AUTHORIZATION=f"Basic {key}")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_revoked_key_is_a_401(alice):
    api_key, key = api_key_create(name="Team", scopes=["read"])
    api_key.revoked_at = timezone.now()
    api_key.save()
    assert alice.get(READ, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_no_key_is_anonymous_as_before(alice):
    assert alice.get(READ).status_code == 200


def test_a_valid_key_lifts_the_read_limit(alice, key, settings):
    settings.OUTAGEHUB_READ_RATE_LIMIT = "2/min"
    keyed = [alice.get(READ, HTTP_X_API_KEY=key).status_code for _ in range(5)]
    assert keyed == [200] * 5
    assert [alice.get(READ).status_code for _ in range(3)] == [200, 200, 429]


def test_last_used_is_written_at_most_once_a_minute(key):
    start = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        api_key_find(key=key)
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        api_key_find(key=key)
        assert ApiKey.objects.get().last_used_at == start
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        api_key_find(key=key)
        assert ApiKey.objects.get().last_used_at == start + dt.timedelta(seconds=61)


def test_a_key_added_in_admin_is_shown_once_and_revoked_by_an_action(client):
    client.force_login(User.objects.create_superuser("operator", "op@example.com", "not-a-real-password"))
    form = {"name": "Status team", "scopes": ["read", "service-updates"], "service": ""}
    page = client.post("/admin/reports/apikey/add/", form, follow=True)
    api_key = ApiKey.objects.get()
    shown = [str(m) for m in page.context["messages"] if "copy it now" in str(m)]
    assert len(shown) == 1
    key = shown[0].split(" is ")[1].split(" ")[0]
    assert api_key_find(key=key) == api_key
    assert api_key.scopes == ["read", "service-updates"]
    listing = client.get("/admin/reports/apikey/").content.decode()
    assert api_key.prefix in listing and key not in listing

    client.post("/admin/reports/apikey/", {"action": "revoke_api_keys", "_selected_action": [api_key.pk]}, follow=True)
    assert ApiKey.objects.get().revoked_at is not None
    assert api_key_find(key=key) is None
