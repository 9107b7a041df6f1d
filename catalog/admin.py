"""Admin for the catalog: services and their issue types."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from catalog.dependencies import dependency_problems
from catalog.models import IssueType, Service
from catalog.services import service_ensure_issue_types


class IssueTypeInline(admin.TabularInline):
    model = IssueType
    extra = 0
    fields = ("key", "label", "order", "active")


class ServiceForm(forms.ModelForm):
    homepage = forms.URLField(max_length=300, required=False, assume_scheme="https")

    class Meta:
        model = Service
        fields = ("slug", "name", "homepage", "description", "active", "demo_traffic", "depends_on")

    def clean_depends_on(self) -> Any:
        """Refuse a service depending on itself or closing a cycle, as the catalog loader does."""
        upstreams = self.cleaned_data["depends_on"]
        slug = self.cleaned_data.get("slug") or self.instance.slug
        graph: dict[str, list[str]] = {}
        edges = Service.depends_on.through.objects.exclude(from_service_id=self.instance.pk)
        for dependent, upstream in edges.values_list("from_service__slug", "to_service__slug"):
            graph.setdefault(dependent, []).append(upstream)
        graph[slug] = [u.slug for u in upstreams if u.pk != self.instance.pk or self.instance.pk is None]
        if self.instance.pk is not None and any(u.pk == self.instance.pk for u in upstreams):
            graph[slug].append(slug)
        problems = dependency_problems(graph, known=set(graph) | {u for ups in graph.values() for u in ups})
        if problems.get(slug):
            raise forms.ValidationError(problems[slug])
        return upstreams


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    form = ServiceForm
    filter_horizontal = ("depends_on",)
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
