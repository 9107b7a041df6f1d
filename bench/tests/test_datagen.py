"""The benchmark's history generator: the rows it promises, with rollups that agree with them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum

from bench.datagen import OUTAGES_MIN, REPORTS_PER_OUTAGE, bench_services, reports_generate
from reports.models import CountryHour, DetectorState, Outage, Report, ReportMinute
from reports.selectors.status import report_counts

pytestmark = pytest.mark.django_db

END = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def test_generated_reports_spread_over_services_and_time_with_matching_rollups(postgres):
    services = bench_services(count=3)
    reports_generate(services=services, reports=3000, end=END, days=2)
    reports_generate(services=services, reports=1000, end=END, days=2, seed=2)  # history grows
    assert Report.objects.count() == 4000
    assert all(Report.objects.filter(service=s).count() > 1000 for s in services)
    oldest, newest = Report.objects.order_by("created_at")[0].created_at, Report.objects.latest("created_at").created_at
    assert END - dt.timedelta(days=2, hours=1) <= oldest < newest < END
    counted = Report.objects.filter(counted=True)
    assert 0.85 < counted.count() / 4000 < 0.95
    for service in services:
        mine = counted.filter(service=service).count()
        assert ReportMinute.objects.filter(service=service).aggregate(n=Sum("count"))["n"] == mine
        assert CountryHour.objects.filter(service=service).aggregate(n=Sum("count"))["n"] == mine
        assert DetectorState.objects.get(service=service).last_minute == END - dt.timedelta(minutes=1)
    # One per 2,000 reports, but at least a full first page of outages/ however small the history.
    assert Outage.objects.count() == max(OUTAGES_MIN, 4000 // REPORTS_PER_OUTAGE)
    # The reads see what is stored: the last day from rollups equals the raw count.
    day = counted.filter(service=services[0], created_at__gte=END - dt.timedelta(days=1) + dt.timedelta(minutes=1))
    assert report_counts(service=services[0], now=END).last_24_hours == day.count()


def test_the_same_seed_generates_the_same_history(postgres):
    services = bench_services(count=2)
    reports_generate(services=services, reports=500, end=END, days=1, seed=7)
    first = list(Report.objects.order_by("created_at", "id").values_list("service_id", "issue_type_id", "country"))
    Report.objects.all().delete()
    reports_generate(services=services, reports=500, end=END, days=1, seed=7)
    again = list(Report.objects.order_by("created_at", "id").values_list("service_id", "issue_type_id", "country"))
    assert first == again
