"""Read replicas (outagehub/dbrouter.py): a read-only request reads from the replica, nothing else does.

The "replica" alias here is a second connection to the test database (outagehub/test.py), so
which connection ran a query says where the router sent it.
"""

from __future__ import annotations

import json

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.tests.factories import make_service
from reports.detection.tick import detection_tick
from reports.models import Report

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture(autouse=True)
def router(postgres, settings):
    settings.DATABASE_ROUTERS = ["outagehub.dbrouter.ReadReplicaRouter"]
    make_service()


def queries() -> tuple[CaptureQueriesContext, CaptureQueriesContext]:
    return CaptureQueriesContext(connections["default"]), CaptureQueriesContext(connections["replica"])


def test_the_reads_of_get_requests_run_on_the_replica(client):
    primary, replica = queries()
    with primary, replica:
        for path in ("/api/v1/outages/", "/api/v1/services/tiktok-shop/", "/s/tiktok-shop/", "/"):
            assert client.get(path).status_code == 200, path
    assert len(replica) > 5
    assert [q["sql"] for q in primary] == []


def test_writes_and_their_reads_stay_on_the_primary(client):
    primary, replica = queries()
    with primary, replica:
        response = client.post(
            "/api/v1/services/tiktok-shop/reports/",
            json.dumps({"issue_type": "payment"}),
            content_type="application/json",
            REMOTE_ADDR="81.2.69.142",
        )
    assert response.status_code == 201
    assert Report.objects.filter(pk=response.json()["id"]).exists()
    assert any("INSERT" in q["sql"] for q in primary)
    assert [q["sql"] for q in replica] == []


def test_work_outside_a_request_reads_the_primary():
    from catalog.models import Service

    primary, replica = queries()
    with primary, replica:
        detection_tick(service_id=Service.objects.get(slug="tiktok-shop").pk, now=timezone.now())
    assert len(primary) > 0
    assert [q["sql"] for q in replica] == []


def test_the_replica_is_never_migrated():
    from outagehub.dbrouter import ReadReplicaRouter

    assert ReadReplicaRouter().allow_migrate("replica", "reports") is False
    assert ReadReplicaRouter().allow_migrate("default", "reports") is True
