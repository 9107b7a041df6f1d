"""The `probes:` part of a catalog entry: validation and sync.

Registered with the catalog loader as a section (catalog/sections.py) in probes/apps.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rest_framework import serializers

from catalog.models import Service
from outagehub.api.serializers import StrictSerializer
from probes.checkers import json_equal, validate_config
from probes.kinds import ProbeKind
from probes.models import (
    INTERVAL_MAX_SECONDS,
    INTERVAL_MIN_SECONDS,
    TIMEOUT_MAX_SECONDS,
    TIMEOUT_MIN_SECONDS,
    Probe,
    region_validator,
)


class ProbeEntry(StrictSerializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=ProbeKind.choices)
    target = serializers.CharField(max_length=500)
    interval = serializers.IntegerField(
        min_value=INTERVAL_MIN_SECONDS, max_value=INTERVAL_MAX_SECONDS, default=60, help_text="Seconds between checks."
    )
    timeout = serializers.FloatField(
        min_value=TIMEOUT_MIN_SECONDS, max_value=TIMEOUT_MAX_SECONDS, default=10.0, help_text="Seconds."
    )
    failure_threshold = serializers.IntegerField(min_value=1, max_value=100, default=3)
    success_threshold = serializers.IntegerField(min_value=1, max_value=100, default=2)
    regions = serializers.ListField(
        child=serializers.CharField(max_length=40, validators=[region_validator]), default=list, allow_empty=True
    )
    enabled = serializers.BooleanField(default=True)
    config = serializers.DictField(default=dict)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = validate_config(attrs["kind"], attrs["target"], attrs["config"])
        if errors:
            # validate_config names kind, target, config itself, or an option inside config.
            paths = {name: name if name in ("kind", "target", "config") else f"config.{name}" for name in errors}
            raise serializers.ValidationError({paths[name]: messages for name, messages in errors.items()})
        return attrs


@dataclass(frozen=True)
class ProbeSpec:
    name: str
    kind: str
    target: str
    interval: int
    timeout: float
    failure_threshold: int
    success_threshold: int
    regions: tuple[str, ...]
    enabled: bool
    config: dict[str, Any] = field(hash=False, compare=True)

    @classmethod
    def from_validated(cls, data: dict[str, Any]) -> ProbeSpec:
        return cls(
            name=data["name"],
            kind=data["kind"],
            target=data["target"],
            interval=data["interval"],
            timeout=data["timeout"],
            failure_threshold=data["failure_threshold"],
            success_threshold=data["success_threshold"],
            regions=tuple(data["regions"]),
            enabled=data["enabled"],
            config=dict(data["config"]),
        )


class ProbeListField(serializers.ListField):
    """A service's `probes:` list: each entry validated, names unique within the service."""

    child = ProbeEntry()

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        names = [p["name"] for p in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise serializers.ValidationError(f"duplicate probe name(s): {', '.join(duplicates)}")
        return [ProbeSpec.from_validated(p) for p in value]


def probes_sync(*, service: Service, specs: tuple[ProbeSpec, ...]) -> bool:
    """Make the service's probes match `specs`; probes not listed are disabled, not deleted.

    Returns whether anything changed. A probe keeps its state and history
    across edits; re-enabling one resumes it.
    """
    existing = {p.name: p for p in Probe.objects.filter(service=service)}
    changed = False
    for spec in specs:
        values = {
            "kind": spec.kind,
            "target": spec.target,
            "config": spec.config,
            "interval_seconds": spec.interval,
            "timeout_seconds": spec.timeout,
            "failure_threshold": spec.failure_threshold,
            "success_threshold": spec.success_threshold,
            "regions": list(spec.regions),
            "enabled": spec.enabled,
        }
        probe = existing.pop(spec.name, None)
        if probe is None:
            Probe.objects.create(service=service, name=spec.name, **values)
            changed = True
            continue
        # Compared as JSON values: Python's == says True == 1, so a config edit from 1 to true would be missed.
        dirty = [name for name, value in values.items() if not json_equal(getattr(probe, name), value)]
        if dirty:
            for name in dirty:
                setattr(probe, name, values[name])
            probe.save(update_fields=dirty)
            changed = True
    for probe in existing.values():
        if probe.enabled:
            probe.enabled = False
            probe.save(update_fields=["enabled"])
            changed = True
    return changed
