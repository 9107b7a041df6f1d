"""REST API v1 for status pages: what a service's official page says, as we last read it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.selectors import service_get
from outagehub.api.windows import error_responses
from statuspages import api_examples as examples
from statuspages.kinds import IncidentStatus, OfficialLevel, PageKind
from statuspages.selectors import official_state, page_incidents, page_link, status_page_get

RECENT = dt.timedelta(hours=24)  # resolved incidents listed this long after they end


class ComponentSerializer(serializers.Serializer):
    class Meta:
        ref_name = "StatusPageComponent"

    name = serializers.CharField()
    level = serializers.ChoiceField(choices=OfficialLevel.choices)


class IncidentUpdateSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ProviderIncidentUpdate"

    id = serializers.CharField(help_text="The provider's id of the update (or a stable stand-in).")
    at = serializers.DateTimeField(allow_null=True)
    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    body = serializers.CharField()


class IncidentSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ProviderIncident"

    id = serializers.CharField(source="provider_id", help_text="The provider's id of the incident.")
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=IncidentStatus.choices, help_text="The provider's lifecycle.")
    level = serializers.ChoiceField(choices=OfficialLevel.choices, help_text="The impact the provider declared.")
    maintenance = serializers.BooleanField()
    started_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(
        allow_null=True, help_text="Null while open; when the provider closed it, or when it left the page."
    )
    components = serializers.ListField(child=serializers.CharField())
    url = serializers.CharField(help_text="The provider's page of the incident; may be empty.")
    updates = IncidentUpdateSerializer(many=True, help_text="Oldest first, the latest 50.")


class ServiceStatusPageApi(APIView):
    """The service's official status page as last read: level, components, open and recent incidents."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "StatusPage"

        service = serializers.CharField()
        kind = serializers.ChoiceField(choices=PageKind.choices)
        url = serializers.CharField(help_text="The endpoint polled.")
        page_url = serializers.CharField(help_text="The page for people.")
        level = serializers.ChoiceField(
            choices=OfficialLevel.choices,
            help_text="The page's level now; `unknown` when the latest poll failed (never `operational`).",
        )
        stale = serializers.BooleanField(
            help_text="True when the components and incidents are not from a fresh reading: the latest poll "
            "failed, or the latest good one is too old."
        )
        reason = serializers.CharField(help_text="Why the level is unknown (or a fallback used); else empty.")
        description = serializers.CharField(help_text="The provider's own summary line, if it gives one.")
        fetched_at = serializers.DateTimeField(allow_null=True, help_text="The latest good reading (200 or 304).")
        attempted_at = serializers.DateTimeField(allow_null=True, help_text="The latest poll, whatever it gave.")
        components = ComponentSerializer(many=True, help_text="From the latest good reading.")
        incidents = IncidentSerializer(many=True, help_text="Open ones, then those resolved in the last 24 hours.")

    @extend_schema(
        responses={200: OutputSerializer, **error_responses(404)},
        examples=examples.STATUS_PAGE,
    )
    def get(self, request: Request, slug: str) -> Response:
        service = service_get(slug=slug)
        if service is None:
            raise exceptions.NotFound({"service": [f"No service with slug {slug!r}."]})
        page = status_page_get(service_id=service.pk)
        if page is None:
            raise exceptions.NotFound({"status_page": [f"{service.name} has no official status page."]})
        now = timezone.now()
        state = official_state(page, now=now, incidents=[])
        snapshot = page.snapshot
        body: dict[str, Any] = {
            "service": service.slug,
            "kind": page.kind,
            "url": page.url,
            "page_url": page_link(page),
            "level": page.level,
            "stale": state.stale,
            "reason": page.reason,
            "description": snapshot.description if snapshot else "",
            "fetched_at": page.fetched_at,
            "attempted_at": page.attempted_at,
            "components": snapshot.components if snapshot else [],
            "incidents": page_incidents(page, now=now, recent=RECENT),
        }
        return Response(self.OutputSerializer(body).data)
