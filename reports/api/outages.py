"""REST API v1: outages (filtered with reports.api.filters) and their timelines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, generics, serializers
from rest_framework.fields import SkipField
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from outagehub.api.examples import ExampleLinks
from outagehub.api.pagination import TimeCursorPagination
from outagehub.api.serializers import iso_time
from reports.api import examples
from reports.api.filters import CONFIDENCE_HELP, OutageFilter
from reports.models import Outage
from reports.outages.webhooks import outage_cause
from reports.selectors.outages import outage_dependents_prefetch, outage_get, outage_list


class OutageEventSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OutageEvent"

    at = serializers.DateTimeField()
    kind = serializers.CharField()
    # DRF's metaclass moves declared fields off the class: this does not replace Serializer.data.
    data = serializers.JSONField(help_text="The numbers behind the event: actual vs expected, the probe...")  # type: ignore[assignment]


class OutageCauseSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OutageCause"

    service = serializers.CharField(help_text="Slug of the upstream service (one the outage's service depends on).")
    service_name = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["likely", "confirmed"],
        help_text="likely (from the dependency graph and co-occurring outages), confirmed (the upstream's own "
        "outage or official status page says so).",
    )
    outage = serializers.IntegerField(allow_null=True, help_text="The upstream's own outage, if it has one.")
    summary = serializers.CharField(help_text="The cause in one sentence, with its numbers.")
    evidence = serializers.JSONField(
        help_text="affected and dependents (how many of the upstream's dependents were hit), affected_services, "
        "upstream_outage_level, upstream_probes_down, official_level, lag_minutes, points."
    )


class AffectedDependentListSerializer(serializers.ListSerializer):
    def get_attribute(self, instance: Outage) -> Any:
        # outage_list marks the outages that caused none (`has_dependents`), and the list view
        # prefetches only the others' (outage_dependents_prefetch): no query for an empty list.
        if getattr(instance, "has_dependents", True) is False:
            return []
        return super().get_attribute(instance)


class AffectedDependentSerializer(serializers.Serializer):
    class Meta:
        ref_name = "AffectedDependent"
        list_serializer_class = AffectedDependentListSerializer

    id = serializers.IntegerField()
    service = serializers.CharField(source="service.slug")
    service_name = serializers.CharField(source="service.name")
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    cause_status = serializers.CharField(help_text="likely or confirmed.")


class OutageSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Outage"

    id = serializers.IntegerField()
    service = serializers.CharField(source="service.slug")
    status = serializers.CharField()
    confidence = serializers.CharField(help_text=CONFIDENCE_HELP)
    level = serializers.CharField()
    started_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(
        allow_null=True, help_text="When the outage was declared over: its end, confirmed by a quiet spell."
    )
    ended_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When reports and probes were back to normal: the outage's real end (its duration is "
        "ended_at - started_at). null while open.",
    )
    acknowledged_at = serializers.DateTimeField(
        allow_null=True, help_text="When the service's team posted its first status update (outages/{id}/updates/)."
    )
    team_state = serializers.CharField(
        allow_blank=True,
        help_text="The state of the team's latest status update (investigating, identified, monitoring, resolved); "
        "empty before the first. The team's word: the outage itself resolves when reports and probes are normal.",
    )
    peak_at = serializers.DateTimeField(allow_null=True)
    peak_count = serializers.IntegerField()
    peak_expected = serializers.FloatField()
    issue_types = serializers.JSONField(help_text="Counted reports during the outage by issue type.")
    countries = serializers.JSONField(
        help_text='Counted reports by country over the hours it spans; "??" counts those of unknown country.'
    )
    cause = serializers.SerializerMethodField(
        help_text="The upstream that likely caused it (null: none found). See README, Upstream attribution."
    )
    affected_dependents = AffectedDependentSerializer(
        many=True,
        source="affected_dependents.all",
        help_text="For an upstream's outage: the outages of services depending on it that it likely caused.",
    )

    @extend_schema_field(OutageCauseSerializer(allow_null=True))
    def get_cause(self, outage: Outage) -> dict[str, Any] | None:
        return outage_cause(outage)

    def to_representation(self, instance: Outage) -> dict[str, Any]:
        # DRF's generic to_representation resolves every field's source through its getattr chain
        # and asks for the active time zone once per timestamp: for a page of 50 outages that was
        # a fifth of the answer. The plain fields are written here, as DRF writes them (tests
        # compare the two field for field); any other field, in a subclass too, goes through DRF.
        o, zone = instance, timezone.get_current_timezone()
        ret: dict[str, Any] = {
            "id": _plain(int, o.id),
            "service": _plain(str, o.service.slug),
            "status": _plain(str, o.status),
            "confidence": _plain(str, o.confidence),
            "level": _plain(str, o.level),
            "started_at": iso_time(o.started_at, zone),
            "resolved_at": iso_time(o.resolved_at, zone),
            "ended_at": iso_time(o.ended_at, zone),
            "acknowledged_at": iso_time(o.acknowledged_at, zone),
            "team_state": _plain(str, o.team_state),
            "peak_at": iso_time(o.peak_at, zone),
            "peak_count": _plain(int, o.peak_count),
            "peak_expected": _plain(float, o.peak_expected),
            "issue_types": o.issue_types,
            "countries": o.countries,
            "cause": self.get_cause(o),
        }
        for field in self._readable_fields:
            name = field.field_name
            if name is None or name in ret:  # None: never, once bound to this serializer
                continue
            try:
                attribute = field.get_attribute(o)
            except SkipField:
                continue
            ret[name] = None if attribute is None else field.to_representation(attribute)
        return ret


def _plain(kind: Callable[[Any], Any], value: Any) -> Any:
    """As DRF's IntegerField, CharField and FloatField write a value: None stays None."""
    return None if value is None else kind(value)


class OutageCursorPagination(ExampleLinks, TimeCursorPagination):
    # Newest first. A cursor, not page numbers: outages opening while a client pages would
    # otherwise shift every numbered page and repeat or skip rows.
    ordering = ("-started_at", "-id")
    page_size = 50
    max_page_size = 200
    example_next = examples.OUTAGES_NEXT


@extend_schema_view(get=extend_schema(examples=examples.OUTAGE_LIST))
class OutageListApi(generics.ListAPIView):
    """Outages, newest first, narrowed by service, status, confidence, issue type and time range.

    Pages are cursors: follow `next` (and `previous`) as given; they keep their filters.
    """

    serializer_class = OutageSerializer
    pagination_class = OutageCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = OutageFilter

    def get_queryset(self) -> Any:
        return outage_list()

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        page = super().paginate_queryset(queryset)
        if page:
            outage_dependents_prefetch(page)
        return page


class OutageDetailApi(APIView):
    """One outage with its timeline, in time order."""

    class OutputSerializer(OutageSerializer):
        class Meta:
            ref_name = "OutageDetail"

        timeline = OutageEventSerializer(many=True, source="events.all")

    @extend_schema(responses=OutputSerializer, examples=examples.OUTAGE_DETAIL)
    def get(self, request: Request, outage_id: int) -> Response:
        outage = outage_get(outage_id=outage_id)
        if outage is None:
            raise exceptions.NotFound({"outage": [f"No outage with id {outage_id}."]})
        return Response(self.OutputSerializer(outage).data)
