"""The `status_page:` section of a catalog entry, through the real loader."""

from __future__ import annotations

import pytest

from catalog.loader import CatalogError, catalog_load, parse_catalog
from statuspages.models import StatusPage

pytestmark = pytest.mark.django_db


def catalog(status_page: str | None) -> str:
    entry = "services:\n  - slug: shop\n    name: Shop\n"
    return entry + (f"    status_page: {status_page}\n" if status_page is not None else "")


def load(status_page: str | None):
    return catalog_load(parse_catalog(catalog(status_page)))


def test_a_page_is_created_with_the_kinds_usual_endpoint_for_a_bare_origin(settings):
    load("{kind: atlassian, url: 'https://status.shop.example'}")
    page = StatusPage.objects.get(service__slug="shop")
    assert (page.kind, page.url) == ("atlassian", "https://status.shop.example/api/v2/summary.json")
    assert page.interval_seconds == settings.STATUSPAGES_INTERVAL_SECONDS


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("incidentio", "/api/v1/summary"),
        ("instatus", "/summary.json"),
        ("betterstack", "/index.json"),
        ("gcp", "/incidents.json"),
        ("aws", "/public/currentevents"),
    ],
)
def test_each_kind_has_its_default_path(kind, path):
    load(f"{{kind: {kind}, url: 'https://status.shop.example/'}}")
    assert StatusPage.objects.get().url == f"https://status.shop.example{path}"


def test_a_full_url_is_kept_as_given():
    load("{kind: feed, url: 'https://status.shop.example/history.rss', interval: 300}")
    page = StatusPage.objects.get()
    assert (page.url, page.interval_seconds) == ("https://status.shop.example/history.rss", 300)


def test_loading_twice_changes_nothing_and_dropping_the_section_disables_the_page():
    first = load("{kind: atlassian, url: 'https://status.shop.example'}")
    again = load("{kind: atlassian, url: 'https://status.shop.example'}")
    assert (first.created, again.unchanged) == (["shop"], ["shop"])
    dropped = load(None)
    assert dropped.updated == ["shop"]
    assert not StatusPage.objects.get().enabled
    load("{kind: atlassian, url: 'https://status.shop.example'}")
    assert StatusPage.objects.get().enabled


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "{kind: statuspage, url: 'https://s.example'}",
            'services[0] (shop): status_page.kind: "statuspage" is not a valid choice. Allowed: atlassian, '
            "incidentio, instatus, betterstack, gcp, aws, feed.",
        ),
        ("{kind: atlassian}", "services[0] (shop): status_page.url: This field is required."),
        ("{kind: atlassian, url: 'status.example'}", "services[0] (shop): status_page.url: Enter a valid URL."),
        (
            "{kind: atlassian, url: 'ftp://s.example/'}",
            "services[0] (shop): status_page.url: Must be an http:// or https:// URL.",
        ),
        (
            "{kind: atlassian, url: 'https://s.example', interval: 30}",
            "services[0] (shop): status_page.interval: Ensure this value is greater than or equal to 60.",
        ),
        (
            "{kind: atlassian, url: 'https://s.example', every: 60}",
            "services[0] (shop): status_page.every: Unknown field. Allowed: kind, url, interval, enabled.",
        ),
        (
            "https://s.example",
            "services[0] (shop): status_page: Must be a mapping {kind, url}; kind is one of atlassian, incidentio, "
            "instatus, betterstack, gcp, aws, feed.",
        ),
    ],
)
def test_a_bad_section_rejects_the_file_naming_the_field_and_what_is_allowed(value, message):
    with pytest.raises(CatalogError) as error:
        parse_catalog(catalog(value))
    assert str(error.value) == message
    assert not StatusPage.objects.exists()


def test_the_demo_catalog_gives_several_services_a_page_of_every_kind():
    from pathlib import Path

    demo = Path(__file__).resolve().parents[2] / "catalog" / "demo.yaml"
    catalog_load(parse_catalog(demo.read_text()))
    kinds = set(StatusPage.objects.values_list("kind", flat=True))
    assert kinds == {"atlassian", "incidentio", "instatus", "betterstack", "gcp", "aws", "feed"}
    assert all(url.startswith("http://127.0.0.1:8190/") for url in StatusPage.objects.values_list("url", flat=True))
