"""REST API v1: a service's report series with the baseline (JSON or CSV), its breakdown and its timeline.

Their time windows are outagehub/api/windows.py's, shared with the probes' endpoints.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from outagehub.api.choices import ChoiceField
from outagehub.api.serializers import StringField
from outagehub.api.windows import BUCKET_DOC, WINDOW_DOC, BucketedWindowSerializer, WindowSerializer, error_responses
from outagehub.timebuckets import BUCKETS
from reports.api import examples
from reports.api.reports import get_service_or_404
from reports.intake.geo import parse_country_code
from reports.models import Level
from reports.selectors.series import (
    TIMELINE_MAX_ITEMS,
    report_breakdown,
    report_series,
    service_issue_types,
    service_timeline,
)

# --- the report series -------------------------------------------------------------


class SeriesCSVRenderer(renderers.BaseRenderer):
    """The report series as CSV: one row per bucket, empty cells where the JSON has null."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    HEADER = ("start", "count", "expected", "band_low", "band_high", "level")

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.HEADER)
        for b in data.get("buckets", []) if isinstance(data, dict) else []:
            low, high = b["band"] or ("", "")
            writer.writerow([b["start"], b["count"], _cell(b["expected"]), low, high, _cell(b["level"])])
        return out.getvalue().encode()


def _cell(value: Any) -> Any:
    return "" if value is None else value


class SeriesBucketSerializer(serializers.Serializer):
    class Meta:
        ref_name = "SeriesBucket"

    start = serializers.DateTimeField(help_text="Start of the bucket, UTC.")
    count = serializers.IntegerField(help_text="Counted reports (one per reporter per cooldown) in the bucket.")
    expected = serializers.FloatField(
        allow_null=True,
        help_text="Counted reports the detector expected over the bucket's minutes (all issue types and countries). "
        "Null with issue_type or country, and until the detector has processed every minute of the bucket.",
    )
    band = serializers.ListField(
        child=serializers.IntegerField(),
        min_length=2,
        max_length=2,
        allow_null=True,
        help_text="[low, high]: the 1st-99th percentile range of a quiet bucket. Approximate: a negative binomial "
        "with the bucket's expected count and the largest per-minute dispersion in it (errs wide). Null with expected.",
    )
    level = serializers.ChoiceField(
        choices=Level.choices,
        allow_null=True,
        help_text="The worst detector level among the bucket's processed minutes: ok, possible or outage. "
        "Null with issue_type or country, or before the detector processed any of its minutes.",
    )


