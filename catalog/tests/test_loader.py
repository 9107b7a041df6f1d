"""Catalog as code: parse_catalog / catalog_load and `manage.py load_catalog`."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
import time_machine
import yaml
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.loader import CatalogError, LoadResult, catalog_load, parse_catalog
from catalog.models import IssueType, Service
from probes.kinds import Outcome, ProbeState
from probes.models import Probe, ProbeResult
from reports.models import Report
from reports.tests.factories import file_report

DEMO = Path(__file__).resolve().parents[1] / "demo.yaml"
DEMO_SLUGS = [entry["slug"] for entry in yaml.safe_load(DEMO.read_text())["services"]]
DEFAULT_KEYS = ["server", "payment", "inventory", "shipping"]

MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

SHOP = """
services:
  - slug: shop
    name: Shop
    homepage: https://shop.example
    description: A shop.
    demo_traffic: 2.5
    issue_types:
      - {key: server, label: Server}
      - {key: payment, label: Payment}
      - {key: shipping, label: Shipping}
"""


def load(text: str) -> LoadResult:
    return catalog_load(parse_catalog(text))


def load_file(path: Path) -> str:
    out = StringIO()
    call_command("load_catalog", str(path), stdout=out)
    return out.getvalue()


def write(tmp_path: Path, text: str, name: str = "catalog.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def issue_types(slug: str, *, active_only: bool = False) -> list[tuple[str, str]]:
    rows = IssueType.objects.filter(service__slug=slug).order_by("order", "key")
    if active_only:
        rows = rows.filter(active=True)
    return list(rows.values_list("key", "label"))


def snapshot() -> tuple[list[dict], list[dict]]:
    """Every column of every service and issue type, to prove nothing was written."""
    return (
        list(Service.objects.order_by("id").values()),
        list(IssueType.objects.order_by("id").values()),
    )


# --- The demo catalog -------------------------------------------------------


@pytest.mark.django_db
def test_demo_catalog_creates_every_service_it_lists():
    result = load(DEMO.read_text())

    assert result.created == DEMO_SLUGS
    assert result.updated == result.unchanged == []
    assert sorted(Service.objects.values_list("slug", flat=True)) == sorted(DEMO_SLUGS)


@pytest.mark.django_db
def test_demo_service_without_issue_types_gets_the_four_defaults_in_order():
    load(DEMO.read_text())

    shop = Service.objects.get(slug="tiktok-shop")
    assert (shop.name, shop.homepage, shop.active) == ("TikTok Shop", "https://shop.tiktok.com", True)
    assert issue_types("tiktok-shop") == [
        ("server", "Server"),
        ("payment", "Payment"),
        ("inventory", "Inventory"),
        ("shipping", "Shipping"),
    ]


@pytest.mark.django_db
def test_demo_service_with_custom_issue_types_has_exactly_those():
    load(DEMO.read_text())

    assert issue_types("paypal") == [("login", "Login"), ("payment", "Payment"), ("app", "App"), ("website", "Website")]
    assert issue_types("stripe") == [
        ("api", "API"),
        ("dashboard", "Dashboard"),
        ("payment", "Payment"),
        ("payouts", "Payouts"),
    ]


@pytest.mark.django_db
def test_demo_traffic_is_stored_per_service():
    load(DEMO.read_text())

    traffic = dict(Service.objects.values_list("slug", "demo_traffic"))
    assert traffic["tiktok-shop"] == 3.0
    assert traffic["mercado-libre"] == 0.05


@pytest.mark.django_db
def test_load_catalog_command_loads_the_demo_file_and_says_what_it_created():
    output = load_file(DEMO)

    assert f"{len(DEMO_SLUGS)} created, 0 updated, 0 unchanged" in output
    assert "created: tiktok-shop, amazon" in output
    assert issue_types("tiktok-shop") == issue_types("amazon")
    assert [key for key, _ in issue_types("instagram")] == ["app", "login", "feed", "shopping"]


# --- Idempotence ------------------------------------------------------------


@pytest.mark.django_db
def test_loading_the_same_file_twice_changes_nothing():
    with time_machine.travel(MONDAY, tick=False):
        load(DEMO.read_text())
    before = snapshot()

    # An hour later: any save would move updated_at (auto_now).
    with time_machine.travel(MONDAY + dt.timedelta(hours=1), tick=False):
        result = load(DEMO.read_text())

    assert result.unchanged == DEMO_SLUGS
    assert result.created == result.updated == []
    assert snapshot() == before


@pytest.mark.django_db
def test_loading_the_demo_file_twice_through_the_command_reports_everything_unchanged():
    with time_machine.travel(MONDAY, tick=False):
        load_file(DEMO)
    before = snapshot()

    with time_machine.travel(MONDAY + dt.timedelta(hours=1), tick=False):
        output = load_file(DEMO)

    assert f"0 created, 0 updated, {len(DEMO_SLUGS)} unchanged" in output
    assert "created:" not in output
    assert "updated:" not in output
    assert snapshot() == before


# --- Updates ----------------------------------------------------------------


@pytest.mark.django_db
def test_renaming_an_issue_type_label_updates_the_same_row():
    load(SHOP)
    payment_id = IssueType.objects.get(service__slug="shop", key="payment").id

    result = load(SHOP.replace("label: Payment", "label: Checkout"))

    assert result.updated == ["shop"]
    assert issue_types("shop") == [("server", "Server"), ("payment", "Checkout"), ("shipping", "Shipping")]
    assert IssueType.objects.get(service__slug="shop", key="payment").id == payment_id


@pytest.mark.django_db
def test_adding_an_issue_type_inserts_it_at_its_place_in_the_file():
    load(SHOP)

    result = load(SHOP.replace("      - {key: payment", "      - {key: login, label: Login}\n      - {key: payment"))

    assert result.updated == ["shop"]
    assert issue_types("shop") == [
        ("server", "Server"),
        ("login", "Login"),
        ("payment", "Payment"),
        ("shipping", "Shipping"),
    ]


@pytest.mark.django_db
def test_reordering_issue_types_changes_their_display_order():
    load(SHOP)
    reordered = SHOP.replace(
        "      - {key: server, label: Server}\n      - {key: payment, label: Payment}\n",
        "      - {key: payment, label: Payment}\n      - {key: server, label: Server}\n",
    )

    result = load(reordered)

    assert result.updated == ["shop"]
    assert [key for key, _ in issue_types("shop")] == ["payment", "server", "shipping"]


@pytest.mark.django_db
def test_changing_name_description_homepage_and_demo_traffic_updates_the_service():
    with time_machine.travel(MONDAY, tick=False):
        load(SHOP)
    changed = (
        SHOP.replace("name: Shop", "name: Shop Plus")
        .replace("A shop.", "A bigger shop.")
        .replace("https://shop.example", "https://plus.shop.example")
        .replace("demo_traffic: 2.5", "demo_traffic: 4")
    )

    later = MONDAY + dt.timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        result = load(changed)

    assert result.updated == ["shop"]
    service = Service.objects.get(slug="shop")
    assert (service.name, service.description, service.homepage, service.demo_traffic) == (
        "Shop Plus",
        "A bigger shop.",
        "https://plus.shop.example",
        4.0,
    )
    assert service.updated_at == later
    assert service.created_at == MONDAY


@pytest.mark.django_db
def test_dropping_an_issue_type_deactivates_it_but_keeps_it_and_its_reports():
    load(SHOP)
    service = Service.objects.get(slug="shop")
    report = file_report(service, "shipping", now=MONDAY)

    result = load(SHOP.replace("      - {key: shipping, label: Shipping}\n", ""))

    assert result.updated == ["shop"]
    shipping = IssueType.objects.get(service=service, key="shipping")
    assert shipping.active is False
    assert issue_types("shop", active_only=True) == [("server", "Server"), ("payment", "Payment")]
    report.refresh_from_db()
    assert report.issue_type == shipping
    # An inactive issue type takes no new reports.
    with pytest.raises(ValidationError) as excinfo:
        file_report(service, "shipping", now=MONDAY)
    assert "issue_type" in excinfo.value.message_dict


@pytest.mark.django_db
def test_re_adding_a_dropped_issue_type_reactivates_the_same_row():
    load(SHOP)
    service = Service.objects.get(slug="shop")
    shipping_id = IssueType.objects.get(service=service, key="shipping").id
    file_report(service, "shipping", now=MONDAY)
    load(SHOP.replace("      - {key: shipping, label: Shipping}\n", ""))

    result = load(SHOP)

    assert result.updated == ["shop"]
    shipping = IssueType.objects.get(service=service, key="shipping")
    assert (shipping.id, shipping.active, shipping.order) == (shipping_id, True, 2)
    assert Report.objects.filter(issue_type=shipping).count() == 1
    assert file_report(service, "shipping", now=MONDAY).issue_type == shipping


@pytest.mark.django_db
def test_re_adding_a_dropped_issue_type_under_a_new_label_reactivates_and_relabels_it():
    load(SHOP)
    load(SHOP.replace("      - {key: shipping, label: Shipping}\n", ""))

    load(SHOP.replace("label: Shipping", "label: Delivery"))

    assert issue_types("shop", active_only=True) == [
        ("server", "Server"),
        ("payment", "Payment"),
        ("shipping", "Delivery"),
    ]


@pytest.mark.django_db
def test_services_missing_from_the_file_are_left_alone():
    load(DEMO.read_text())
    amazon_before = Service.objects.filter(slug="amazon").values().get()

    result = load(SHOP)

    assert result.created == ["shop"]
    assert Service.objects.filter(slug="amazon").values().get() == amazon_before


@pytest.mark.django_db
def test_active_false_retires_a_service_and_true_brings_it_back():
    load(SHOP)

    load(SHOP.replace("    demo_traffic: 2.5", "    demo_traffic: 2.5\n    active: false"))
    assert Service.objects.get(slug="shop").active is False

    result = load(SHOP)
    assert result.updated == ["shop"]
    assert Service.objects.get(slug="shop").active is True


# --- Defaults ---------------------------------------------------------------


@pytest.mark.django_db
def test_omitted_issue_types_become_the_four_defaults_and_omitted_fields_their_defaults():
    load("services:\n  - {slug: minimal, name: Minimal}\n")

    service = Service.objects.get(slug="minimal")
    assert (service.homepage, service.description, service.active, service.demo_traffic) == ("", "", True, None)
    assert [key for key, _ in issue_types("minimal")] == DEFAULT_KEYS


@pytest.mark.django_db
def test_loading_a_file_with_no_services_writes_nothing():
    assert load("services: []\n") == LoadResult()
    assert Service.objects.count() == 0


# --- Bad files are rejected whole ---------------------------------------------

GOOD_FIRST = "services:\n  - {slug: first, name: First}\n"

# (second entry, what the message must say about it)
BAD_SECOND_ENTRIES = {
    "invalid homepage": (
        "  - {slug: second, name: Second, homepage: not a url}\n",
        ["services[1] (second): homepage: Enter a valid URL."],
    ),
    "slug not matching the pattern": (
        "  - {slug: Second_Service, name: Second}\n",
        ["services[1] (Second_Service): slug: Use lowercase letters, digits and single hyphens"],
    ),
    "missing name": (
        "  - {slug: second}\n",
        ["services[1] (second): name: This field is required."],
    ),
    "duplicate slug": (
        "  - {slug: first, name: First again}\n",
        ["services[1] (first): slug: 'first' already used by services[0]"],
    ),
    "unknown field": (
        "  - {slug: second, name: Second, colour: red}\n",
        [
            "services[1] (second): colour: Unknown field. Allowed: slug, name, homepage, description, active, "
            "demo_traffic, issue_types, depends_on, probes, status_page."
        ],
    ),
    "duplicate issue type key": (
        "  - {slug: second, name: Second, issue_types: [{key: login, label: Login}, {key: login, label: Log in}]}\n",
        ["services[1] (second): issue_types: duplicate key(s): login"],
    ),
    "empty issue types list": (
        "  - {slug: second, name: Second, issue_types: []}\n",
        ["services[1] (second): issue_types", "This list may not be empty."],
    ),
    "bad issue type key": (
        "  - {slug: second, name: Second, issue_types: [{key: Log In, label: Login}]}\n",
        ["services[1] (second): issue_types", "key: Use lowercase letters"],
    ),
    "issue type key of digits only": (
        "  - {slug: second, name: Second, issue_types: [{key: '404', label: Not found}]}\n",
        ["services[1] (second): issue_types", "with at least one letter"],
    ),
    "negative demo traffic": (
        "  - {slug: second, name: Second, demo_traffic: -1}\n",
        ["services[1] (second): demo_traffic: Ensure this value is greater than or equal to 0."],
    ),
    "entry not a mapping": (
        "  - second\n",
        ["services[1]: must be a mapping"],
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("second", "expected"), BAD_SECOND_ENTRIES.values(), ids=BAD_SECOND_ENTRIES.keys())
def test_a_bad_second_entry_rejects_the_file_and_names_the_entry_and_field(second, expected):
    with pytest.raises(CatalogError) as excinfo:
        load(GOOD_FIRST + second)

    for fragment in expected:
        assert fragment in str(excinfo.value)
    assert not any(line.startswith("services[0]") for line in str(excinfo.value).splitlines())
    assert not Service.objects.filter(slug="first").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("second", "expected"), BAD_SECOND_ENTRIES.values(), ids=BAD_SECOND_ENTRIES.keys())
def test_load_catalog_command_rejects_a_bad_second_entry_and_writes_nothing(tmp_path, second, expected):
    path = write(tmp_path, GOOD_FIRST + second)

    with pytest.raises(CommandError) as excinfo:
        load_file(path)

    message = str(excinfo.value)
    assert message.startswith(f"{path}: rejected, nothing was written:")
    for fragment in expected:
        assert fragment in message
    assert Service.objects.count() == 0
    assert IssueType.objects.count() == 0


BAD_DOCUMENTS = {
    "not YAML": ("services: [\n  - {slug: a\n", "not valid YAML"),
    "empty file": ("", "the file must be a mapping with a 'services:' list"),
    "top level is a list": ("- {slug: a, name: A}\n", "the file must be a mapping with a 'services:' list"),
    "no services key": ("service:\n  - {slug: a, name: A}\n", "the file must be a mapping with a 'services:' list"),
    "services is not a list": ("services:\n  a: {name: A}\n", "the file must be a mapping with a 'services:' list"),
    "unknown top-level key": (
        "services:\n  - {slug: a, name: A}\nversion: 2\n",
        "unknown top-level key(s): version; allowed: services",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "expected"), BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS.keys())
def test_a_malformed_document_is_rejected_with_a_reason(tmp_path, text, expected):
    with pytest.raises(CatalogError) as excinfo:
        parse_catalog(text)
    assert expected in str(excinfo.value)

    with pytest.raises(CommandError) as excinfo:
        load_file(write(tmp_path, text))
    assert expected in str(excinfo.value)
    assert Service.objects.count() == 0


def test_every_problem_in_a_file_is_reported_at_once():
    text = "services:\n  - {slug: one, name: One, homepage: nope}\n  - {slug: two, name: Two}\n  - {slug: three}\n"

    with pytest.raises(CatalogError) as excinfo:
        parse_catalog(text)

    assert str(excinfo.value).splitlines() == [
        "services[0] (one): homepage: Enter a valid URL.",
        "services[2] (three): name: This field is required.",
    ]


@pytest.mark.django_db
def test_a_bad_file_leaves_an_existing_catalog_unchanged(tmp_path):
    with time_machine.travel(MONDAY, tick=False):
        load_file(DEMO)
    before = snapshot()
    # Valid changes to existing services and a new service, then one bad entry.
    text = (
        "services:\n"
        "  - {slug: tiktok-shop, name: TikTok Shop Renamed, issue_types: [{key: login, label: Login}]}\n"
        "  - {slug: brand-new, name: Brand New}\n"
        "  - {slug: amazon, name: Amazon, homepage: not a url}\n"
    )

    with time_machine.travel(MONDAY + dt.timedelta(hours=1), tick=False), pytest.raises(CommandError) as excinfo:
        load_file(write(tmp_path, text))

    assert "services[2] (amazon): homepage: Enter a valid URL." in str(excinfo.value)
    assert snapshot() == before


@pytest.mark.django_db
def test_load_catalog_command_reports_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        load_file(tmp_path / "missing.yaml")


@pytest.mark.django_db
def test_load_catalog_command_reports_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("services:\n  - {slug: cafe, name: Caf\u00e9}\n".encode("latin-1"))

    with pytest.raises(CommandError, match="cannot read"):
        load_file(path)
    assert Service.objects.count() == 0


# --- Regressions: bugs found while writing these tests ---


def test_unknown_top_level_keys_of_mixed_types_are_reported_not_crashed_on():
    with pytest.raises(CatalogError, match="unknown top-level key"):
        parse_catalog("services: []\n1: one\nextra: two\n")


def test_an_unknown_field_in_an_issue_type_is_rejected():
    with pytest.raises(CatalogError, match="active"):
        parse_catalog("services:\n  - {slug: a, name: A, issue_types: [{key: x, label: X, active: false}]}\n")


# --- Probes -----------------------------------------------------------------

SHOP_PROBES = """
services:
  - slug: shop
    name: Shop
    probes:
      - name: homepage
        kind: http
        target: https://shop.example/
        config: {expect_status: [200], degraded_ms: 2000}
      - {name: checkout, kind: tcp, target: "checkout.shop.example:443", interval: 30}
      - {name: certificate, kind: tls, target: shop.example, interval: 3600, config: {min_days: 14}}
