"""Every kind's recorded-format fixture read into the one level scale, and hostile bodies read as unknown."""

from __future__ import annotations

import json
import random

import pytest

from statuspages.demo.server import fixture, render
from statuspages.kinds import IncidentStatus, OfficialLevel, PageKind
from statuspages.parsers import PARSERS, parse
from statuspages.parsers.base import decode_text
from statuspages.tests.conftest import NOW

JSON = {"content-type": "application/json"}
FIXTURES = [
    (PageKind.ATLASSIAN, "atlassian_incident.json", "utf-8"),
    (PageKind.ATLASSIAN, "atlassian_ok.json", "utf-8"),
    (PageKind.INCIDENTIO, "incidentio.json", "utf-8"),
    (PageKind.INSTATUS, "instatus.json", "utf-8"),
    (PageKind.INSTATUS, "instatus_issues.json", "utf-8"),
    (PageKind.BETTERSTACK, "betterstack.json", "utf-8"),
    (PageKind.GCP, "gcp.json", "utf-8"),
    (PageKind.AWS, "aws.json", "utf-16"),
    (PageKind.FEED, "feed.atom", "utf-8"),
    (PageKind.FEED, "feed_open.rss", "utf-8"),
]


def read(kind: str, name: str, encoding: str = "utf-8", headers=JSON):
    return parse(kind, fixture(name, NOW, encoding), headers, now=NOW)


def summary(**overrides) -> bytes:
    data = json.loads(render((fixture("atlassian_ok.json", NOW)).decode(), NOW))
    data.update(overrides)
    return json.dumps(data).encode()


# --- each kind ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "encoding", "level", "open_titles"),
    [
        (*FIXTURES[0], OfficialLevel.PARTIAL_OUTAGE, ["Investigating payment errors"]),
        (*FIXTURES[1], OfficialLevel.OPERATIONAL, []),
        (*FIXTURES[2], OfficialLevel.DEGRADED, ["Slow loading in the Shopify admin"]),
        (*FIXTURES[3], OfficialLevel.OPERATIONAL, []),  # a maintenance announced, not under way
        (*FIXTURES[4], OfficialLevel.PARTIAL_OUTAGE, ["Login failures"]),
        (*FIXTURES[5], OfficialLevel.DEGRADED, ["Delayed order confirmations"]),
        (*FIXTURES[6], OfficialLevel.PARTIAL_OUTAGE, ["Cloud SQL: elevated connection errors in us-central1"]),
        (*FIXTURES[7], OfficialLevel.PARTIAL_OUTAGE, ["Increased API Error Rates"]),
        (*FIXTURES[8], OfficialLevel.OPERATIONAL, []),  # every item resolved
        (*FIXTURES[9], OfficialLevel.PARTIAL_OUTAGE, ["Checkout outage"]),
    ],
)
def test_every_kind_maps_to_the_one_level_scale(kind, name, encoding, level, open_titles):
    snapshot = read(kind, name, encoding)
    assert snapshot.reason == ""
    assert snapshot.level == level
    assert [i.title for i in snapshot.incidents if i.open] == open_titles


@pytest.mark.parametrize(
    ("indicator", "level"),
    [
        ("none", OfficialLevel.OPERATIONAL),
        ("minor", OfficialLevel.DEGRADED),
        ("major", OfficialLevel.PARTIAL_OUTAGE),
        ("critical", OfficialLevel.MAJOR_OUTAGE),
        ("maintenance", OfficialLevel.MAINTENANCE),
    ],
)
def test_atlassian_indicators_map_to_levels(indicator, level):
    body = summary(status={"indicator": indicator, "description": "x"})
    assert parse(PageKind.ATLASSIAN, body, JSON, now=NOW).level == level


def test_atlassian_one_component_down_is_a_partial_outage_and_all_down_a_major_one():
    one = summary(components=[{"name": "API", "status": "major_outage"}, {"name": "Web", "status": "operational"}])
    every = summary(components=[{"name": "API", "status": "major_outage"}, {"name": "Web", "status": "major_outage"}])
    assert parse(PageKind.ATLASSIAN, one, JSON, now=NOW).level == OfficialLevel.PARTIAL_OUTAGE
    assert parse(PageKind.ATLASSIAN, every, JSON, now=NOW).level == OfficialLevel.MAJOR_OUTAGE


