"""Upstream dependencies: the pure graph checks (catalog/dependencies.py), the loader's `depends_on:` and the admin."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.admin import ServiceForm
from catalog.dependencies import dependency_problems, find_cycles
from catalog.loader import CatalogError, catalog_load, parse_catalog
from catalog.models import Service

DEMO = Path(__file__).resolve().parents[1] / "demo.yaml"


def entry(slug: str, depends_on: list[str] | None = None) -> str:
    deps = f"\n    depends_on: [{', '.join(depends_on)}]" if depends_on is not None else ""
    return f"  - slug: {slug}\n    name: {slug.title()}{deps}\n"


def catalog(*entries: str) -> str:
    return "services:\n" + "".join(entries)


def upstreams(slug: str) -> list[str]:
    return sorted(Service.objects.get(slug=slug).depends_on.values_list("slug", flat=True))


# --- pure checks --------------------------------------------------------------------


def test_a_valid_graph_has_no_problems():
    graph = {"shop": ["cdn", "pay"], "pay": ["cloud"], "cdn": [], "cloud": []}
    assert dependency_problems(graph, known=set(graph)) == {}


def test_unknown_self_and_repeated_upstreams_are_named_on_the_declaring_service():
    problems = dependency_problems({"shop": ["shop", "clodflare", "pay", "pay"], "pay": []}, known={"shop", "pay"})

    assert list(problems) == ["shop"]
    text = " ".join(problems["shop"])
    assert "'shop' cannot depend on itself" in text
    assert "unknown service(s) 'clodflare'" in text
    assert "listed more than once: 'pay'" in text


def test_a_cycle_is_reported_on_each_of_its_services_and_not_elsewhere():
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}

    problems = dependency_problems(graph, known=set(graph))

    assert sorted(problems) == ["a", "b", "c"]
    assert problems["b"] == ["dependency cycle: a -> b -> c -> a; an upstream cannot depend on its dependents."]


def test_find_cycles_reports_each_cycle_once_and_ignores_diamonds():
    diamond = {"top": ["l", "r"], "l": ["base"], "r": ["base"], "base": []}
    assert find_cycles(diamond) == []
    assert find_cycles({"x": ["y"], "y": ["x"], "p": ["q"], "q": ["p"]}) == [["p", "q"], ["x", "y"]]


def test_a_long_chain_does_not_exhaust_the_stack():
    graph = {f"s{i}": [f"s{i + 1}"] for i in range(5000)}
    graph["s5000"] = ["s0"]
    assert len(find_cycles(graph)[0]) == 5001


# --- the loader -----------------------------------------------------------------------


@pytest.mark.django_db
def test_depends_on_is_stored_even_when_the_upstream_comes_later_in_the_file():
    result = catalog_load(parse_catalog(catalog(entry("shop", ["cdn", "pay"]), entry("cdn"), entry("pay"))))

    assert result.created == ["shop", "cdn", "pay"]
    assert upstreams("shop") == ["cdn", "pay"]
    assert sorted(Service.objects.get(slug="cdn").dependents.values_list("slug", flat=True)) == ["shop"]


@pytest.mark.django_db
def test_changing_depends_on_updates_the_service_and_dropping_it_clears_it():
    catalog_load(parse_catalog(catalog(entry("shop", ["cdn"]), entry("cdn"), entry("pay"))))

    changed = catalog_load(parse_catalog(catalog(entry("shop", ["pay"]), entry("cdn"), entry("pay"))))
    assert (changed.updated, changed.unchanged) == (["shop"], ["cdn", "pay"])
    assert upstreams("shop") == ["pay"]

    cleared = catalog_load(parse_catalog(catalog(entry("shop"), entry("cdn"), entry("pay"))))
    assert cleared.updated == ["shop"]
    assert upstreams("shop") == []

    again = catalog_load(parse_catalog(catalog(entry("shop"), entry("cdn"), entry("pay"))))
    assert again.updated == []


@pytest.mark.django_db
def test_an_upstream_already_in_the_catalog_may_be_named_without_being_in_the_file():
    catalog_load(parse_catalog(catalog(entry("cdn"))))

    catalog_load(parse_catalog(catalog(entry("shop", ["cdn"]))))

    assert upstreams("shop") == ["cdn"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (catalog(entry("shop", ["shop"])), "services[0] (shop): depends_on: 'shop' cannot depend on itself."),
        (
            catalog(entry("cdn"), entry("shop", ["cdn", "cdn"])),
            "services[1] (shop): depends_on: listed more than once: 'cdn'.",
        ),
        (
            catalog(entry("a", ["b"]), entry("b", ["a"])),
            "services[0] (a): depends_on: dependency cycle: a -> b -> a",
        ),
        (catalog(entry("shop", ["Cloud Flare"])), "services[0] (shop): depends_on[0]: Use lowercase letters"),
        (catalog("  - slug: shop\n    name: Shop\n    depends_on: cdn\n"), "services[0] (shop): depends_on: "),
    ],
)
def test_bad_depends_on_in_the_file_is_refused_naming_entry_and_field(text, expected):
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text)
    assert expected in str(caught.value)


@pytest.mark.django_db
def test_an_unknown_upstream_is_refused_and_nothing_is_written(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text(catalog(entry("shop", ["clodflare"]), entry("cdn")), encoding="utf-8")

    with pytest.raises(CommandError) as caught:
        call_command("load_catalog", str(path), stdout=StringIO())

    assert "services[0] (shop): depends_on: unknown service(s) 'clodflare'" in str(caught.value)
    assert "nothing was written" in str(caught.value)
    assert not Service.objects.exists()


@pytest.mark.django_db
def test_a_cycle_through_a_service_not_in_the_file_is_refused():
    catalog_load(parse_catalog(catalog(entry("cdn"), entry("shop", ["cdn"]))))

    with pytest.raises(CatalogError) as caught:
        catalog_load(parse_catalog(catalog(entry("cdn", ["shop"]))))

    assert "services[0] (cdn): depends_on: dependency cycle: cdn -> shop -> cdn" in str(caught.value)
    assert upstreams("cdn") == []


@pytest.mark.django_db
def test_the_demo_catalog_declares_upstreams_that_are_services_with_traffic_and_probes():
    catalog_load(parse_catalog(DEMO.read_text()))
    entries = {e["slug"]: e for e in yaml.safe_load(DEMO.read_text())["services"]}

    for upstream in ("cloudflare", "aws-us-east-1", "stripe"):
        service = Service.objects.get(slug=upstream)
        assert service.dependents.count() >= 3, upstream
        assert service.demo_traffic and entries[upstream]["probes"]
    assert upstreams("doordash") == ["aws-us-east-1", "cloudflare", "stripe"]


# --- the admin ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_refuses_a_dependency_that_closes_a_cycle():
    catalog_load(parse_catalog(catalog(entry("cdn"), entry("shop", ["cdn"]))))
    cdn, shop = Service.objects.get(slug="cdn"), Service.objects.get(slug="shop")
    data = {"slug": "cdn", "name": "Cdn", "active": True, "depends_on": [shop.pk]}

    form = ServiceForm(data=data, instance=cdn)

    assert not form.is_valid()
    assert "dependency cycle: cdn -> shop -> cdn" in next(iter(form.errors["depends_on"]))
    assert ServiceForm(data={**data, "depends_on": []}, instance=cdn).is_valid()
