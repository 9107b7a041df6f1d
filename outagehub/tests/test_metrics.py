"""/metrics: who may read it, and that intake, queues and detection show in it."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from catalog.tests.factories import make_service
from outagehub.celery import app
from outagehub.metrics import queue_lengths
from reports.models import DetectorState

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def scraper(settings):
    settings.ALLOWED_HOSTS = ["outagehub.example"]
    settings.OUTAGEHUB_METRICS_TOKEN = TOKEN
    settings.OUTAGEHUB_METRICS_NETWORKS = ["10.9.0.0/16"]
    return Client(raise_request_exception=False)


def scrape(client: Client, **extra: str) -> str:
    response = client.get("/metrics", HTTP_HOST="10.9.0.4:8000", REMOTE_ADDR="10.9.0.9", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def value(text: str, name: str, **labels: str) -> float:
    """The sample `name{labels}` (labels in any order), 0 when absent."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return 0.0


@pytest.mark.parametrize(
    ("remote", "authorization"),
    [("203.0.113.5", ""), ("203.0.113.5", "Bearer wrong"), ("203.0.113.5", f"Token {TOKEN}"), ("10.8.0.1", "")],
)
def test_metrics_refuse_an_outside_address_without_the_token(scraper, remote, authorization):
    response = scraper.get("/metrics", HTTP_HOST="10.9.0.4:8000", REMOTE_ADDR=remote, HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 403
    assert "OUTAGEHUB_METRICS_NETWORKS" in response.json()["message"]


def test_metrics_answer_the_token_from_anywhere_and_the_allowed_network_without_it(scraper):
    with_token = scraper.get(
        "/metrics", HTTP_HOST="outagehub.example", REMOTE_ADDR="203.0.113.5", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"
    )
    assert with_token.status_code == 200
    assert "outagehub_queue_length" in scrape(scraper)


def test_intake_answers_are_counted_by_outcome_and_reason(scraper, settings):
    make_service(slug="shop")
    settings.ALLOWED_HOSTS = ["*"]
    before = scrape(scraper)
    client = Client()
    url = "/api/v1/services/shop/reports/"
    agent = {"HTTP_USER_AGENT": "metrics-test", "REMOTE_ADDR": "81.2.69.142"}
    assert client.post(url, {"issue_type": "payment"}, content_type="application/json", **agent).status_code == 201
    assert client.post(url, {"issue_type": "payment"}, content_type="application/json", **agent).status_code == 201
    assert client.post(url, {"issue_type": "nope"}, content_type="application/json", **agent).status_code == 400
    assert (
        client.post(
            "/api/v1/services/none/reports/", {"issue_type": "payment"}, content_type="application/json", **agent
        ).status_code
        == 404
    )
    after = scrape(scraper)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("outagehub_reports_total", channel="api", outcome="accepted") == 2
    assert delta("outagehub_reports_total", channel="api", outcome="rejected", reason="invalid") == 1
    assert delta("outagehub_reports_total", channel="api", outcome="rejected", reason="not_found") == 1
    assert delta("outagehub_reports_counted_total", channel="api", counted="true") == 1
    assert delta("outagehub_reports_counted_total", channel="api", counted="false", reason="cooldown") == 1
    assert delta("outagehub_intake_seconds_count", channel="api") == 4


def test_throttled_reports_are_counted_as_rejected(scraper, settings):
    make_service(slug="shop")
    settings.ALLOWED_HOSTS = ["*"]
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "1/min"
    before = scrape(scraper)
    client = Client()
    answers = [
        client.post(
            "/api/v1/services/shop/reports/",
            {"issue_type": "payment"},
            content_type="application/json",
            HTTP_USER_AGENT=f"agent {i}",
            REMOTE_ADDR="81.2.69.142",
        ).status_code
        for i in range(3)
    ]
    after = scrape(scraper)
    throttled = answers.count(429)
    assert throttled >= 1, answers
    assert (
        value(after, "outagehub_reports_total", outcome="rejected", reason="throttled")
        - value(before, "outagehub_reports_total", outcome="rejected", reason="throttled")
        == throttled
    )


def test_detection_lag_is_the_service_furthest_behind(scraper):
    now = timezone.now()
    behind, current = make_service(slug="behind"), make_service(slug="current")
    DetectorState.objects.create(service=behind, last_minute=now - dt.timedelta(minutes=10))
    DetectorState.objects.create(service=current, last_minute=now - dt.timedelta(minutes=1))
    lag = value(scrape(scraper), "outagehub_detection_lag_seconds")
    # The minute that ended 9 minutes ago, give or take the time the scrape took.
    assert 9 * 60 - 1 <= lag <= 9 * 60 + 30


def test_queue_length_counts_the_messages_waiting_in_the_broker(scraper):
    # A queue of this test's own: other test processes may share the broker.
    queue = f"metrics-test-{uuid.uuid4().hex[:8]}"
    try:
        app.send_task("reports.tasks.reports_prune_cooldowns", queue=queue)
        app.send_task("reports.tasks.reports_prune_cooldowns", queue=queue)
        assert queue_lengths([queue, "celery"])[queue] == 2
    finally:
        with app.connection_for_write() as connection:
            connection.default_channel.queue_purge(queue)
    text = scrape(scraper)
    assert 'outagehub_queue_length{queue="celery"}' in text
    assert 'outagehub_queue_length{queue="probes.local"}' in text
    assert value(text, "outagehub_broker_up") == 1