"""
CERTIFICATE_LINE = (
    "      - {name: certificate, kind: tls, target: shop.example, interval: 3600, config: {min_days: 14}}\n"
)


def probes(slug: str) -> dict[str, Probe]:
    return {p.name: p for p in Probe.objects.filter(service__slug=slug)}


def probe_rows() -> list[dict]:
    """Every column of every probe, to prove nothing was written."""
    return list(Probe.objects.order_by("id").values())


def record_result(probe: Probe) -> ProbeResult:
    return ProbeResult.objects.create(
        probe=probe, region="local", slot=MONDAY, checked_at=MONDAY, outcome=Outcome.UP, latency_ms=120
    )


@pytest.mark.django_db
def test_demo_catalog_gives_tiktok_shop_an_http_tcp_dns_and_tls_probe():
    load(DEMO.read_text())

    shop = probes("tiktok-shop")
    assert {name: (p.kind, p.target, p.interval_seconds, p.config) for name, p in shop.items()} == {
        "homepage": ("http", "https://shop.tiktok.com/", 60, {"expect_status": ["200-399"], "degraded_ms": 3000}),
        "seller-api": ("tcp", "seller-us.tiktok.com:443", 120, {}),
        "dns": ("dns", "shop.tiktok.com", 300, {}),
        "certificate": ("tls", "shop.tiktok.com:443", 3600, {"min_days": 14}),
    }
    homepage = shop["homepage"]
    assert (homepage.timeout_seconds, homepage.failure_threshold, homepage.success_threshold) == (10.0, 3, 2)
    assert (homepage.regions, homepage.enabled, homepage.state) == ([], True, ProbeState.UNKNOWN)


@pytest.mark.django_db
def test_demo_catalog_gives_every_other_service_one_http_probe_of_its_homepage():
    load(DEMO.read_text())

    for service in Service.objects.exclude(slug="tiktok-shop"):
        assert [(p.name, p.kind, p.target, p.interval_seconds, p.config, p.enabled) for p in service.probes.all()] == [
            ("homepage", "http", f"{service.homepage}/", 60, {}, True)
        ], service.slug


@pytest.mark.django_db
def test_loading_the_demo_file_twice_leaves_its_probes_unchanged():
    load(DEMO.read_text())
    before = probe_rows()

    with CaptureQueriesContext(connection) as queries:
        result = load(DEMO.read_text())

    assert result.unchanged == DEMO_SLUGS
    assert probe_rows() == before
    writes = [q["sql"] for q in queries if "probes_probe" in q["sql"] and not q["sql"].startswith("SELECT")]
    assert writes == []


@pytest.mark.django_db
def test_changing_a_probes_target_interval_and_config_updates_the_same_row():
    load(SHOP_PROBES)
    homepage = probes("shop")["homepage"]
    others = [row for row in probe_rows() if row["id"] != homepage.id]
    record_result(homepage)
    changed = SHOP_PROBES.replace(
        "        target: https://shop.example/\n        config: {expect_status: [200], degraded_ms: 2000}\n",
        "        target: https://shop.example/health\n        interval: 300\n        config: {expect_status: [204]}\n",
    )

    result = load(changed)

    assert result.updated == ["shop"]
    updated = probes("shop")["homepage"]
    assert (updated.id, updated.target, updated.interval_seconds, updated.config) == (
        homepage.id,
        "https://shop.example/health",
        300,
        {"expect_status": [204]},
    )
    assert updated.results.count() == 1
    assert [row for row in probe_rows() if row["id"] != homepage.id] == others


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("interval: 30}", "interval: 45}", {"interval_seconds": 45}),
        ("target: https://shop.example/", "target: https://www.shop.example/", {"target": "https://www.shop.example/"}),
        (
            "config: {expect_status: [200], degraded_ms: 2000}",
            "config: {expect_status: [200, 204]}",
            {"config": {"expect_status": [200, 204]}},
        ),
    ],
    ids=["interval", "target", "config"],
)
def test_each_edited_probe_field_is_written_and_the_others_kept(old, new, expected):
    load(SHOP_PROBES)
    before = {p["name"]: p for p in Probe.objects.values()}

    result = load(SHOP_PROBES.replace(old, new))

    assert result.updated == ["shop"]
    after = {p["name"]: p for p in Probe.objects.values()}
    changed = {name: {k: v for k, v in row.items() if before[name][k] != v} for name, row in after.items()}
    assert [c for c in changed.values() if c] == [expected]


@pytest.mark.django_db
def test_a_probe_dropped_from_the_file_is_disabled_and_keeps_its_results():
    load(SHOP_PROBES)
    certificate = probes("shop")["certificate"]
    result_row = record_result(certificate)

    result = load(SHOP_PROBES.replace(CERTIFICATE_LINE, ""))

    assert result.updated == ["shop"]
    certificate.refresh_from_db()
    assert certificate.enabled is False
    assert list(certificate.results.all()) == [result_row]
    assert {name: p.enabled for name, p in probes("shop").items()} == {
        "homepage": True,
        "checkout": True,
        "certificate": False,
    }


@pytest.mark.django_db
def test_re_adding_a_dropped_probe_re_enables_the_same_row():
    load(SHOP_PROBES)
    certificate_id = probes("shop")["certificate"].id
    record_result(probes("shop")["certificate"])
    load(SHOP_PROBES.replace(CERTIFICATE_LINE, ""))

    result = load(SHOP_PROBES)

    assert result.updated == ["shop"]
    certificate = probes("shop")["certificate"]
    assert (certificate.id, certificate.enabled) == (certificate_id, True)
    assert certificate.results.count() == 1


@pytest.mark.django_db
def test_a_disabled_probe_stays_disabled_when_the_file_is_loaded_again():
    load(SHOP_PROBES)
    load(SHOP_PROBES.replace(CERTIFICATE_LINE, ""))
    before = probe_rows()

    result = load(SHOP_PROBES.replace(CERTIFICATE_LINE, ""))

    assert result.unchanged == ["shop"]
    assert probe_rows() == before


@pytest.mark.django_db
def test_a_config_value_changing_from_1_to_true_is_written():
    # Regression: Python's 1 == True hid this edit, though the check tells them apart.
    text = (
        "services:\n  - slug: shop\n    name: Shop\n    probes:\n"
        "      - {name: api, kind: http, target: 'https://shop.example/', config: {json_path: ok, json_equals: %s}}\n"
    )
    load(text % "1")

    result = load(text % "true")

    assert result.updated == ["shop"]
    assert probes("shop")["api"].config["json_equals"] is True
    assert load(text % "true").unchanged == ["shop"]


GOOD_FIRST_WITH_PROBE = (
    "services:\n"
    "  - {slug: first, name: First, probes: [{name: homepage, kind: http, target: 'https://first.example/'}]}\n"
)
HTTP_PROBE = "{name: a, kind: http, target: 'https://a.example/'"

# (the second service's probes, what the message must say about them)
BAD_PROBE_ENTRIES = {
    "unknown kind": (
        f"[{HTTP_PROBE}}}, {{name: b, kind: ping, target: a.example}}]",
        ['services[1] (second): probes[1].kind: "ping" is not a valid choice.'],
    ),
    "http target not a URL": (
        "[{name: a, kind: http, target: a.example}]",
        ["services[1] (second): probes[0].target: expected an http:// or https:// URL with a host"],
    ),
    "tcp target without a port": (
        "[{name: a, kind: tcp, target: a.example}]",
        ["services[1] (second): probes[0].target: a port is required, e.g. example.com:443"],
    ),
    "bad expect_status": (
        f"[{HTTP_PROBE}, config: {{expect_status: [abc]}}}}]",
        ["services[1] (second): probes[0].config.expect_status: 'abc' is neither a status code nor a range"],
    ),
    "unknown config option": (
        f"[{HTTP_PROBE}, config: {{timeout_ms: 5}}}}]",
        [
            "services[1] (second): probes[0].config.timeout_ms: unknown http option; allowed: body_contains, "
            "body_not_contains, degraded_ms, expect_status, headers, json_equals, json_path, max_body_bytes, "
            "max_redirects, method"
        ],
    ),
    "unknown probe field": (
        f"[{HTTP_PROBE}, every: 60}}]",
        [
            "services[1] (second): probes[0].every: Unknown field. Allowed: name, kind, target, interval, "
            "timeout, failure_threshold, success_threshold, regions, enabled, config."
        ],
    ),
    "duplicate probe names": (
        f"[{HTTP_PROBE}}}, {{name: a, kind: tcp, target: 'a.example:443'}}]",
        ["services[1] (second): probes: duplicate probe name(s): a"],
    ),
    "interval below 10 seconds": (
        f"[{HTTP_PROBE}, interval: 5}}]",
        ["services[1] (second): probes[0].interval: Ensure this value is greater than or equal to 10."],
    ),
    "region not a region name": (
        f"[{HTTP_PROBE}, regions: [EU West]}}]",
        [
            "services[1] (second): probes[0].regions[0]: "
            "Region names are lowercase letters, digits and hyphens, e.g. eu-west."
        ],
    ),
    "missing name": (
        "[{kind: http, target: 'https://a.example/'}]",
        ["services[1] (second): probes[0].name: This field is required."],
    ),
    "probe not a mapping": (
        "[homepage]",
        ["services[1] (second): probes[0]: Invalid data. Expected a dictionary, but got str."],
    ),
    "probes not a list": (
        "{homepage: 'https://a.example/'}",
        ['services[1] (second): probes: Expected a list of items but got type "dict".'],
    ),
    # Regressions: YAML values JSON lacks used to pass validation and crash the save.
    "date in config": (
        f"[{HTTP_PROBE}, config: {{json_path: day, json_equals: 2026-03-02}}}}]",
        ["services[1] (second): probes[0].config: JSON values only"],
    ),
    "NaN in config": (
        f"[{HTTP_PROBE}, config: {{json_path: ratio, json_equals: .nan}}}}]",
        ["services[1] (second): probes[0].config: JSON values only"],
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("second", "expected"), BAD_PROBE_ENTRIES.values(), ids=BAD_PROBE_ENTRIES.keys())
def test_a_bad_probe_rejects_the_file_and_names_the_service_probe_and_field(second, expected):
    with pytest.raises(CatalogError) as excinfo:
        load(GOOD_FIRST_WITH_PROBE + f"  - {{slug: second, name: Second, probes: {second}}}\n")

    message = str(excinfo.value)
    for fragment in expected:
        assert fragment in message
    assert all(line.startswith("services[1] (second): probes") for line in message.splitlines())
    assert not Service.objects.filter(slug="first").exists()
    assert Probe.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("second", "expected"), BAD_PROBE_ENTRIES.values(), ids=BAD_PROBE_ENTRIES.keys())
def test_load_catalog_command_rejects_a_bad_probe_and_writes_nothing(tmp_path, second, expected):
    path = write(tmp_path, GOOD_FIRST_WITH_PROBE + f"  - {{slug: second, name: Second, probes: {second}}}\n")

    with pytest.raises(CommandError) as excinfo:
        load_file(path)

    assert str(excinfo.value).startswith(f"{path}: rejected, nothing was written:")
    for fragment in expected:
        assert fragment in str(excinfo.value)
    assert (Service.objects.count(), IssueType.objects.count(), Probe.objects.count()) == (0, 0, 0)


@pytest.mark.django_db
def test_a_bad_probe_leaves_existing_probes_unchanged():
    load(SHOP_PROBES)
    before = probe_rows()
    # A valid edit and a dropped probe, then one bad probe.
    text = SHOP_PROBES.replace("interval: 30}", "interval: 45}").replace(CERTIFICATE_LINE, "")
    text += "      - {name: dns, kind: dns, target: 'https://shop.example/'}\n"

    with pytest.raises(CatalogError, match=r"services\[0\] \(shop\): probes\[2\]\.target: expected a host name"):
        load(text)

    assert probe_rows() == before
