"""Parts of a catalog entry that other apps own, such as `probes:`.

The catalog app knows services and issue types only. An app that hangs more
off a service registers a section from its AppConfig.ready(); the loader then
validates that key of every entry with the section's field and hands the value
to the section's sync, so the catalog never imports the apps built on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rest_framework import serializers

if TYPE_CHECKING:
    from catalog.models import Service


@dataclass(frozen=True)
class Section:
    key: str
    # A new DRF field (required=False) validating the key's value in one entry.
    field: Callable[[], serializers.Field]
    # Makes the database match the validated value; returns whether anything changed.
    # Called with `empty` for an entry without the key: the file is the whole truth.
    sync: Callable[[Service, Any], bool]
    empty: Any = ()


_SECTIONS: dict[str, Section] = {}


def section_register(section: Section) -> None:
    """Add (or replace, on a reload) the section for `section.key`."""
    _SECTIONS[section.key] = section


def sections() -> tuple[Section, ...]:
    return tuple(_SECTIONS.values())
