"""Status updates on an outage: anyone reads them; staff or a key scoped to the service posts them."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from catalog.tests.factories import make_service
from reports.api.auth import api_key_create
from reports.models import Confidence, EventKind, Outage, OutageUpdate
from reports.outages.services import outage_update_create

pytestmark = pytest.mark.django_db

MINUTE, HOUR = dt.timedelta(minutes=1), dt.timedelta(hours=1)


@pytest.fixture
def outage() -> Outage:
    return Outage.objects.create(
        service=make_service(), confidence=Confidence.CROWD, started_at=timezone.now() - dt.timedelta(hours=1)
    )


def url(outage: Outage) -> str:
    return f"/api/v1/outages/{outage.pk}/updates/"


def post(client: Client, outage: Outage, body: dict | None = None, **headers):
    body = body or {"state": "investigating", "message": "We are looking into failed payments."}
    return client.post(url(outage), data=json.dumps(body), content_type="application/json", **headers)


def key_for(**kwargs) -> str:
    return api_key_create(name=kwargs.pop("name", "TikTok status team"), **kwargs)[1]


def test_without_credentials_posting_is_a_401_with_the_error_body(client, outage):
    response = post(client, outage)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert set(response.json()) == {"message", "code", "errors"}
    assert not OutageUpdate.objects.exists()


def test_a_key_scoped_to_the_service_posts_an_update(client, outage):
    key = key_for(scopes=["service-updates"], service=outage.service)
    response = post(client, outage, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 201
    assert response.json()["state"] == "investigating"
    assert response.json()["author"] == "TikTok status team"


def test_a_key_for_every_service_posts_with_x_api_key(client, outage):
    key = key_for(scopes=["service-updates"])
    assert post(client, outage, HTTP_X_API_KEY=key).status_code == 201


def test_a_key_without_the_scope_is_a_403(client, outage):
    key = key_for(scopes=["read", "webhooks"], service=outage.service)
    response = post(client, outage, HTTP_X_API_KEY=key)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_key_for_another_service_is_a_403(client, outage):
    other = make_service(slug="etsy", name="Etsy")
    key = key_for(scopes=["service-updates"], service=other)
    assert post(client, outage, HTTP_X_API_KEY=key).status_code == 403
    assert not OutageUpdate.objects.exists()


def test_a_bad_key_is_a_401(client, outage):
    assert post(client, outage, HTTP_X_API_KEY="nope-nope-nope").status_code == 401


def test_staff_post_with_their_session_and_csrf_token(outage):
    staff = User.objects.create_user("mara", is_staff=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert post(client, outage).status_code == 403  # no CSRF token
    client.get("/admin/")  # a page with a form sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = post(client, outage, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
    assert response.json()["author"] == "mara"


def test_a_signed_in_user_who_is_not_staff_is_a_403(client, outage):
    client.force_login(User.objects.create_user("someone"))
    assert post(client, outage).status_code == 403


def test_anyone_reads_the_updates_oldest_first(client, outage):
    key = key_for(scopes=["service-updates"])
    post(client, outage, HTTP_X_API_KEY=key)
    post(client, outage, {"state": "identified", "message": "A bad deploy."}, HTTP_X_API_KEY=key)
    response = Client().get(url(outage))
    assert response.status_code == 200
    assert [u["state"] for u in response.json()["results"]] == ["investigating", "identified"]
    assert set(response.json()["results"][0]) == {"state", "message", "author", "created_at"}


def test_an_unknown_outage_is_a_404(client, outage):
    assert client.get("/api/v1/outages/999999/updates/").status_code == 404
    key = key_for(scopes=["service-updates"])
    assert (
        client.post(
            "/api/v1/outages/999999/updates/", data="{}", content_type="application/json", HTTP_X_API_KEY=key
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "body",
    [
        {"state": "fixed", "message": "ok"},
        {"state": "monitoring", "message": ""},
        {"state": "monitoring", "message": "x" * 1001},
        {"message": "no state"},
        {"state": "monitoring", "message": 1},  # not coerced to "1"
        {"state": "monitoring", "message": "ok", "severity": "high"},  # unknown fields are named, not dropped
    ],
)
def test_an_invalid_update_is_a_400(client, outage, body):
    key = key_for(scopes=["service-updates"])
    response = post(client, outage, body, HTTP_X_API_KEY=key)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_the_first_update_acknowledges_the_outage_and_later_ones_do_not(client, outage):
    key = key_for(scopes=["service-updates"])
    post(client, outage, HTTP_X_API_KEY=key)
    first = OutageUpdate.objects.get().created_at
    post(client, outage, {"state": "resolved", "message": "Fixed."}, HTTP_X_API_KEY=key)
    outage.refresh_from_db()
    assert outage.acknowledged_at == first
    detail = client.get(f"/api/v1/outages/{outage.pk}/").json()
    assert detail["acknowledged_at"] is not None
    assert client.get("/api/v1/outages/").json()["results"][0]["acknowledged_at"] == detail["acknowledged_at"]


def test_an_outage_without_updates_is_not_acknowledged(client, outage):
    assert client.get(f"/api/v1/outages/{outage.pk}/").json()["acknowledged_at"] is None


def test_updates_appear_on_the_outage_timeline(client, outage):
    key = key_for(scopes=["service-updates"])
    post(client, outage, {"state": "identified", "message": "A bad deploy."}, HTTP_X_API_KEY=key)
    timeline = client.get(f"/api/v1/outages/{outage.pk}/").json()["timeline"]
    assert timeline[-1]["kind"] == EventKind.STATUS_UPDATE
    assert timeline[-1]["data"] == {"state": "identified", "message": "A bad deploy.", "author": "TikTok status team"}


def test_team_state_follows_the_latest_update_but_leaves_the_outage_open(client, outage):
    assert client.get(f"/api/v1/outages/{outage.pk}/").json()["team_state"] == ""
    key = key_for(scopes=["service-updates"])
    post(client, outage, {"state": "identified", "message": "A bad deploy."}, HTTP_X_API_KEY=key)
    post(client, outage, {"state": "resolved", "message": "Rolled back."}, HTTP_X_API_KEY=key)
    detail = client.get(f"/api/v1/outages/{outage.pk}/").json()
    assert detail["team_state"] == "resolved"
    # The team's word is shown, but the outage stays open until the detector sees normal traffic.
    assert detail["status"] == "open" and detail["resolved_at"] is None


def test_an_update_stamped_before_the_latest_changes_neither_state_nor_acknowledgement():
    outage = Outage.objects.create(
        service=make_service(), confidence=Confidence.CROWD, started_at=timezone.now() - dt.timedelta(hours=1)
    )
    at = outage.started_at
    outage_update_create(outage=outage, state="monitoring", message="Watching.", author="a", now=at + HOUR)
    outage_update_create(outage=outage, state="investigating", message="Late.", author="b", now=at + 2 * HOUR)
    outage_update_create(outage=outage, state="identified", message="Replayed.", author="c", now=at + 30 * MINUTE)
    outage.refresh_from_db()
    assert outage.team_state == "investigating"
    assert outage.acknowledged_at == at + 30 * MINUTE  # the earliest update, whenever it was stored
