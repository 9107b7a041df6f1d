from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import CommentState, DetectorState, IssueType, Outage, OutageEvent, Report, Service, SimulatedOutage
from .services import service_ensure_issue_types


class IssueTypeInline(admin.TabularInline):
    model = IssueType
    extra = 0
    fields = ("key", "label", "order", "active")


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "active", "homepage")
    list_filter = ("active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    formfield_overrides = {models.URLField: {"form_class": forms.URLField, "assume_scheme": "https"}}
    inlines = [IssueTypeInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # A service added without issue types gets the four defaults.
        service_ensure_issue_types(service=form.instance)


@admin.action(description="Hide selected comments")
def hide_comments(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Report]) -> None:
    queryset.update(comment_state=CommentState.HIDDEN)


@admin.action(description="Show selected comments")
def show_comments(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Report]) -> None:
    queryset.update(comment_state=CommentState.VISIBLE)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "service", "issue_type", "counted", "channel", "country", "comment", "comment_state")
    list_filter = ("comment_state", "counted", "channel", "service")
    search_fields = ("comment",)
    date_hierarchy = "created_at"
    list_select_related = ("service", "issue_type")
    actions = [hide_comments, show_comments]
    # Reports are evidence: only their comment's visibility is editable.
    readonly_fields = ("service", "issue_type", "created_at", "comment", "country", "channel", "reporter", "counted")
    fields = (*readonly_fields, "comment_state")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SimulatedOutage)
class SimulatedOutageAdmin(admin.ModelAdmin):
    list_display = ("service", "issue_type_key", "starts_at", "ends_at", "factor")


class OutageEventInline(admin.TabularInline):
    model = OutageEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "data")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Outage)
class OutageAdmin(admin.ModelAdmin):
    list_display = ("service", "status", "confidence", "level", "started_at", "resolved_at", "peak_count")
    list_filter = ("status", "confidence", "service")
    date_hierarchy = "started_at"
    list_select_related = ("service",)
    readonly_fields = (
        "service",
        "status",
        "confidence",
        "level",
        "started_at",
        "resolved_at",
        "peak_at",
        "peak_count",
        "peak_expected",
        "issue_types",
        "countries",
        "reports_confirmed",
        "probes_confirmed",
    )
    inlines = [OutageEventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(DetectorState)
class DetectorStateAdmin(admin.ModelAdmin):
    list_display = ("service", "level", "level_since", "last_minute")
    readonly_fields = ("service", "level", "level_since", "last_minute", "state")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