class ServiceSeriesApi(APIView):
    """Counted reports of a service per bucket, with the expected count and its band (JSON, or CSV)."""

    renderer_classes = [renderers.JSONRenderer, SeriesCSVRenderer]

    class FilterSerializer(BucketedWindowSerializer):
        class Meta:
            ref_name = "ServiceSeriesFilter"

        bucket = ChoiceField(
            choices=tuple(BUCKETS),
            required=False,
            help_text="Bucket size. Default: 15m, or 1h with country (country counts are hourly: 1h or 1d only).",
        )
        issue_type = StringField(
            required=False, max_length=32, help_text="Only reports of this issue type (its key). No baseline then."
        )
        country = StringField(
            required=False,
            max_length=2,
            help_text="Only reports from this country, ISO 3166-1 alpha-2 (e.g. DE). Needs bucket 1h or 1d; "
            "cannot be combined with issue_type. No baseline then.",
        )

        def validate_issue_type(self, key: str) -> Any:
            types = service_issue_types(service=self.context["service"])
            if key not in types:
                name = self.context["service"].name
                raise serializers.ValidationError(
                    f"{key!r} is not an issue type of {name}. Allowed: {', '.join(types)}."
                )
            return types[key]

        def validate_country(self, code: str) -> str:
            parsed = parse_country_code(code)
            if parsed is None:
                raise serializers.ValidationError(f"{code!r} is not an ISO 3166-1 alpha-2 country code (e.g. DE).")
            return parsed

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if "country" in attrs:
                if attrs.get("bucket", "1h") not in ("1h", "1d"):
                    raise serializers.ValidationError(
                        {"country": ["Needs bucket 1h or 1d: reports by country are rolled up by the hour."]}
                    )
                if "issue_type" in attrs:
                    raise serializers.ValidationError(
                        {"country": ["Cannot be combined with issue_type: country rollups are not split by type."]}
                    )
            attrs.setdefault("bucket", "1h" if "country" in attrs else "15m")
            return super().validate(attrs)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ServiceSeries"

        service = serializers.CharField(help_text="The service's slug.")
        bucket = serializers.ChoiceField(choices=tuple(BUCKETS))
        since = serializers.DateTimeField(help_text="Start of the first bucket (since, aligned down).")
        until = serializers.DateTimeField(help_text="End of the last bucket (until, aligned up); exclusive.")
        buckets = SeriesBucketSerializer(
            many=True, help_text="Every bucket of the window in time order, empty ones too."
        )

    @extend_schema(
        description=(
            "Counted reports per bucket with the detector's expected count, its band and level, for charts and "
            "spreadsheets (`?format=csv` or `Accept: text/csv`: header start,count,expected,band_low,band_high,level). "
            "Counts come from the minute rollups (hourly for country); minutes the detector has not rolled up yet "
            "are counted from reports, without an expected count. " + WINDOW_DOC + " " + BUCKET_DOC
        ),
        parameters=[FilterSerializer],
        responses={
            (200, "application/json"): OutputSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The buckets as CSV."),
            **error_responses(400, 404),
        },
        examples=[
            OpenApiExample(examples.SERIES_NAME, value=examples.SERIES, response_only=True),
            # The CSV example is the JSON one rendered, so the two cannot disagree.
            OpenApiExample(
                examples.SERIES_NAME,
                value=SeriesCSVRenderer().render(examples.SERIES).decode(),
                media_type="text/csv",
                response_only=True,
            ),
            examples.SERIES_INVALID,
        ],
    )
    def get(self, request: Request, slug: str) -> Response:
        service = get_service_or_404(slug)
        filters = self.FilterSerializer(data=request.query_params, context={"service": service})
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        buckets = report_series(
            service=service,
            since=f["since"],
            until=f["until"],
            size=BUCKETS[f["bucket"]],
            issue_type=f.get("issue_type"),
            country=f.get("country"),
        )
        body = {"service": service.slug, "bucket": f["bucket"], "since": f["since"], "until": f["until"]}
        return Response(self.OutputSerializer({**body, "buckets": buckets}).data)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # Errors stay JSON (the one error body) even when CSV was asked for.
        data = getattr(response, "data", None)
        if isinstance(getattr(request, "accepted_renderer", None), SeriesCSVRenderer) and not (
            isinstance(data, dict) and "buckets" in data
        ):
            request.accepted_renderer, request.accepted_media_type = renderers.JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


# --- breakdown ---------------------------------------------------------------------


class IssueTypeShareSerializer(serializers.Serializer):
    class Meta:
        ref_name = "IssueTypeShare"

    key = serializers.CharField()
    # DRF's metaclass moves declared fields off the class: this does not replace Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField()
    percent = serializers.FloatField(help_text="Of total, one decimal.")


class CountryShareSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CountryShare"

    country = serializers.CharField(source="key", help_text="ISO 3166-1 alpha-2; empty when unknown.")
    name = serializers.CharField(source="label", help_text='English name; "Unknown" for an empty country.')
    count = serializers.IntegerField()
    percent = serializers.FloatField(help_text="Of the countries' own total, one decimal.")


