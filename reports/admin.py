from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from reports.api.auth import api_key_set_secret
from reports.models import (
    ApiKey,
    ApiKeyScope,
    CommentState,
    DetectorState,
    Outage,
    OutageEvent,
    OutageUpdate,
    Report,
    SimulatedOutage,
    Webhook,
    WebhookDelivery,
)


@admin.action(description="Hide selected comments")
def hide_comments(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Report]) -> None:
    queryset.update(comment_state=CommentState.HIDDEN)


@admin.action(description="Show selected comments")
def show_comments(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Report]) -> None:
    queryset.update(comment_state=CommentState.VISIBLE)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "service",
        "issue_type",
        "counted",
        "network_flagged",
        "channel",
        "country",
        "comment",
        "comment_state",
    )
    # "pending": comments the link and repetition filter held back, waiting for a moderator.
    list_filter = ("comment_state", "counted", "network_flagged", "channel", "service")
    search_fields = ("comment",)
    date_hierarchy = "created_at"
    list_select_related = ("service", "issue_type")
    actions = [hide_comments, show_comments]
    # Reports are evidence: only their comment's visibility is editable.
    readonly_fields = (
        "service",
        "issue_type",
        "created_at",
        "comment",
        "country",
        "channel",
        "counted",
        "network_flagged",
    )
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
    """Outages are the public record the detector (and the team's status updates) write: read-only here.

    Every field, ended_at, acknowledged_at and team_state included: each is derived from events or
    updates written elsewhere, and an edit here would contradict the timeline the API shows.
    """

    list_display = ("service", "status", "confidence", "level", "started_at", "resolved_at", "peak_count")
    list_filter = ("status", "confidence", "service")
    date_hierarchy = "started_at"
    list_select_related = ("service",)
    inlines = [OutageEventInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Outage | None = None) -> list[str]:
        return [field.name for field in Outage._meta.concrete_fields if field.name != "id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Outage | None = None) -> bool:
        # Deleting an outage would silently rewrite the service's history and break its links.
        return False


@admin.register(DetectorState)
class DetectorStateAdmin(admin.ModelAdmin):
    list_display = ("service", "level", "level_since", "last_minute")
    readonly_fields = ("service", "level", "level_since", "last_minute", "state")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=ApiKeyScope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiKey
        fields = ("name", "scopes", "service")


@admin.action(description="Revoke selected API keys")
def revoke_api_keys(modeladmin: Any, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
    revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    modeladmin.message_user(request, f"Revoked {revoked} API key(s).", messages.SUCCESS)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ("name", "prefix", "scopes", "service", "created_at", "last_used_at", "revoked_at")
    list_filter = ("service",)
    search_fields = ("name", "prefix")
    actions = [revoke_api_keys]
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        # Deleting cascades to the key's webhooks and their delivery logs, and unlinks its status
        # updates; revoking stops the key and keeps the record.
        return False

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # The plain key lives only in this response: it is hashed before saving and shown once.
        key = secrets.token_urlsafe(32)
        api_key_set_secret(api_key=obj, key=key)
        super().save_model(request, obj, form, change)
        self.message_user(
            request, f"The key for {obj.name} is {key} — copy it now, it will not be shown again.", messages.SUCCESS
        )


@admin.register(OutageUpdate)
class OutageUpdateAdmin(admin.ModelAdmin):
    list_display = ("outage", "state", "author", "created_at")
    list_select_related = ("outage__service",)
    readonly_fields = ("outage", "state", "message", "author", "api_key", "user", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["url", "owner", "events", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "owner__name"]
    # The secret is shown once, to the key holder who created the webhook, and never here.
    exclude = ["secret"]
    readonly_fields = ["owner", "created_at"]
    filter_horizontal = ["services"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "webhook", "event", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "event"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
