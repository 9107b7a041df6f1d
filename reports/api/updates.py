"""REST API v1: status updates on an outage, read by anyone, posted by staff or a key scoped to its service."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import authentication, exceptions, generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from outagehub.api.choices import ChoiceField
from outagehub.api.errors import ErrorSerializer
from outagehub.api.examples import ExampleLinks
from outagehub.api.pagination import TimeCursorPagination
from outagehub.api.serializers import StrictSerializer, StringField
from reports.api import examples
from reports.api.auth import ApiKeyAuthentication
from reports.models import OUTAGE_UPDATE_MAX_LENGTH, ApiKey, ApiKeyScope, Outage, OutageUpdate, UpdateState
from reports.outages.services import outage_update_create


class CanPostUpdates(permissions.BasePermission):
    """Reads for all; posting for staff (session) or a key with the service-updates scope for this service."""

    allows_reads = True  # read by outagehub.api.schema: GETs never answer 403
    message = "Posting status updates needs staff, or an API key with the service-updates scope for this service."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        if isinstance(request.auth, ApiKey):
            return request.auth.has_scope(ApiKeyScope.SERVICE_UPDATES)
        return bool(request.user and request.user.is_staff)

    def has_object_permission(self, request: Request, view: Any, obj: Outage) -> bool:
        if request.method in permissions.SAFE_METHODS or not isinstance(request.auth, ApiKey):
            return True
        return request.auth.may_update(obj.service_id)


class UpdateCursorPagination(ExampleLinks, TimeCursorPagination):
    ordering = ("created_at", "id")
    example_next = examples.UPDATES_NEXT


class OutageUpdateSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OutageUpdate"

    state = serializers.ChoiceField(choices=UpdateState.choices)
    message = serializers.CharField(help_text="Plain text.")
    author = serializers.CharField(help_text="The key's name, or the staff member's username.")
    created_at = serializers.DateTimeField()


class OutageUpdatesApi(generics.ListAPIView):
    max_body_bytes = 16 * 1024  # a 1,000-character message, escaped, with room to spare
    """Status updates on an outage from the service's team, oldest first.

    Anyone may read them. Posting needs an API key with the `service-updates` scope, for this
    outage's service or for all services, or a staff session (with its CSRF token). The first
    update sets the outage's `acknowledged_at`; every update also appears on its timeline.
    """

    class InputSerializer(StrictSerializer):
        class Meta:
            ref_name = "OutageUpdateInput"

        state = ChoiceField(choices=UpdateState.choices)
        message = StringField(max_length=OUTAGE_UPDATE_MAX_LENGTH, help_text="Plain text, shown as is.")

    # Keys first: its WWW-Authenticate header makes a missing credential a 401, not a 403.
    authentication_classes = [ApiKeyAuthentication, authentication.SessionAuthentication]
    permission_classes = [CanPostUpdates]
    serializer_class = OutageUpdateSerializer
    pagination_class = UpdateCursorPagination

    def get_outage(self) -> Outage:
        outage_id = self.kwargs["outage_id"]
        outage = Outage.objects.filter(pk=outage_id).first()
        if outage is None:
            raise exceptions.NotFound({"outage_id": [f"No outage with id {outage_id}."]})
        self.check_object_permissions(self.request, outage)
        return outage

    def get_queryset(self) -> Any:
        return OutageUpdate.objects.filter(outage=self.get_outage())

    # Reading needs no credentials: the empty requirement says so (the permission is not AllowAny).
    @extend_schema(
        auth=[{"bearerAuth": []}, {"apiKeyAuth": []}, {"cookieAuth": []}, {}],  # type: ignore[list-item]
        examples=examples.UPDATE_LIST,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutageUpdateSerializer,
            401: OpenApiResponse(ErrorSerializer, description="No credentials, or an unknown or revoked API key."),
            403: OpenApiResponse(
                ErrorSerializer,
                description="The key lacks the service-updates scope or is for another service; or not staff.",
            ),
        },
        examples=examples.UPDATE_CREATE,
    )
    def post(self, request: Request, outage_id: int) -> Response:
        outage = self.get_outage()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        update = outage_update_create(
            outage=outage,
            **data.validated_data,
            author=request.auth.name if isinstance(request.auth, ApiKey) else request.user.get_username(),
            api_key=request.auth if isinstance(request.auth, ApiKey) else None,
            user=None if isinstance(request.auth, ApiKey) else request.user,
        )
        return Response(OutageUpdateSerializer(update).data, status=status.HTTP_201_CREATED)
