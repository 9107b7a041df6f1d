"""GET /api/v1/outages/ filters: service, status, confidence, issue type, time range; 400 naming the field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from catalog.models import IssueType
from catalog.services import IssueTypeSpec
from catalog.tests.factories import make_service
from reports.api.filters import OutageFilter
from reports.models import Confidence, Outage, OutageStatus
from reports.tests.api.test_reports import assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/outages/"
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def make_outage(service, *, started: dt.datetime = T0, resolved: dt.datetime | None = None, **kwargs) -> Outage:
    return Outage.objects.create(
        service=service,
        status=OutageStatus.RESOLVED if resolved else OutageStatus.OPEN,
        confidence=kwargs.pop("confidence", Confidence.CROWD),
        started_at=started,
        resolved_at=resolved,
        issue_types=kwargs.pop("issue_types", {"payment": 3}),
        **kwargs,
    )


@pytest.fixture
def api() -> Client:
    return Client(REMOTE_ADDR="81.2.69.142")


@pytest.fixture
def shop():
    return make_service()


def ids(api: Client, query: str) -> list[int]:
    response = api.get(f"{URL}?{query}")
    assert response.status_code == 200, response.content
    return [outage["id"] for outage in response.json()["results"]]


def test_service_filter_keeps_only_that_services_outages(api, shop):
    mine = make_outage(shop)
    make_outage(make_service("bank", "Bank"))
    assert ids(api, "service=tiktok-shop") == [mine.pk]
    make_service("quiet", "Quiet")
    assert ids(api, "service=quiet") == []  # a service without outages (an unknown one is a 400)


def test_status_filter_tells_open_from_resolved(api, shop):
    resolved = make_outage(shop, started=T0 - 3 * HOUR, resolved=T0 - 2 * HOUR)
    still_open = make_outage(shop)
    assert ids(api, "status=open") == [still_open.pk]
    assert ids(api, "status=resolved") == [resolved.pk]


def test_confidence_filter(api, shop):
    bank = make_service("bank", "Bank")
    crowd = make_outage(shop, confidence=Confidence.CROWD)
    probe = make_outage(bank, confidence=Confidence.PROBE)
    assert ids(api, "confidence=crowd") == [crowd.pk]
    assert ids(api, "confidence=probe") == [probe.pk]
    assert ids(api, "confidence=confirmed") == []
    official = make_outage(make_service("mail", "Mail"), confidence=Confidence.OFFICIAL)
    assert ids(api, "confidence=official") == [official.pk]


def test_issue_type_filter_needs_a_count_above_zero(api, shop):
    payment = make_outage(shop, started=T0, resolved=T0 + HOUR, issue_types={"payment": 4, "inventory": 0})
    inventory = make_outage(shop, started=T0 - 3 * HOUR, resolved=T0 - 2 * HOUR, issue_types={"inventory": 2})
    make_outage(shop, started=T0 - 6 * HOUR, resolved=T0 - 5 * HOUR, issue_types={})
    assert ids(api, "issue_type=payment") == [payment.pk]
    assert ids(api, "issue_type=inventory") == [inventory.pk]  # the explicit 0 does not count
    assert ids(api, "issue_type=server") == []


def test_since_and_until_keep_outages_overlapping_the_range(api, shop):
    before = make_outage(shop, started=T0 - 5 * HOUR, resolved=T0 - 4 * HOUR)
    ends_at_since = make_outage(shop, started=T0 - 3 * HOUR, resolved=T0 - 2 * HOUR)
    straddles = make_outage(shop, started=T0 - 2 * HOUR - dt.timedelta(minutes=30), resolved=T0 - HOUR)
    inside = make_outage(shop, started=T0 - HOUR, resolved=T0 - dt.timedelta(minutes=30))
    starts_at_until = make_outage(shop, started=T0, resolved=T0 + HOUR)
    still_open = make_outage(make_service("bank", "Bank"), started=T0 - 6 * HOUR)

    window = "since=2026-03-01T10:00:00Z&until=2026-03-01T12:00:00Z"  # [T0 - 2h, T0)
    assert set(ids(api, window)) == {straddles.pk, inside.pk, still_open.pk}
    assert ends_at_since.pk not in ids(api, window)  # [since, until) and (started, resolved] only touch
    assert set(ids(api, "since=2026-03-01T10:00:00Z")) == {straddles.pk, inside.pk, starts_at_until.pk, still_open.pk}
    # ends_at_since started at 09:00: not before an until of 09:00.
    assert set(ids(api, "until=2026-03-01T09:00:00Z")) == {before.pk, still_open.pk}


def test_an_offset_is_honoured_and_a_naive_time_is_utc(api, shop):
    inside = make_outage(shop, started=T0 - HOUR, resolved=T0 - dt.timedelta(minutes=30))
    assert ids(api, "since=2026-03-01T12:45:00%2B02:00") == [inside.pk]  # 10:45 UTC
    assert ids(api, "since=2026-03-01T11:45:00") == []


def test_filters_combine_and_the_cursor_keeps_them(api, shop):
    made = [
        make_outage(shop, started=T0 - (2 * hours + 2) * HOUR, resolved=T0 - (2 * hours + 1) * HOUR)
        for hours in range(3)
    ]
    make_outage(make_service("bank", "Bank"), started=T0 - HOUR)
    body = api.get(f"{URL}?service=tiktok-shop&status=resolved&issue_type=payment&page_size=2").json()
    assert "count" not in body and body["previous"] is None
    assert [o["id"] for o in body["results"]] == [made[0].pk, made[1].pk]  # newest first
    assert "cursor=" in body["next"] and "service=tiktok-shop" in body["next"]
    rest = api.get(body["next"]).json()
    assert [o["id"] for o in rest["results"]] == [made[2].pk] and rest["next"] is None


def test_the_cursor_neither_repeats_nor_skips_when_outages_open_meanwhile(api, shop):
    older = [make_outage(shop, started=T0 - (10 - i) * HOUR, resolved=T0 - (9 - i) * HOUR) for i in range(4)]
    first = api.get(f"{URL}?page_size=2").json()
    make_outage(shop, started=T0)  # a new outage opens while the client pages
    second = api.get(first["next"]).json()
    seen = [o["id"] for o in first["results"] + second["results"]]
    assert seen == [o.pk for o in reversed(older)]


def test_outages_on_the_same_minute_page_in_a_stable_order(api, shop):
    same = [make_outage(make_service(f"s{i}", f"S{i}"), started=T0 - HOUR) for i in range(5)]
    seen, url = [], f"{URL}?page_size=2"
    while url:
        body = api.get(url).json()
        seen += [o["id"] for o in body["results"]]
        url = body["next"]
    assert seen == sorted((o.pk for o in same), reverse=True)


def test_a_crafted_cursor_is_a_404_in_the_error_body(api, shop):
    response = api.get(f"{URL}?cursor=cD1ub3QtYS1kYXRl")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("query", "field", "needle"),
    [
        ("status=closed", "status", "Allowed: open, resolved."),
        ("confidence=sure", "confidence", "Allowed: confirmed, crowd, probe, official."),
        ("service=not%20a%20slug", "service", "slug"),
        ("service=nope", "service", "No service with slug 'nope'"),
        ("issue_type=" + "x" * 33, "issue_type", "at most 32"),
        ("issue_type=pay%2Fment", "issue_type", "lowercase letters"),
        # Read as JSON array indexes, these were a 500 (-1) or never matched (404).
        ("issue_type=-1", "issue_type", "at least one letter"),
        ("issue_type=404", "issue_type", "at least one letter"),
        ("since=yesterday", "since", "valid date/time"),
        ("until=2026-13-01T00:00:00Z", "until", "valid date/time"),
        ("since=1900-01-01T00:00:00Z", "since", "1970"),
        ("until=9999-12-31T23:59:59-01:00", "until", "2100"),
        ("since=2026-03-01T12:00:00Z&until=2026-03-01T12:00:00Z", "until", "after since"),
        ("since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z", "until", "after since"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(api, shop, query, field, needle):
    body = assert_error(api.get(f"{URL}?{query}"), 400, field, needle)
    assert body["code"] == "invalid"
    assert body["message"].startswith(f"Invalid input. {field}: ")


def test_an_unknown_status_lists_the_allowed_ones(api, shop):
    body = assert_error(api.get(f"{URL}?status=closed"), 400, "status")
    assert body["errors"] == {"status": ['"closed" is not a valid choice. Allowed: open, resolved.']}


def test_an_unknown_issue_type_is_a_400_listing_the_services_keys(api, shop):
    make_service("ebay", "eBay", issue_types=[IssueTypeSpec(key="login", label="Login")])
    body = assert_error(api.get(f"{URL}?service=tiktok-shop&issue_type=login"), 400, "issue_type")
    assert body["errors"]["issue_type"] == [
        "'login' is not an issue type of TikTok Shop. Allowed: server, payment, inventory, shipping."
    ]


def test_an_unknown_issue_type_without_service_lists_every_active_key_once(api, shop):
    make_service("ebay", "eBay", issue_types=[IssueTypeSpec(key="login", label="Login")])
    IssueType.objects.filter(key="shipping").update(active=False)
    body = assert_error(api.get(f"{URL}?issue_type=bogus"), 400, "issue_type")
    assert body["errors"]["issue_type"] == [
        "'bogus' is not an issue type of any service. Allowed: inventory, login, payment, server."
    ]
    assert ids(api, "issue_type=login") == []  # a key of any service is a question, not a typo


def test_the_allowed_issue_types_are_capped(api, shop):
    many = [IssueTypeSpec(key=f"type{n:02d}", label=f"Type {n}") for n in range(40)]
    make_service("big", "Big", issue_types=many)
    text = api.get(f"{URL}?issue_type=bogus").json()["errors"]["issue_type"][0]
    assert text.count(",") == OutageFilter.ISSUE_TYPES_SHOWN - 1
    assert text.endswith(f"(and {44 - OutageFilter.ISSUE_TYPES_SHOWN} more).")


def test_an_empty_filter_is_read_as_absent(api, shop):
    outage = make_outage(shop)
    assert ids(api, "service=&status=&confidence=&issue_type=&since=&until=") == [outage.pk]


def test_the_schema_documents_every_filter():
    schema = Client().get("/api/v1/schema/?format=json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/outages/"]["get"]["parameters"]}
    assert {"service", "status", "confidence", "issue_type", "since", "until", "cursor", "page_size"} <= set(parameters)
    assert parameters["status"]["schema"]["enum"] == ["open", "resolved"]
    assert parameters["confidence"]["schema"]["enum"] == ["confirmed", "crowd", "official", "probe"]
    assert parameters["since"]["schema"] == {"type": "string", "format": "date-time"}
