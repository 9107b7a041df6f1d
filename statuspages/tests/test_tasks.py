"""Beat's task claims due pages and polls each through a Celery task (eager here), once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from outagehub.celery import app as celery_app
from statuspages.demo.server import Route, fixture
from statuspages.kinds import OfficialLevel
from statuspages.models import StatusPage
from statuspages.tasks import statuspages_poll, statuspages_poll_due
from statuspages.tests.factories import make_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_due_pages_are_polled_once_and_scheduled_for_later(allowed, eager):
    allowed.routes["/s.json"] = Route(fixture("atlassian_incident.json", timezone.now()))
    page = make_page(allowed.url("/s.json"), next_poll_at=timezone.now() - dt.timedelta(seconds=1))
    assert statuspages_poll_due() == 1
    page.refresh_from_db()
    assert page.level == OfficialLevel.PARTIAL_OUTAGE
    assert page.next_poll_at > timezone.now() + dt.timedelta(seconds=page.interval_seconds - 5)
    assert statuspages_poll_due() == 0
    assert len(allowed.requests) == 1


def test_a_poll_task_with_a_spent_claim_fetches_nothing(allowed, eager):
    page = make_page(allowed.url("/s.json"))
    assert statuspages_poll(page.pk, "not-the-claim") is None
    assert statuspages_poll(page.pk, "") is None
    assert allowed.requests == []
    assert StatusPage.objects.get().attempted_at is None
