"""Signed webhooks: the subscription API, dispatch from the detection tick, and delivery to a real server."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
import time_machine
from django.test import Client
from standardwebhooks import Webhook as StandardWebhook
from standardwebhooks import WebhookVerificationError

from catalog.tests.factories import make_service
from outagehub.celery import app
from probes.tests.servers import HttpStub, Reply
from reports.api.auth import api_key_create
from reports.detection.tick import detection_tick
from reports.models import DeliveryStatus, Outage, Webhook, WebhookDelivery, WebhookEvent
from reports.outages.webhooks import (
    MAX_ATTEMPTS,
    webhook_create,
    webhook_secret_new,
    webhook_signature,
    webhooks_dispatch,
)
from reports.tests.detection.test_tick import MINUTE, T0, scenario

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"
OPENED = WebhookEvent.OUTAGE_OPENED


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def shop():
    return make_service()


@pytest.fixture
def team():
    return api_key_create(name="Team", scopes=["webhooks"])


def auth(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def an_outage(service) -> Outage:
    outage = Outage.objects.filter(service=service).first()
    return outage or Outage.objects.create(service=service, confidence="crowd", started_at=T0, peak_count=12)


# --- API ---------------------------------------------------------------------------------


def test_a_created_webhook_returns_its_secret_once_and_lists_without_it(shop, team):
    _, key = team
    body = {"url": "https://hooks.example/outagehub", "events": [OPENED], "services": [shop.slug]}
    created = Client().post(URL, body, content_type="application/json", **auth(key))
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert created.json()["services"] == [shop.slug]
    listed = Client().get(URL, **auth(key)).json()["results"]
    assert [w["id"] for w in listed] == [created.json()["id"]]
    assert "secret" not in listed[0]


def test_webhooks_need_a_key_with_the_webhooks_scope():
    _, reader = api_key_create(name="Reader", scopes=["read"])
    assert Client().get(URL).status_code == 401
    assert Client().get(URL, **auth(reader)).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://hooks.example/", "events": [OPENED]}, "url"),
        ({"url": "https://hooks.example/" + "a" * 500, "events": [OPENED]}, "url"),
        ({"url": "https://hooks.example/", "events": ["outage.exploded"]}, "events"),
        ({"url": "https://hooks.example/", "events": [OPENED], "services": ["nope"]}, "services"),
        # Never deliverable: refused when subscribing, not at the first outage.
        ({"url": "http://127.0.0.1:6379/", "events": [OPENED]}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data/", "events": [OPENED]}, "url"),
        ({"url": "https://[::1]/hook", "events": [OPENED]}, "url"),
        ({"url": "http://2130706433/", "events": [OPENED]}, "url"),
        ({"url": "http://localhost:8000/", "events": [OPENED]}, "url"),
        ({"url": "https://hooks.example:99999/", "events": [OPENED]}, "url"),
        ({"url": "https://hooks.example/", "events": [OPENED], "secret": "mine"}, "secret"),
    ],
)
def test_a_bad_url_event_or_service_is_a_400_naming_the_field(team, body, field):
    response = Client().post(URL, body, content_type="application/json", **auth(team[1]))
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_an_unknown_event_lists_the_allowed_ones(team):
    body = {"url": "https://hooks.example/", "events": ["outage.exploded"]}
    response = Client().post(URL, body, content_type="application/json", **auth(team[1]))
    assert "outage.resolved" in json.dumps(response.json()["errors"])


def test_another_keys_webhook_is_a_404_and_the_owner_may_delete_it(shop, team):
    owner, key = team
    _, other = api_key_create(name="Other", scopes=["webhooks"])
    webhook = webhook_create(owner=owner, url="https://hooks.example/", events=[OPENED])
    for path in (f"{URL}{webhook.pk}/", f"{URL}{webhook.pk}/deliveries/"):
        assert Client().get(path, **auth(other)).status_code == 404
    assert Client().delete(f"{URL}{webhook.pk}/", **auth(other)).status_code == 404
    assert Client().get(f"{URL}{webhook.pk}/deliveries/", **auth(key)).json()["results"] == []
    assert Client().delete(f"{URL}{webhook.pk}/", **auth(key)).status_code == 204
    assert not Webhook.objects.exists()


def test_the_delivery_log_is_newest_first(shop, team):
    webhook = webhook_create(owner=team[0], url="https://hooks.example/", events=[OPENED])
    outage = an_outage(shop)
    first = webhooks_dispatch(outage=outage, event=OPENED)[0]
    second = webhooks_dispatch(outage=outage, event=OPENED)[0]
    results = Client().get(f"{URL}{webhook.pk}/deliveries/", **auth(team[1])).json()["results"]
    assert [d["id"] for d in results] == [second.pk, first.pk]
    assert results[0]["status"] == "pending" and results[0]["payload"]["outage"]["id"] == outage.pk


# --- dispatch --------------------------------------------------------------------------


def test_an_outage_opening_creates_one_delivery_per_matching_webhook(shop, team, django_capture_on_commit_callbacks):
    other = make_service(slug="other-shop", name="Other Shop")
    everything = webhook_create(owner=team[0], url="https://a.example/", events=[OPENED])
    this_shop = webhook_create(owner=team[0], url="https://b.example/", events=[OPENED], services=[shop])
    webhook_create(owner=team[0], url="https://c.example/", events=[OPENED], services=[other])
    webhook_create(owner=team[0], url="https://d.example/", events=[WebhookEvent.OUTAGE_UPDATED])
    spike, _ = scenario(shop)
    with django_capture_on_commit_callbacks() as callbacks:
        detection_tick(service_id=shop.pk, now=spike + 10 * MINUTE)
    opened = WebhookDelivery.objects.filter(event=OPENED)
    assert sorted(d.webhook_id for d in opened) == sorted([everything.pk, this_shop.pk])
    assert len(callbacks) == WebhookDelivery.objects.count()


def test_a_resolved_outage_is_announced_too(shop, team, django_capture_on_commit_callbacks):
    webhook_create(owner=team[0], url="https://a.example/", events=[WebhookEvent.OUTAGE_RESOLVED])
    _, end = scenario(shop)
    with django_capture_on_commit_callbacks():
        detection_tick(service_id=shop.pk, now=end + MINUTE)
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == WebhookEvent.OUTAGE_RESOLVED
    assert delivery.payload["outage"]["status"] == "resolved"
    outage = Outage.objects.get()
    assert delivery.payload["outage"]["ended_at"] == outage.ended_at.isoformat().replace("+00:00", "Z")


# --- delivery to a real server -------------------------------------------------------------


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does: hand the secret, headers and raw body to a Standard Webhooks library."""
    try:
        StandardWebhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