def test_atlassian_incident_keeps_its_updates_oldest_first_with_ids_and_lifecycle():
    incident = read(*FIXTURES[0]).incidents[0]
    assert incident.provider_id == "p31zjtct2jer"
    assert incident.status == IncidentStatus.IDENTIFIED
    assert incident.components == ("Checkout", "Payments")
    assert [(u.provider_id, u.status) for u in incident.updates] == [
        ("0pq9k3lr8m2c", IncidentStatus.INVESTIGATING),
        ("h6kl0tqcbx5v", IncidentStatus.IDENTIFIED),
    ]
    assert incident.started_at == NOW.replace(minute=5)


def test_aws_utf16_with_bom_is_read_and_without_bom_is_unknown():
    body = fixture("aws.json", NOW, "utf-16")
    assert body[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert parse(PageKind.AWS, body, {}, now=NOW).level == OfficialLevel.PARTIAL_OUTAGE
    no_bom = fixture("aws.json", NOW, "utf-16-le")
    snapshot = parse(PageKind.AWS, no_bom, {"content-type": "application/json; charset=utf-8"}, now=NOW)
    assert snapshot.level == OfficialLevel.UNKNOWN
    assert "JSON" in snapshot.reason or "utf-8" in snapshot.reason


def test_aws_empty_list_is_all_operational():
    assert parse(PageKind.AWS, "[]".encode("utf-16"), {}, now=NOW).level == OfficialLevel.OPERATIONAL


def test_gcp_keeps_open_and_recent_incidents_only():
    snapshot = read(*FIXTURES[6])
    assert [i.provider_id for i in snapshot.incidents] == ["bYm3qX4cLpR8sT2vW6zA", "Zq9w8E7r6T5y4U3i2O1p"]
    assert snapshot.incidents[0].url == "https://status.cloud.google.com/incidents/bYm3qX4cLpR8sT2vW6zA"


def test_a_bom_wins_over_a_wrong_charset_header():
    body = "\ufeff".encode() + fixture("atlassian_ok.json", NOW)
    latin = {"content-type": "application/json; charset=iso-8859-1"}
    assert decode_text(body, latin).startswith("{")
    assert parse(PageKind.ATLASSIAN, body, latin, now=NOW).level == OfficialLevel.OPERATIONAL


def test_feed_items_older_than_a_day_are_not_open_incidents():
    rss = fixture("feed_open.rss", NOW)
    assert parse(PageKind.FEED, rss, {}, now=NOW).level == OfficialLevel.PARTIAL_OUTAGE
    later = NOW.replace(day=28)
    assert parse(PageKind.FEED, rss, {}, now=later).level == OfficialLevel.OPERATIONAL


def test_links_that_are_not_http_are_dropped():
    data = json.loads(fixture("atlassian_incident.json", NOW))
    data["incidents"][0]["shortlink"] = "javascript:alert(1)"
    snapshot = parse(PageKind.ATLASSIAN, json.dumps(data).encode(), JSON, now=NOW)
    assert snapshot.incidents[0].url == ""


# --- hostile bodies -------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<rss><channel><item><title>&lol2;</title></item></channel></rss>"""


@pytest.mark.parametrize(
    ("kind", "body", "reason"),
    [
        (PageKind.ATLASSIAN, b"", "empty body"),
        (PageKind.ATLASSIAN, b"<html>Bad gateway</html>", "not JSON"),
        (PageKind.ATLASSIAN, b'{"status": {"indicator": "none"', "not JSON"),
        (PageKind.ATLASSIAN, b"[1, 2, 3]", "not an object"),
        (PageKind.ATLASSIAN, b'{"page": {}}', "not a Statuspage summary"),
        (PageKind.ATLASSIAN, b'{"status": {"indicator": "purple"}}', "none of"),
        (PageKind.ATLASSIAN, b'{"status": "none", "components": []}', "status is not an object"),
        (PageKind.ATLASSIAN, b'{"status": {"indicator": "none"}, "incidents": [{"name": "no id"}]}', "without an id"),
        (PageKind.ATLASSIAN, b"[" * 100_000 + b"]" * 100_000, "JSON"),
        (PageKind.ATLASSIAN, b'{"status": {"indicator": 1' + b"0" * 5000 + b"}}", "JSON"),
        (PageKind.ATLASSIAN, '{"status": {"indicator": "caf\xe9"}}'.encode("latin-1"), "not valid utf-8"),
        (PageKind.ATLASSIAN, b"\xff\xfe{\x00", "JSON"),
        (PageKind.INCIDENTIO, b'{"summary": {"name": "x"}}', "not an incident.io summary"),
        (PageKind.INSTATUS, b'{"page": {"status": "SOMETIMES"}}', "none of UP"),
        (PageKind.BETTERSTACK, b'{"data": {"attributes": {}}}', "aggregate_state"),
        (PageKind.GCP, b'{"incidents": []}', "not a list"),
        (PageKind.AWS, b'[{"summary": "no service"}]', "without service"),
        (PageKind.FEED, BILLION_LAUGHS, "DOCTYPE"),
        (PageKind.FEED, b"<html><body>maintenance</body></html>", "neither an RSS nor an Atom"),
        (PageKind.FEED, b"<rss><channel><item>", "not XML"),
        (PageKind.FEED, b"<a>" * 100 + b"</a>" * 100, "too deep"),
    ],
)
def test_a_hostile_body_is_unknown_with_a_reason(kind, body, reason):
    snapshot = parse(kind, body, JSON, now=NOW)
    assert snapshot.level == OfficialLevel.UNKNOWN
    assert reason in snapshot.reason


@pytest.mark.parametrize(("kind", "name", "encoding"), FIXTURES)
def test_no_truncation_or_byte_flip_of_a_real_body_crashes_the_parser_or_reads_operational_wrongly(
    kind, name, encoding
):
    body = fixture(name, NOW, encoding)
    rng = random.Random(f"{kind}{name}")
    for _ in range(150):
        mutated = bytearray(body[: rng.randrange(len(body))] if rng.random() < 0.5 else body)
        for _ in range(rng.randrange(1, 4)):
            if mutated:
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        snapshot = parse(kind, bytes(mutated), JSON, now=NOW)  # never raises
        assert snapshot.level in OfficialLevel.values
        if not snapshot.known:
            assert snapshot.reason  # an unknown level always says why


def test_every_kind_has_a_parser():
    assert set(PARSERS) == set(PageKind.values)


def test_betterstack_maintenance_ahead_is_scheduled_and_a_past_report_resolved():
    data = json.loads(fixture("betterstack.json", NOW))
    data["included"].append(
        {
            "id": "5502",
            "type": "status_report",
            "attributes": {
                "title": "Database upgrade",
                "report_type": "maintenance",
                "starts_at": "2026-11-27T02:00:00Z",
                "ends_at": "2026-11-27T03:00:00Z",
                "aggregate_state": "maintenance",
            },
        }
    )
    data["included"][2]["attributes"]["ends_at"] = "2026-11-26T19:29:00Z"
    snapshot = parse(PageKind.BETTERSTACK, json.dumps(data).encode(), JSON, now=NOW)
    statuses = {i.title: (i.status, i.open) for i in snapshot.incidents}
    assert statuses == {
        "Delayed order confirmations": (IncidentStatus.RESOLVED, False),
        "Database upgrade": (IncidentStatus.SCHEDULED, True),
    }


def test_betterstack_downtime_of_one_resource_is_a_partial_outage():
    data = json.loads(fixture("betterstack.json", NOW))
    data["data"]["attributes"]["aggregate_state"] = "downtime"
    data["included"][0]["attributes"]["status"] = "downtime"
    assert parse(PageKind.BETTERSTACK, json.dumps(data).encode(), JSON, now=NOW).level == OfficialLevel.PARTIAL_OUTAGE


@pytest.mark.parametrize(
    "change",
    [
        {"status": "0"},
        {"summary": "[RESOLVED] Increased API Error Rates"},
        {"event_log": [{"summary": "x", "message": "Recovered.", "status": 0, "timestamp": 1795719000}]},
    ],
)
def test_aws_resolved_events_do_not_count(change):
    data = json.loads(fixture("aws.json", NOW, "utf-16").decode("utf-16"))
    data[0].update(change)
    snapshot = parse(PageKind.AWS, json.dumps(data).encode("utf-16"), {}, now=NOW)
    assert snapshot.level == OfficialLevel.OPERATIONAL
    assert snapshot.incidents[0].status == IncidentStatus.RESOLVED
