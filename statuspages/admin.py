from __future__ import annotations

from django.contrib import admin

from statuspages.models import ProviderIncident, StatusPage


@admin.register(StatusPage)
class StatusPageAdmin(admin.ModelAdmin):
    list_display = ("service", "kind", "url", "level", "stale", "fetched_at", "failures", "enabled")
    list_filter = ("kind", "level", "stale", "enabled")
    search_fields = ("service__name", "service__slug", "url")
    readonly_fields = (
        "level",
        "reason",
        "stale",
        "attempted_at",
        "fetched_at",
        "snapshot",
        "failures",
        "etag",
        "last_modified",
        "claim",
    )


@admin.register(ProviderIncident)
class ProviderIncidentAdmin(admin.ModelAdmin):
    list_display = ("page", "title", "status", "level", "started_at", "resolved_at")
    list_filter = ("status", "level", "maintenance")
    search_fields = ("title", "provider_id")
    readonly_fields = [f.name for f in ProviderIncident._meta.fields]
