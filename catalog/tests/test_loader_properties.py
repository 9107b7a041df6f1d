"""The catalog YAML parser over generated documents (hypothesis): specs or a CatalogError, never a crash."""

from __future__ import annotations

import math

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.loader import CatalogError, parse_catalog

FAST = settings(max_examples=40, deadline=None)

# Anything YAML can say: scalars of every type, nested in lists and mappings.
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
service_keys = st.sampled_from(["slug", "name", "homepage", "description", "active", "demo_traffic", "issue_types"])


def parse_or_error(text: str) -> list | CatalogError:
    try:
        return parse_catalog(text)
    except CatalogError as exc:
        return exc


@FAST
@given(st.text(max_size=300))
def test_any_text_parses_or_is_a_catalog_error(text):
    result = parse_or_error(text)
    assert isinstance(result, list | CatalogError)


@FAST
@given(st.lists(st.dictionaries(service_keys | st.text(max_size=8), documents, max_size=7), max_size=4))
def test_any_services_list_parses_or_names_each_bad_entry(entries):
    result = parse_or_error(yaml.safe_dump({"services": entries}))
    if isinstance(result, CatalogError):
        for line in str(result).splitlines():
            assert line.startswith("services[")
    else:
        assert len(result) == len(entries)


slugs = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,3}", fullmatch=True)
names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=40).filter(
    str.strip
)


@FAST
@given(
    services=st.lists(
        st.fixed_dictionaries(
            {"slug": slugs, "name": names},
            optional={"active": st.booleans(), "demo_traffic": st.floats(0, 1000, allow_nan=False)},
        ),
        min_size=1,
        max_size=5,
        unique_by=lambda s: s["slug"],
    )
)
def test_valid_services_come_back_in_order_with_their_fields(services):
    specs = parse_catalog(yaml.safe_dump({"services": services}, allow_unicode=True))
    assert [s.slug for s in specs] == [s["slug"] for s in services]
    assert [s.name for s in specs] == [s["name"].strip() for s in services]
    for spec, entry in zip(specs, services, strict=True):
        assert spec.active == entry.get("active", True)
        if "demo_traffic" in entry:
            assert math.isclose(spec.demo_traffic, entry["demo_traffic"])
        assert spec.issue_types  # the defaults when none are given


@FAST
@given(slug=slugs)
def test_a_slug_used_twice_is_an_error_naming_both_entries(slug):
    text = yaml.safe_dump({"services": [{"slug": slug, "name": "A"}, {"slug": slug, "name": "B"}]})
    result = parse_or_error(text)
    assert isinstance(result, CatalogError)
    assert "already used by services[0]" in str(result)
