"""Catalog as code: services and their issue types from a YAML file.

    services:
      - slug: tiktok-shop
        name: TikTok Shop
        homepage: https://shop.tiktok.com
        description: Social shopping inside TikTok.
        issue_types:            # optional: the four defaults when absent
          - {key: server, label: Server}
        probes:                 # optional: automated checks (a section of the probes app)
          - {name: homepage, kind: http, target: "https://shop.tiktok.com/"}
        depends_on: [cloudflare, stripe]   # optional: upstream services (slugs of the catalog)

A file is validated whole before anything is written, and written in one
transaction: a bad file changes nothing. Loading the same file twice
changes nothing the second time. Services missing from the file are left
alone (set `active: false` to retire one). Within a service the file is the
whole truth: issue types and probes it no longer lists are deactivated
(kept, with their history).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from django.db import transaction
from rest_framework import serializers

from catalog.dependencies import dependency_problems
from catalog.models import Service, issue_type_key_validator, slug_validator
from catalog.sections import sections
from catalog.services import DEFAULT_ISSUE_TYPE_SPECS, IssueTypeSpec, issue_types_sync, service_create
from outagehub.api.serializers import StrictSerializer


class CatalogError(Exception):
    """The file is not a valid catalog; the message names the entry and field."""


class _IssueTypeEntry(StrictSerializer):
    key = serializers.CharField(max_length=32, validators=[issue_type_key_validator])
    label = serializers.CharField(max_length=60)  # type: ignore[assignment]  # a field named `label`: DRF's metaclass moves declared fields off the class


class _ServiceEntry(StrictSerializer):
    slug = serializers.CharField(max_length=64, validators=[slug_validator])
    name = serializers.CharField(max_length=100)
    homepage = serializers.URLField(max_length=300, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    active = serializers.BooleanField(required=False, default=True)
    demo_traffic = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0)
    issue_types = _IssueTypeEntry(many=True, required=False, allow_empty=False)
    depends_on = serializers.ListField(
        child=serializers.CharField(max_length=64, validators=[slug_validator]), required=False, default=list
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        return {**super().get_fields(), **{section.key: section.field() for section in sections()}}

    def validate_issue_types(self, value: list[dict[str, str]]) -> list[dict[str, str]]:
        keys = [item["key"] for item in value]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise serializers.ValidationError(f"duplicate key(s): {', '.join(duplicates)}")
        return value


@dataclass(frozen=True)
class ServiceSpec:
    slug: str
    name: str
    homepage: str
    description: str
    active: bool
    demo_traffic: float | None
    issue_types: tuple[IssueTypeSpec, ...]
    # Slugs of the upstream services this one depends on, in file order.
    depends_on: tuple[str, ...] = ()
    # Values of the sections other apps register (catalog/sections.py), by key.
    sections: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoadResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _path(prefix: str, key: Any) -> str:
    if key == "non_field_errors":
        return prefix
    if isinstance(key, int):  # DRF reports list items by index
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else str(key)


def _flatten(errors: Any, prefix: str = "") -> list[str]:
    """DRF's nested error structure as `path: message` lines."""
    if isinstance(errors, dict):
        return [line for key, sub in errors.items() for line in _flatten(sub, _path(prefix, key))]
    if isinstance(errors, list) and errors and not all(isinstance(e, str) for e in errors):
        return [line for i, sub in enumerate(errors) if sub for line in _flatten(sub, f"{prefix}[{i}]")]
    messages = errors if isinstance(errors, list) else [errors]
    return [f"{prefix}: {m}" if prefix else str(m) for m in messages]


