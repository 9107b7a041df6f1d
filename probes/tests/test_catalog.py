"""The `probes:` part of a catalog entry, validated on its own (the whole file: catalog/tests/test_loader.py)."""

from __future__ import annotations

import pytest

from probes.catalog import ProbeEntry

ENTRY = {"name": "homepage", "kind": "http", "target": "https://shop.example/"}


@pytest.mark.parametrize(
    ("field", "value", "valid"),
    [
        ("interval", 10, True),
        ("interval", 86400, True),
        ("interval", 86401, False),
        ("interval", 10**12, False),
        ("timeout", 120, True),
        ("timeout", 120.5, False),
    ],
)
def test_interval_and_timeout_are_bounded_like_the_model(field, value, valid):
    entry = ProbeEntry(data=ENTRY | {field: value})
    assert entry.is_valid() == valid, entry.errors
    if not valid:
        assert "less than or equal to" in str(entry.errors[field][0])