class ServiceBreakdownApi(APIView):
    """Counted reports of a service in a window by issue type and by country, with their shares."""

    class FilterSerializer(WindowSerializer):
        class Meta:
            ref_name = "ServiceBreakdownFilter"

        def alignment(self, attrs: dict[str, Any]) -> dt.timedelta | None:
            return BUCKETS["1m"]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ServiceBreakdown"

        since = serializers.DateTimeField(help_text="since, aligned down to the minute.")
        until = serializers.DateTimeField(help_text="until, aligned up to the minute; exclusive.")
        total = serializers.IntegerField(help_text="Counted reports in the window.")
        issue_types = IssueTypeShareSerializer(
            many=True, help_text="By count, most first; active issue types without reports too."
        )
        countries = CountryShareSerializer(
            many=True,
            help_text="By count, most first. From the hourly rollups: the whole UTC hours overlapping the window, "
            "so up to an hour more than since..until; hence percentages of their own total.",
        )

    @extend_schema(
        description="Counts and shares by issue type (minute rollups) and by country (hourly rollups); minutes "
        "not rolled up yet are counted from reports. " + WINDOW_DOC,
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, **error_responses(400, 404)},
        examples=examples.BREAKDOWN,
    )
    def get(self, request: Request, slug: str) -> Response:
        service = get_service_or_404(slug)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        since, until = filters.validated_data["since"], filters.validated_data["until"]
        breakdown = report_breakdown(service=service, since=since, until=until)
        return Response(self.OutputSerializer({"since": since, "until": until, **vars(breakdown)}).data)


# --- timeline ----------------------------------------------------------------------


class ProbeRefSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ProbeRef"

    id = serializers.IntegerField()
    name = serializers.CharField()


class TimelineItemSerializer(serializers.Serializer):
    class Meta:
        ref_name = "TimelineItem"

    at = serializers.DateTimeField()
    type = serializers.ChoiceField(choices=("outage_event", "probe_event"))
    outage = serializers.IntegerField(allow_null=True, help_text="The outage's id (outage events).")
    kind = serializers.CharField(
        help_text="Outage events: reports_rising, opened, level_changed, probe_down, probe_up, peak, "
        "issue_mix_changed, resolved, reopened, status_update. Probe events: probe_ and the new state (probe_down, "
        "probe_up, probe_degraded, probe_unknown)."
    )
    probe = ProbeRefSerializer(allow_null=True, help_text="The probe (probe events).")
    # DRF's metaclass moves declared fields off the class: this does not replace Serializer.data.
    data = serializers.JSONField(  # type: ignore[assignment]
        help_text="Outage events: the numbers behind them. Probe events: from_state, to_state and the evidence."
    )


class ServiceTimelineApi(APIView):
    """A service's outage events and probe state changes in a window, in time order."""

    class FilterSerializer(WindowSerializer):
        class Meta:
            ref_name = "ServiceTimelineFilter"

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ServiceTimeline"

        service = serializers.CharField(help_text="The service's slug.")
        since = serializers.DateTimeField()
        until = serializers.DateTimeField()
        truncated = serializers.BooleanField(
            help_text=f"More than {TIMELINE_MAX_ITEMS} items: ask again with since set to the last item's at "
            "(the items at that instant come again)."
        )
        items = TimelineItemSerializer(many=True, help_text=f"Oldest first; at most {TIMELINE_MAX_ITEMS}.")

    @extend_schema(
        description="Events of the service's outages (opened, peak, probe down, resolved...) and the state "
        "changes of its enabled probes (by quorum of their regions) with at in [since, until), merged in time "
        f"order; at one instant a probe's change comes first. At most {TIMELINE_MAX_ITEMS} items, the oldest. "
        + WINDOW_DOC,
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, **error_responses(400, 404)},
        examples=examples.TIMELINE,
    )
    def get(self, request: Request, slug: str) -> Response:
        service = get_service_or_404(slug)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        since, until = filters.validated_data["since"], filters.validated_data["until"]
        items, truncated = service_timeline(service=service, since=since, until=until)
        body = {"service": service.slug, "since": since, "until": until, "truncated": truncated, "items": items}
        return Response(self.OutputSerializer(body).data)
