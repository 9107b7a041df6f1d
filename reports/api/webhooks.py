"""REST API v1: webhooks of an API key (scope `webhooks`) and their delivery logs."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Service
from outagehub.api.choices import ChoiceField
from outagehub.api.errors import ErrorSerializer
from outagehub.api.examples import ExampleLinks
from outagehub.api.pagination import PageNumberPagination, TimeCursorPagination
from outagehub.api.serializers import StrictSerializer
from reports.api import examples
from reports.api.auth import ApiKeyAuthentication
from reports.models import (
    WEBHOOK_URL_MAX_LENGTH,
    ApiKey,
    ApiKeyScope,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from reports.outages.webhooks import webhook_create, webhooks_of

AUTH_ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="No API key, or an unknown or revoked one."),
    403: OpenApiResponse(ErrorSerializer, description="The API key lacks the `webhooks` scope."),
}


class EventListField(serializers.ListField):
    """A list of events whose error, for an unknown one, is one sentence naming the allowed events."""

    def run_child_validation(self, data: list[Any]) -> list[Any]:
        try:
            return super().run_child_validation(data)
        except serializers.ValidationError:
            # DRF would nest each item's error under its index.
            raise serializers.ValidationError(
                f"Unknown event; give one or more of: {', '.join(WebhookEvent.values)}."
            ) from None


class HasWebhooksScope(permissions.BasePermission):
    message = "Webhooks need an API key with the webhooks scope."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not isinstance(request.auth, ApiKey):
            raise exceptions.NotAuthenticated("Webhooks need an API key: send 'Authorization: Bearer <key>'.")
        return request.auth.has_scope(ApiKeyScope.WEBHOOKS)


class WebhookSerializer(serializers.ModelSerializer):
    class Meta:
        model = Webhook
        ref_name = "Webhook"
        fields = ["id", "url", "events", "services", "active", "created_at"]

    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))
    services: serializers.RelatedField[Service, str, str] | serializers.ManyRelatedField = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True, help_text="Slugs of the services; empty for every service."
    )


class WebhookCreatedSerializer(WebhookSerializer):
    class Meta(WebhookSerializer.Meta):
        ref_name = "WebhookCreated"
        fields = [*WebhookSerializer.Meta.fields, "secret"]

    secret = serializers.CharField(
        help_text="Signs every delivery (`whsec_` and a base64 key, as Standard Webhooks has it). "
        "Shown only in this response: store it now."
    )


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        ref_name = "WebhookDelivery"
        fields = [
            "id",
            "event",
            "outage",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "payload",
        ]

    # A plain string in the schema: an enum here would be a second name for the `events` enum.
    event = serializers.CharField(help_text="One of the webhook events, e.g. `outage.opened`.")
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    payload = serializers.DictField(help_text="The JSON body sent.")


class OwnWebhookMixin(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasWebhooksScope]

    @property
    def api_key(self) -> ApiKey:
        """The key the request was made with (HasWebhooksScope lets in no request without one)."""
        key = self.request.auth
        assert isinstance(key, ApiKey)
        return key

    def get_webhook(self) -> Webhook:
        webhook_id = self.kwargs["webhook_id"]
        # Another key's webhook is as unknown as a missing one.
        webhook = webhooks_of(owner=self.api_key).filter(pk=webhook_id).first()
        if webhook is None:
            raise exceptions.NotFound({"webhook_id": [f"No webhook with id {webhook_id}."]})
        return webhook


class WebhookPagination(ExampleLinks, PageNumberPagination):
    # The example page: a key's only webhook.
    example_count = 1


@extend_schema_view(
    get=extend_schema(responses={200: WebhookSerializer(many=True), **AUTH_ERRORS}, examples=examples.WEBHOOK_LIST)
)
class WebhookListApi(OwnWebhookMixin, generics.ListAPIView):
    max_body_bytes = 16 * 1024  # a URL, a few events and services
    """The webhooks of the API key sent (scope `webhooks`), newest first; POST subscribes a URL.

    Deliveries are POSTed as JSON and signed as Standard Webhooks (standardwebhooks.com) has it:
    `webhook-id` (the same on every retry), `webhook-timestamp` (Unix seconds) and
    `webhook-signature: v1,<base64>`, the HMAC-SHA256 of `{id}.{timestamp}.{raw body}` keyed by
    the secret's base64 part decoded; any Standard Webhooks library verifies them with the secret.
    `X-OutageHub-Event` names the event.
    A 2xx answer delivers; anything else is retried up to 6 attempts with exponential backoff.
    Targets must resolve to public addresses.
    """

    class InputSerializer(StrictSerializer):
        class Meta:
            ref_name = "WebhookInput"

        url = serializers.URLField(max_length=WEBHOOK_URL_MAX_LENGTH, help_text="An http or https URL.")
        events = EventListField(child=ChoiceField(choices=WebhookEvent.choices), min_length=1, max_length=3)
        services = serializers.ListField(
            child=serializers.SlugField(max_length=100),
            required=False,
            max_length=100,
            help_text="Slugs of the services to hear about; empty or absent for every service.",
        )

        def validate_url(self, value: str) -> str:
            if value.split(":", 1)[0].lower() not in ("http", "https"):
                raise serializers.ValidationError("Give an http or https URL.")
            return value

        def validate_services(self, value: list[str]) -> list[Service]:
            found = {s.slug: s for s in Service.objects.filter(slug__in=value)}
            unknown = sorted(set(value) - set(found))
            if unknown:
                raise serializers.ValidationError(f"Unknown services: {', '.join(unknown)}.")
            return list(found.values())

    serializer_class = WebhookSerializer
    pagination_class = WebhookPagination

    def get_queryset(self) -> Any:
        return webhooks_of(owner=self.api_key)

    @extend_schema(
        request=InputSerializer,
        responses={201: WebhookCreatedSerializer, **AUTH_ERRORS},
        examples=examples.WEBHOOK_CREATE,
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webhook = webhook_create(owner=self.api_key, **data.validated_data)
        return Response(WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(responses={200: WebhookSerializer, **AUTH_ERRORS}, examples=examples.WEBHOOK_DETAIL),
    delete=extend_schema(responses={204: None, **AUTH_ERRORS}),
)
class WebhookDetailApi(OwnWebhookMixin, generics.RetrieveDestroyAPIView):
    """One of the key's webhooks; DELETE unsubscribes it (and drops its delivery log)."""

    serializer_class = WebhookSerializer

    def get_object(self) -> Webhook:
        return self.get_webhook()


class DeliveryCursorPagination(ExampleLinks, TimeCursorPagination):
    ordering = ("-created_at", "-id")
    example_next = examples.DELIVERIES_NEXT


@extend_schema_view(
    get=extend_schema(
        responses={200: WebhookDeliverySerializer(many=True), **AUTH_ERRORS}, examples=examples.DELIVERY_LIST
    )
)
class WebhookDeliveriesApi(OwnWebhookMixin, generics.ListAPIView):
    """The delivery log of one of the key's webhooks, newest first: status, attempts and the last answer."""

    serializer_class = WebhookDeliverySerializer
    pagination_class = DeliveryCursorPagination

    def get_queryset(self) -> Any:
        return WebhookDelivery.objects.filter(webhook=self.get_webhook())
