"""Writes to the catalog: creating services and keeping their issue types in step with a spec."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from catalog.models import DEFAULT_ISSUE_TYPES, IssueType, Service


@dataclass(frozen=True)
class IssueTypeSpec:
    key: str
    label: str


DEFAULT_ISSUE_TYPE_SPECS = tuple(IssueTypeSpec(key, label) for key, label in DEFAULT_ISSUE_TYPES)


def issue_types_sync(*, service: Service, specs: Sequence[IssueTypeSpec]) -> bool:
    """Make `specs` the service's active issue types, in that order.

    Types not in `specs` are deactivated, not deleted: their reports keep
    their meaning. Returns whether anything changed.
    """
    existing = {it.key: it for it in IssueType.objects.filter(service=service)}
    changed = False
    for order, spec in enumerate(specs):
        it = existing.pop(spec.key, None)
        if it is None:
            IssueType.objects.create(service=service, key=spec.key, label=spec.label, order=order)
            changed = True
        elif (it.label, it.order, it.active) != (spec.label, order, True):
            it.label, it.order, it.active = spec.label, order, True
            it.save(update_fields=["label", "order", "active"])
            changed = True
    for it in existing.values():
        if it.active:
            it.active = False
            it.save(update_fields=["active"])
            changed = True
    return changed


@transaction.atomic
def service_create(
    *,
    slug: str,
    name: str,
    homepage: str = "",
    description: str = "",
    active: bool = True,
    demo_traffic: float | None = None,
    issue_types: Sequence[IssueTypeSpec] = DEFAULT_ISSUE_TYPE_SPECS,
) -> Service:
    """Create a service with its issue types (the four defaults unless given)."""
    service = Service(
        slug=slug, name=name, homepage=homepage, description=description, active=active, demo_traffic=demo_traffic
    )
    service.full_clean()
    service.save()
    issue_types_sync(service=service, specs=issue_types)
    return service


def service_ensure_issue_types(*, service: Service) -> None:
    """Give a service that has no issue types the four defaults (admin-created services)."""
    if not IssueType.objects.filter(service=service).exists():
        issue_types_sync(service=service, specs=DEFAULT_ISSUE_TYPE_SPECS)