class Receiver(HttpStub):
    """The stub, keeping each request's raw body (HttpStub records headers only)."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[bytes] = []
        handler = type("Handler", (self._server.RequestHandlerClass,), {})
        original = handler._answer

        def answer(h, stub, reply, seen):
            length = int(h.headers.get("Content-Length") or 0)
            self.bodies.append(h.rfile.read(length))
            h.headers.replace_header("Content-Length", "0")
            original(h, stub, reply, seen)

        handler._answer = answer
        self._server.RequestHandlerClass = handler


def deliver(outage, url, owner, django_capture_on_commit_callbacks) -> tuple[Webhook, WebhookDelivery]:
    webhook = webhook_create(owner=owner, url=url, events=[OPENED])
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhooks_dispatch(outage=outage, event=OPENED)[0]
    delivery.refresh_from_db()
    return webhook, delivery


def test_a_delivery_is_signed_and_the_receiver_verifies_it(
    shop, team, eager, settings, django_capture_on_commit_callbacks
):
    settings.PROBES_ALLOW_PRIVATE = True
    with Receiver() as receiver:
        webhook, delivery = deliver(an_outage(shop), receiver.url("/hook"), team[0], django_capture_on_commit_callbacks)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1
    (seen,), (body,) = receiver.seen, receiver.bodies
    assert seen.method == "POST" and seen.headers["X-OutageHub-Event"] == OPENED
    assert seen.headers["webhook-id"] == f"msg_{delivery.pk}"
    assert seen.headers["webhook-signature"].startswith("v1,")
    assert verify(webhook.secret, seen.headers, body)
    sent = json.loads(body)
    assert (sent["id"], sent["event"]) == (delivery.pk, OPENED)
    assert sent["outage"]["service"] == shop.slug and sent["outage"]["peak_count"] == 12


def test_a_tampered_delivery_or_another_secret_fails_verification(
    shop, team, eager, settings, django_capture_on_commit_callbacks
):
    settings.PROBES_ALLOW_PRIVATE = True
    with Receiver() as receiver:
        webhook, _ = deliver(an_outage(shop), receiver.url("/hook"), team[0], django_capture_on_commit_callbacks)
    (seen,), (body,) = receiver.seen, receiver.bodies
    assert verify(webhook.secret, seen.headers, body)

    assert not verify(webhook.secret, seen.headers, body.replace(b'"peak_count":12', b'"peak_count":13'))
    assert not verify(webhook.secret, seen.headers, body + b" ")
    assert not verify(webhook_secret_new(), seen.headers, body)
    # The id and timestamp are signed too: neither can be swapped to replay the body.
    assert not verify(webhook.secret, {**seen.headers, "webhook-id": "msg_999999"}, body)
    timestamp = int(seen.headers["webhook-timestamp"])
    assert not verify(webhook.secret, {**seen.headers, "webhook-timestamp": str(timestamp + 1)}, body)
    # Receivers refuse a signature more than 5 minutes old (a replay).
    with time_machine.travel(dt.datetime.fromtimestamp(timestamp + 6 * 60, tz=dt.UTC)):
        assert not verify(webhook.secret, seen.headers, body)


def test_a_secret_made_before_the_spec_still_verifies(shop, team, eager, settings, django_capture_on_commit_callbacks):
    # 64 hex characters, no whsec_ prefix: valid base64, which every Standard Webhooks library decodes.
    legacy = "9c1f64be0d52a7e83b4f17d6c2a09e5f8d3b61c4a7e2f09b5d8c3a1e6f4b2d70"
    settings.PROBES_ALLOW_PRIVATE = True
    with Receiver() as receiver:
        webhook = webhook_create(owner=team[0], url=receiver.url("/hook"), events=[OPENED])
        Webhook.objects.filter(pk=webhook.pk).update(secret=legacy)
        with django_capture_on_commit_callbacks(execute=True):
            webhooks_dispatch(outage=an_outage(shop), event=OPENED)
    (seen,), (body,) = receiver.seen, receiver.bodies
    assert verify(legacy, seen.headers, body)


def test_the_signature_matches_the_specs_test_vector():
    # The example in the Standard Webhooks specification, also used by its libraries' tests.
    signature = webhook_signature(
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp=1614265330,
        body=b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_500_is_retried_and_then_delivered(shop, team, eager, settings, django_capture_on_commit_callbacks):
    settings.PROBES_ALLOW_PRIVATE = True
    with Receiver() as receiver:
        replies = iter([Reply(500, b"oops"), Reply(200)])
        receiver.replies = type("Once", (dict,), {"get": lambda self, path, default: next(replies)})()
        _, delivery = deliver(an_outage(shop), receiver.url("/hook"), team[0], django_capture_on_commit_callbacks)
    assert len(receiver.seen) == 2
    assert delivery.status == DeliveryStatus.DELIVERED
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (2, 200, "")
    first, second = (seen.headers for seen in receiver.seen)
    # One message to the receiver: the same id on the retry, for dropping duplicates.
    assert first["webhook-id"] == second["webhook-id"] == f"msg_{delivery.pk}"
    assert verify(delivery.webhook.secret, second, receiver.bodies[1])


def test_a_receiver_that_always_fails_is_given_up_after_the_limit(
    shop, team, eager, settings, django_capture_on_commit_callbacks
):
    settings.PROBES_ALLOW_PRIVATE = True
    with Receiver() as receiver:
        receiver.default = Reply(500, b"down")
        _, delivery = deliver(an_outage(shop), receiver.url("/hook"), team[0], django_capture_on_commit_callbacks)
    assert len(receiver.seen) == MAX_ATTEMPTS
    assert delivery.status == DeliveryStatus.FAILED
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (MAX_ATTEMPTS, 500, "HTTP 500")
    logged = Client().get(f"{URL}{delivery.webhook_id}/deliveries/", **auth(team[1])).json()["results"][0]
    assert (logged["status"], logged["attempts"]) == ("failed", MAX_ATTEMPTS)


def test_a_private_target_is_refused_by_the_guard(shop, team, eager, settings, django_capture_on_commit_callbacks):
    # Subscribed while private targets were allowed (or under a name that has since been
    # re-pointed at a private address): the guard at connect time still refuses it.
    settings.PROBES_ALLOW_PRIVATE = True
    with Receiver() as receiver:
        webhook = webhook_create(owner=team[0], url=receiver.url("/hook"), events=[OPENED])
        settings.PROBES_ALLOW_PRIVATE = False
        with django_capture_on_commit_callbacks(execute=True):
            delivery = webhooks_dispatch(outage=an_outage(shop), event=OPENED)[0]
        delivery.refresh_from_db()
        assert delivery.webhook == webhook
    assert receiver.seen == []
    assert delivery.status == DeliveryStatus.FAILED
    assert "refused to connect to 127.0.0.1" in delivery.last_error and delivery.last_status_code is None


def test_a_delivered_delivery_is_not_sent_again(shop, team, eager, settings, django_capture_on_commit_callbacks):
    from reports.tasks import webhook_deliver

    settings.PROBES_ALLOW_PRIVATE = True
    with Receiver() as receiver:
        _, delivery = deliver(an_outage(shop), receiver.url("/hook"), team[0], django_capture_on_commit_callbacks)
        webhook_deliver.delay(delivery.pk)
        webhook_deliver.delay(delivery.pk, 2)
    assert len(receiver.seen) == 1


def test_outages_replayed_from_history_are_not_announced(db, django_capture_on_commit_callbacks):
    """A new detector learning two days back opens and resolves old outages silently."""
    from catalog.tests.factories import make_service
    from reports.api.auth import api_key_create
    from reports.detection.tick import detection_tick
    from reports.models import Outage, WebhookDelivery
    from reports.outages.webhooks import webhook_create
    from reports.tests.detection.test_tick import scenario

    shop = make_service()
    key, _ = api_key_create(name="hooks", scopes=["webhooks"])
    webhook_create(owner=key, url="https://hooks.example/outagehub", events=["outage.opened", "outage.resolved"])
    _, end = scenario(shop)
    with django_capture_on_commit_callbacks(execute=False):
        detection_tick(service_id=shop.pk, now=end + dt.timedelta(days=2))
    assert Outage.objects.count() == 1
    assert WebhookDelivery.objects.count() == 0


def test_a_delivery_left_pending_by_a_dead_worker_is_sent_again(db, settings):
    from django.utils import timezone

    from catalog.tests.factories import make_service
    from reports.models import Outage
    from reports.outages.webhooks import webhook_create, webhook_deliveries_stale, webhook_delivery_attempt

    settings.PROBES_ALLOW_PRIVATE = True
    key, _ = api_key_create(name="hooks", scopes=["webhooks"])
    shop = make_service()
    outage = Outage.objects.create(service=shop, confidence="crowd", started_at=timezone.now())
    with HttpStub() as receiver:
        hook = webhook_create(owner=key, url=receiver.url("/hook"), events=["outage.opened"])
        delivery = WebhookDelivery.objects.create(webhook=hook, event="outage.opened", outage=outage, payload={})
        # Claimed by attempt 1, whose worker then died: attempts=1, no next attempt.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=1, created_at=timezone.now() - dt.timedelta(hours=1)
        )
        assert webhook_deliveries_stale(now=timezone.now() - dt.timedelta(hours=2)) == []
        stale = webhook_deliveries_stale()
        assert stale == [(delivery.pk, 2)]
        webhook_delivery_attempt(delivery_id=delivery.pk, attempt=2)
        assert len(receiver.seen) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert webhook_deliveries_stale() == []
