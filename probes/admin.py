from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from probes.checkers import validate_config
from probes.models import Probe, ProbeEvent, ProbeRegionState, ProbeResult, ProbeRollup, region_validator


class ProbeForm(forms.ModelForm):
    class Meta:
        model = Probe
        fields = (
            "service",
            "name",
            "kind",
            "target",
            "config",
            "interval_seconds",
            "timeout_seconds",
            "failure_threshold",
            "success_threshold",
            "regions",
            "enabled",
            "next_run_at",
        )

    def clean_config(self) -> Any:
        # An emptied box means "no options", not NULL.
        return {} if self.cleaned_data.get("config") in (None, "") else self.cleaned_data["config"]

    def clean_regions(self) -> Any:
        regions = self.cleaned_data.get("regions")
        if regions in (None, ""):
            return []
        if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
            raise forms.ValidationError('A JSON list of region names, e.g. ["local", "eu-west"].')
        for region in regions:
            region_validator(region)
        return regions

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("kind") and data.get("target") is not None and "config" in data:
            for field, messages in validate_config(data["kind"], data["target"], data["config"]).items():
                for message in messages:
                    if field in self.fields:
                        self.add_error(field, message)
                    else:  # an option inside config: say which
                        self.add_error("config", f"{field}: {message}")
        return data


class RegionStateInline(admin.TabularInline):
    model = ProbeRegionState
    extra = 0
    can_delete = False
    readonly_fields = ("region", "state", "failures", "degradations", "successes", "recoveries", "last_slot")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Probe)
class ProbeAdmin(admin.ModelAdmin):
    form = ProbeForm
    list_display = ("__str__", "kind", "target", "state", "state_since", "interval_seconds", "enabled")
    list_filter = ("state", "kind", "enabled", "service")
    search_fields = ("name", "target", "service__name")
    readonly_fields = ("state", "state_since")
    inlines = [RegionStateInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Results, events and rollups are evidence: viewable, never edited."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProbeResult)
class ProbeResultAdmin(ReadOnlyAdmin):
    list_display = ("checked_at", "probe", "region", "outcome", "latency_ms", "status_code", "error", "message")
    list_filter = ("outcome", "error", "region")
    list_select_related = ("probe__service",)
    date_hierarchy = "checked_at"


@admin.register(ProbeEvent)
class ProbeEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "probe", "region", "from_state", "to_state")
    list_filter = ("to_state",)
    list_select_related = ("probe__service",)


@admin.register(ProbeRollup)
class ProbeRollupAdmin(ReadOnlyAdmin):
    list_display = ("hour", "probe", "region", "uptime_percent", "up", "degraded", "down", "inconclusive")
    list_select_related = ("probe__service",)