def parse_catalog(text: str) -> list[ServiceSpec]:
    """Validate a catalog document; raises CatalogError listing every problem."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"not valid YAML: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("services"), list):
        raise CatalogError("the file must be a mapping with a 'services:' list")
    unknown_top = sorted(set(map(str, document)) - {"services"})
    if unknown_top:
        raise CatalogError(f"unknown top-level key(s): {', '.join(map(str, unknown_top))}; allowed: services")

    problems: list[str] = []
    specs: list[ServiceSpec] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(document["services"]):
        where = f"services[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping with slug, name, ...")
            continue
        if isinstance(entry.get("slug"), str):
            where += f" ({entry['slug']})"
        serializer = _ServiceEntry(data=entry)
        if not serializer.is_valid():
            problems.extend(f"{where}: {line}" for line in _flatten(serializer.errors))
            continue
        data = serializer.validated_data
        if data["slug"] in seen:
            problems.append(f"{where}: slug: {data['slug']!r} already used by services[{seen[data['slug']]}]")
            continue
        seen[data["slug"]] = index
        issue_types = data.get("issue_types")
        specs.append(
            ServiceSpec(
                slug=data["slug"],
                name=data["name"],
                homepage=data["homepage"],
                description=data["description"],
                active=data["active"],
                demo_traffic=data["demo_traffic"],
                issue_types=tuple(IssueTypeSpec(i["key"], i["label"]) for i in issue_types)
                if issue_types
                else DEFAULT_ISSUE_TYPE_SPECS,
                depends_on=tuple(data["depends_on"]),
                sections={section.key: data.get(section.key, section.empty) for section in sections()},
            )
        )
    if not problems:
        # Within the file only: slugs it does not define may be services already in the
        # catalog, which catalog_load checks against the database.
        problems = _dependency_lines(specs, known=None, others={})
    if problems:
        raise CatalogError("\n".join(problems))
    return specs


def _dependency_lines(specs: list[ServiceSpec], *, known: set[str] | None, others: dict[str, list[str]]) -> list[str]:
    """`services[i] (slug): depends_on: ...` lines for the file's dependency problems.

    `others` are the edges of catalog services the file does not list (they can close a
    cycle); `known=None` skips the unknown-slug check (done against the database later).
    """
    graph: dict[str, list[str]] = {**others, **{spec.slug: list(spec.depends_on) for spec in specs}}
    file_slugs = {spec.slug for spec in specs}
    everything = known if known is not None else set(graph) | {u for ups in graph.values() for u in ups}
    problems = dependency_problems(graph, known=everything | file_slugs)
    return [
        f"services[{index}] ({spec.slug}): depends_on: {message}"
        for index, spec in enumerate(specs)
        for message in problems.get(spec.slug, [])
    ]


@transaction.atomic
def catalog_load(specs: list[ServiceSpec]) -> LoadResult:
    """Create or update services and issue types so the database matches `specs`."""
    result = LoadResult()
    _check_dependencies(specs)
    existing = {s.slug: s for s in Service.objects.filter(slug__in=[spec.slug for spec in specs])}
    for spec in specs:
        fields: dict[str, Any] = {
            "name": spec.name,
            "homepage": spec.homepage,
            "description": spec.description,
            "active": spec.active,
            "demo_traffic": spec.demo_traffic,
        }
        service = existing.get(spec.slug)
        if service is None:
            service = service_create(slug=spec.slug, issue_types=spec.issue_types, **fields)
            _sections_sync(service, spec)
            result.created.append(spec.slug)
            continue
        changed_fields = [name for name, value in fields.items() if getattr(service, name) != value]
        for name in changed_fields:
            setattr(service, name, fields[name])
        if changed_fields:
            service.save(update_fields=[*changed_fields, "updated_at"])
        types_changed = issue_types_sync(service=service, specs=spec.issue_types)
        sections_changed = _sections_sync(service, spec)
        changed = changed_fields or types_changed or sections_changed
        (result.updated if changed else result.unchanged).append(spec.slug)
    # After every service exists, so an entry may name an upstream listed after it.
    for spec in specs:
        if _dependencies_sync(spec) and spec.slug in result.unchanged:
            result.unchanged.remove(spec.slug)
            result.updated.append(spec.slug)
    return result


def _check_dependencies(specs: list[ServiceSpec]) -> None:
    """Refuse the file (before any write) if an upstream is unknown or closes a cycle through the catalog."""
    file_slugs = {spec.slug for spec in specs}
    known = set(Service.objects.values_list("slug", flat=True)) | file_slugs
    others: dict[str, list[str]] = {}
    edges = Service.depends_on.through.objects.exclude(from_service__slug__in=file_slugs)
    for dependent, upstream in edges.values_list("from_service__slug", "to_service__slug"):
        others.setdefault(dependent, []).append(upstream)
    problems = _dependency_lines(specs, known=known, others=others)
    if problems:
        raise CatalogError("\n".join(problems))


def _dependencies_sync(spec: ServiceSpec) -> bool:
    """Make the service's upstreams those of the file; returns whether they changed."""
    service = Service.objects.get(slug=spec.slug)
    wanted = set(Service.objects.filter(slug__in=spec.depends_on).values_list("pk", flat=True))
    current = set(service.depends_on.values_list("pk", flat=True))
    if wanted == current:
        return False
    service.depends_on.set(wanted)
    return True


def _sections_sync(service: Service, spec: ServiceSpec) -> bool:
    # Every section syncs (no short-circuit): each must match the file.
    changes = [section.sync(service, spec.sections.get(section.key, section.empty)) for section in sections()]
    return any(changes)
