"""Admin for the catalog: services and their issue types."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from catalog.models import IssueType, Service
from catalog.services import service_ensure_issue_types


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

    def has_delete_permission(self, request: HttpRequest, obj: Service | None = None) -> bool:
        # Deleting cascades to every report and outage of the service: the public record.
        # Retire a service by unticking "active" instead.
        return False
