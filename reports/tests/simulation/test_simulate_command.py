"""`manage.py simulate --url`: simulated reporters over real HTTP, through the API."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from catalog.loader import catalog_load, parse_catalog
from reports.models import Channel, Report, ReporterCooldown


@pytest.mark.django_db(transaction=True)
def test_simulator_posts_over_http_and_each_reporter_counts_separately(live_server, settings):
    settings.OUTAGEHUB_TRUSTED_PROXIES = ["127.0.0.1/32"]
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "10000/min"
    catalog_load(
        parse_catalog(
            "services:\n  - {slug: tiktok-shop, name: TikTok Shop, demo_traffic: 1.0}\n"
            "  - {slug: quiet, name: Quiet, demo_traffic: 0}\n"
        )
    )
    out = io.StringIO()
    call_command(
        "simulate",
        "--url",
        live_server.url,
        "--minutes",
        "1",
        "--outage",
        "tiktok-shop:payment",
        "--at=-1m",
        "--for",
        "10m",
        "--factor",
        "30",
        "--seed",
        "7",
        stdout=out,
    )
    posted, refused = map(int, re.search(r"posted (\d+) reports \((\d+) refused\)", out.getvalue()).groups())
    assert refused == 0
    assert posted >= 5  # 30x a 1/min service: dozens expected, 5 is far in the tail
    reports = Report.objects.all()
    assert reports.count() == posted
    assert set(reports.values_list("channel", flat=True)) == {Channel.API}
    assert reports.filter(issue_type__key="payment").count() > posted / 2
    # Each simulated reporter came through the trusted proxy with its own address: every counted
    # one claimed a slot of an address of its own (behind one address at most 3 would count), and
    # one of its network's (random addresses: one network each, almost surely).
    counted = reports.filter(counted=True).count()
    assert counted > 1
    assert ReporterCooldown.objects.count() == 3 * counted
    assert not reports.filter(network_flagged=True).exists()
    assert reports.exclude(country="").exists()


def test_url_must_be_http(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="http"):
        call_command("simulate", "--url", "file:///etc/passwd")
