"""The service and outage pages during a simulated outage (reports.tests.web.scenario), without a browser:
the verdict and its evidence, probes, regions, the report form's answers, and the no-JavaScript refresh."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client

from reports.models import Outage, Report
from reports.tests.web.scenario import ongoing_outage
from reports.tests.web.test_pages import section

pytestmark = pytest.mark.django_db

REFRESH = '<noscript><meta http-equiv="refresh" content="60"></noscript>'


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"</(dt|dd)>", " ", re.sub(r"<(?!/d[td])[^>]+>", "", html))).strip()


def get(client: Client, url: str, now) -> str:
    with time_machine.travel(now, tick=False):
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_verdict_names_the_problems_and_says_our_checks_confirm(client: Client) -> None:
    service, now = ongoing_outage()
    html = get(client, f"/s/{service.slug}/", now)

    verdict = text(re.search(r'<div class="verdict.*?</div>', html, re.S).group(0))
    assert verdict.startswith(
        "Problems at TikTok Shop since 15:00 UTC — users report payment and server issues; our checks confirm."
    )
    assert "Based on: user reports and our checks" in verdict
    # Live without JavaScript too: the browser reloads it every minute.
    head = html.split("</head>")[0]
    assert REFRESH in head and '<script src="/static/reports/site.js" defer></script>' in head


def test_without_probes_the_verdict_rests_on_reports(client: Client) -> None:
    service, now = ongoing_outage(probe=False)
    html = get(client, f"/s/{service.slug}/", now)
    assert "our checks confirm" not in text(html) and "Based on: user reports " in text(html)
    assert 'data-testid="probes"' not in html


def test_reports_the_official_page_confirms_rest_on_both_and_the_outage_says_so(client: Client) -> None:
    service, now = ongoing_outage(probe=False)
    # As the detection tick records a fresh status page in trouble during the outage.
    Outage.objects.filter(service=service).update(official_confirmed=True, confidence="confirmed")
    html = get(client, f"/s/{service.slug}/", now)
    assert "Based on: user reports and the official status page" in text(html)
    # site.js rewords the evidence from these attributes every minute: it needs the same words.
    assert 'data-outage-evidence="reports_official"' in html
    assert 'data-text-reports_official="Based on: user reports and the official status page"' in html
    outage = Outage.objects.get(service=service)
    summary = text(get(client, f"/s/{service.slug}/outages/{outage.pk}/", now))
    assert "Evidence Confirmed (two or more signals)" in summary


def test_probe_panel_shows_state_uptime_and_latency(client: Client) -> None:
    service, now = ongoing_outage()
    probes = text(section(get(client, f"/s/{service.slug}/", now), "probes"))
    # Checked every minute from 12:00; down from 15:05 to 15:31: 185 up of 211 in the last 24 hours.
    assert "homepage (HTTP(S)) Down since 2026-11-20 15:05 UTC" in probes
    assert "Uptime, 24 h 87.68%" in probes and "Uptime, 30 days 87.68%" in probes
    # The latest hour with a conclusive check (15:00-15:05): its median and 95th percentile.
    assert re.search(r"Response time 1\d\d ms typical, 1\d\d ms slowest 5%", probes), probes


def test_regions_rank_countries_with_their_shares(client: Client) -> None:
    service, now = ongoing_outage()
    regions = section(get(client, f"/s/{service.slug}/", now), "regions")
    rows = re.findall(r'<th scope="row">(.*?)</th>.*?share-value">(\d+)%<', regions, re.S)
    assert [name for name, _ in rows] == ["Germany", "France", "United States", "Unknown"]
    assert [int(p) for _, p in rows] == sorted((int(p) for _, p in rows), reverse=True)


def test_outage_page_has_report_buttons_escaped_comments_and_numbered_events(client: Client) -> None:
    service, now = ongoing_outage()
    outage = Outage.objects.get(service=service)
    url = f"/s/{service.slug}/outages/{outage.pk}/"
    html = get(client, url, now)

    report = section(html, "report")
    assert f'<input type="hidden" name="next" value="{url}">' in report
    assert re.findall(r'name="issue_type" value="(\w+)"', report) == ["server", "payment", "inventory", "shipping"]
    comments = section(html, "comments")
    assert "&lt;b&gt;App&lt;/b&gt; says 502" in comments and "<b>" not in comments
    events = outage.events.count()
    assert len(re.findall(r'<g class="marker marker-\w+" data-number="\d+"', html)) == events
    assert len(re.findall(r'<span class="event-number" aria-hidden="true">\d+</span>', html)) == events
    assert REFRESH in html  # open: it reloads itself without JavaScript


def test_a_resolved_outage_page_does_not_reload_itself(client: Client) -> None:
    service, now = ongoing_outage(probe=False)
    outage = Outage.objects.get(service=service)
    Outage.objects.filter(pk=outage.pk).update(status="resolved", resolved_at=now, ended_at=now)
    assert REFRESH not in get(client, f"/s/{service.slug}/outages/{outage.pk}/", now)


def test_report_asked_for_in_json_answers_in_json(client: Client) -> None:
    service, now = ongoing_outage(probe=False)
    url = f"/s/{service.slug}/report/"
    with time_machine.travel(now, tick=False):
        taken = client.post(url, {"issue_type": "login", "comment": ""}, headers={"accept": "application/json"})
        counted = client.post(url, {"issue_type": "payment"}, headers={"accept": "application/json"})
        again = client.post(url, {"issue_type": "payment"}, headers={"accept": "application/json"})

    assert taken.status_code == 400
    assert taken.json()["kind"] == "error" and "issue_type" in taken.json()["errors"]
    assert counted.status_code == 200 and counted.json() == {
        "message": "Thanks: your payment problem with TikTok Shop was counted.",
        "kind": "success",
        "counted": True,
    }
    assert again.json()["counted"] is False and "not counted again" in again.json()["message"]
    assert Report.objects.filter(channel="web").count() == 2


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/s/tiktok-shop/outages/1/", "/s/tiktok-shop/outages/1/"),
        ("https://evil.example/s/tiktok-shop/", "/s/tiktok-shop/"),
        ("//evil.example/s/tiktok-shop/", "/s/tiktok-shop/"),
        ("/s/amazon/", "/s/tiktok-shop/"),  # another service's page: not where this form was
        ("", "/s/tiktok-shop/"),
    ],
)
def test_plain_report_redirects_back_only_to_a_page_of_its_service(client: Client, next_url, expected) -> None:
    service, now = ongoing_outage(probe=False)
    with time_machine.travel(now, tick=False):
        response = client.post(f"/s/{service.slug}/report/", {"issue_type": "payment", "next": next_url})
    assert response.status_code == 302 and response["Location"] == expected
