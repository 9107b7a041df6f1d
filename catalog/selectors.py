"""Reads of the catalog that every app shares."""

from __future__ import annotations

from typing import Literal

from django.db.models import Prefetch, QuerySet

from catalog.models import IssueType, Service


def service_get(*, slug: str, with_issue_types: bool = False) -> Service | None:
    """An active service, or None; `with_issue_types` prefetches `active_issue_types`."""
    services = Service.objects.active().filter(slug=slug)
    if with_issue_types:
        services = services.prefetch_related(active_issue_types_prefetch())
    return services.first()


def active_issue_types_prefetch() -> Prefetch[
    Literal["issue_types"], QuerySet[IssueType], Literal["active_issue_types"]
]:
    return Prefetch("issue_types", queryset=IssueType.objects.filter(active=True), to_attr="active_issue_types")


def issue_type_keys(*, service: Service | None = None) -> list[str]:
    """Keys of the active issue types: of `service` in its order, or of every service, each once, sorted."""
    if service is not None:
        return list(IssueType.objects.filter(service=service, active=True).values_list("key", flat=True))
    keys = IssueType.objects.filter(active=True).values_list("key", flat=True)
    return sorted(keys.order_by("key").distinct())


def service_dependencies(*, service: Service) -> tuple[list[Service], list[Service]]:
    """The active upstreams the service depends on, and the active services depending on it, by name."""
    return list(service.depends_on.active().order_by("name")), list(service.dependents.active().order_by("name"))
