"""Data migrations, run on rows as the app's models write them."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps

from catalog.tests.factories import make_service
from reports.models import Confidence, EventKind, Outage, OutageEvent

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def stored_outage(service, by, **flags):
    """An outage as stored before 0005: one the page opened was recorded as "probe"."""
    outage = Outage.objects.create(
        service=service, confidence=Confidence.CROWD if by == "reports" else Confidence.PROBE, started_at=T0, **flags
    )
    OutageEvent.objects.create(outage=outage, kind=EventKind.OPENED, at=T0, data={"by": by, "level": "outage"})
    return outage


def test_0005_records_the_page_on_outages_it_opened_and_recounts_their_confidence():
    migration = importlib.import_module("reports.migrations.0005_outage_official_confirmed")
    shop = make_service()
    page_alone = stored_outage(shop, "official", status="resolved")
    page_then_reports = stored_outage(shop, "official", status="resolved", reports_confirmed=True)
    by_probes = stored_outage(shop, "probes", status="resolved", probes_confirmed=True)
    by_reports = stored_outage(shop, "reports", reports_confirmed=True)
    migration.backfill_official(apps, None)
    got = {o.pk: (o.confidence, o.official_confirmed) for o in Outage.objects.all()}
    assert got == {
        page_alone.pk: (Confidence.OFFICIAL, True),
        page_then_reports.pk: (Confidence.CONFIRMED, True),
        by_probes.pk: (Confidence.PROBE, False),
        by_reports.pk: (Confidence.CROWD, False),
    }
