"""REST API v1 for probes: definitions with their state, results and state changes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, pagination, serializers

from reports.api import StringField

from .models import Probe
from .selectors import probe_events, probe_get, probe_list, probe_results
from .services import probe_regions


class TimeCursorPagination(pagination.CursorPagination):
    """Stable pages over time-ordered rows, however many arrive meanwhile."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("-checked_at", "-id")


class EventCursorPagination(TimeCursorPagination):
    ordering = ("-at", "-id")


def _probe_or_404(probe_id: int) -> Probe:
    probe = probe_get(probe_id=probe_id)
    if probe is None:
        raise exceptions.NotFound({"probe": [f"No probe with id {probe_id}."]})
    return probe


class ProbeSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Probe"

    id = serializers.IntegerField()
    service = serializers.CharField(source="service.slug")
    name = serializers.CharField()
    kind = serializers.CharField()
    target = serializers.CharField()
    interval_seconds = serializers.IntegerField()
    timeout_seconds = serializers.FloatField()
    failure_threshold = serializers.IntegerField()
    success_threshold = serializers.IntegerField()
    regions = serializers.SerializerMethodField()
    state = serializers.CharField()
    state_since = serializers.DateTimeField()

    def get_regions(self, probe: Probe) -> list[str]:
        return probe_regions(probe)


class ProbeListApi(generics.ListAPIView):
    """Probes with their current state; `?service=` narrows to one service."""

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ProbeListFilter"

        service = StringField(required=False, max_length=64)

    serializer_class = ProbeSerializer

    def get_queryset(self) -> Any:
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return probe_list(service_slug=filters.validated_data.get("service"))

    @extend_schema(parameters=[OpenApiParameter("service", str, description="Service slug.")])
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


class TimeRangeSerializer(serializers.Serializer):
    class Meta:
        ref_name = "TimeRange"

    since = serializers.DateTimeField(required=False, help_text="ISO 8601; inclusive.")
    until = serializers.DateTimeField(required=False, help_text="ISO 8601; exclusive.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": ["Must be after since."]})
        return attrs


class ProbeResultListApi(generics.ListAPIView):
    """A probe's raw results, newest first, between `since` and `until`."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ProbeResult"

        region = serializers.CharField()
        checked_at = serializers.DateTimeField()
        outcome = serializers.CharField()
        latency_ms = serializers.IntegerField(allow_null=True)
        status_code = serializers.IntegerField(allow_null=True)
        error = serializers.CharField()
        message = serializers.CharField()

    serializer_class = OutputSerializer
    pagination_class = TimeCursorPagination

    def get_queryset(self) -> Any:
        probe = _probe_or_404(self.kwargs["probe_id"])
        window = TimeRangeSerializer(data=self.request.query_params)
        window.is_valid(raise_exception=True)
        return probe_results(probe=probe, **window.validated_data)

    @extend_schema(parameters=[TimeRangeSerializer])
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


class ProbeEventListApi(generics.ListAPIView):
    """A probe's state changes, newest first, with the evidence behind each."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ProbeEvent"

        at = serializers.DateTimeField()
        region = serializers.CharField(help_text="Empty: the probe's state by quorum of its regions.")
        from_state = serializers.CharField()
        to_state = serializers.CharField()
        evidence = serializers.JSONField()

    serializer_class = OutputSerializer
    pagination_class = EventCursorPagination

    def get_queryset(self) -> Any:
        return probe_events(probe=_probe_or_404(self.kwargs["probe_id"]))
