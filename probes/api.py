"""REST API v1 for probes: definitions with their state, results and state changes."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_plus

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from outagehub.api.choices import ChoiceField
from outagehub.api.examples import ExampleLinks
from outagehub.api.pagination import PageNumberPagination, TimeCursorPagination
from outagehub.api.serializers import StringField
from outagehub.api.windows import BUCKET_DOC, WINDOW_DOC, BucketedWindowSerializer, TimeRangeSerializer, error_responses
from outagehub.timebuckets import BUCKETS
from probes import api_examples as examples
from probes.models import Probe
from probes.selectors import probe_events, probe_get, probe_list, probe_results, probe_uptime
from probes.services import probe_regions


class ProbePagination(ExampleLinks, PageNumberPagination):
    example_count = examples.PROBES_COUNT
    example_next = examples.PROBES_NEXT


class ResultCursorPagination(ExampleLinks, TimeCursorPagination):
    # TimeCursorPagination's own ordering: newest checked_at first.
    example_next = examples.RESULTS_NEXT


class EventCursorPagination(ExampleLinks, TimeCursorPagination):
    ordering = ("-at", "-id")
    example_next = examples.EVENTS_NEXT


# Query parameter names that usually carry a credential: "api_key", "access_token", "X-Amz-Signature"...
_SECRET_PARAM = re.compile(r"token|key|secret|pass|pwd|sig|auth|credential|session", re.IGNORECASE)
REDACTED = "***"


def redact_target(target: str) -> str:
    """A probe target fit for the public API: a URL's credentials replaced by ``***``.

    The user and password of ``https://user:pass@host/`` go, and so do the values of query
    parameters whose names look secret (``?token=...``, ``?api_key=...``, in the query or the
    fragment); the rest is kept as written. A secret that is a bare path segment cannot be told
    from a path: name it in a parameter or keep it out of the target. Targets that are not URLs
    (host:port, host names) carry no credentials.
    """
    scheme, sep, rest = target.partition("://")
    if not sep:
        return target
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        authority = f"{REDACTED}@{authority.rpartition('@')[2]}"
    before_fragment, hash_sign, fragment = tail.partition("#")
    path, question, query = before_fragment.partition("?")
    if question:
        query = "&".join(_redact_parameter(p) for p in query.split("&"))
    if hash_sign:  # an OAuth-style fragment (#access_token=...) is read the same way
        fragment = "&".join(_redact_parameter(p) for p in fragment.split("&"))
    return f"{scheme}://{authority}{path}{question}{query}{hash_sign}{fragment}"


def _redact_parameter(parameter: str) -> str:
    name, equals, _ = parameter.partition("=")
    if equals and _SECRET_PARAM.search(unquote_plus(name)):
        return f"{name}={REDACTED}"
    return parameter


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
    target = serializers.SerializerMethodField(help_text="Credentials in a URL target are shown as ***.")
    interval_seconds = serializers.IntegerField()
    timeout_seconds = serializers.FloatField()
    failure_threshold = serializers.IntegerField()
    success_threshold = serializers.IntegerField()
    regions = serializers.SerializerMethodField()
    state = serializers.CharField()
    state_since = serializers.DateTimeField()

    def get_target(self, probe: Probe) -> str:
        return redact_target(probe.target)

    def get_regions(self, probe: Probe) -> list[str]:
        return probe_regions(probe)


class ProbeListApi(generics.ListAPIView):
    """Probes with their current state; `?service=` narrows to one service."""

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ProbeListFilter"

        service = StringField(required=False, max_length=64)

    serializer_class = ProbeSerializer
    pagination_class = ProbePagination

    def get_queryset(self) -> Any:
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return probe_list(service_slug=filters.validated_data.get("service"))

    @extend_schema(
        parameters=[OpenApiParameter("service", str, description="Service slug.")], examples=examples.PROBE_LIST
    )
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


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
    pagination_class = ResultCursorPagination

    def get_queryset(self) -> Any:
        probe = _probe_or_404(self.kwargs["probe_id"])
        window = TimeRangeSerializer(data=self.request.query_params)
        window.is_valid(raise_exception=True)
        return probe_results(probe=probe, **window.validated_data)

    @extend_schema(parameters=[TimeRangeSerializer], examples=examples.RESULT_LIST)
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


@extend_schema_view(get=extend_schema(examples=examples.EVENT_LIST))
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


class UptimeBucketSerializer(serializers.Serializer):
    class Meta:
        ref_name = "UptimeBucket"

    start = serializers.DateTimeField(help_text="Start of the bucket, UTC.")
    up = serializers.IntegerField(help_text="Checks, all regions together.")
    degraded = serializers.IntegerField()
    down = serializers.IntegerField()
    inconclusive = serializers.IntegerField(
        help_text="Our side could not tell (offline prober...); not in uptime_percent."
    )
    uptime_percent = serializers.FloatField(
        allow_null=True, help_text="Up or degraded among conclusive checks; null without any."
    )
    latency_p50_ms = serializers.IntegerField(
        allow_null=True,
        help_text="The highest hourly median of any region in the bucket (percentiles of different hours or "
        "regions cannot be merged, so this is an upper bound); null without conclusive checks.",
    )
    latency_p95_ms = serializers.IntegerField(
        allow_null=True, help_text="The highest hourly 95th percentile of any region in the bucket, as p50."
    )


class ProbeUptimeApi(APIView):
    """A probe's checks per hour or day, with uptime and latency, from the hourly rollups."""

    class FilterSerializer(BucketedWindowSerializer):
        class Meta:
            ref_name = "ProbeUptimeFilter"

        bucket = ChoiceField(choices=("1h", "1d"), default="1h", help_text="Bucket size.")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ProbeUptime"

        probe = serializers.IntegerField(help_text="The probe's id.")
        bucket = serializers.ChoiceField(choices=("1h", "1d"))
        since = serializers.DateTimeField(help_text="Start of the first bucket (since, aligned down).")
        until = serializers.DateTimeField(help_text="End of the last bucket (until, aligned up); exclusive.")
        buckets = UptimeBucketSerializer(
            many=True, help_text="Every bucket of the window in time order, empty ones too."
        )

    @extend_schema(
        description="Check outcomes per bucket from the hourly rollups (a day sums its hours); the hours not "
        "rolled up yet, normally the current one, are summarised from raw results. " + WINDOW_DOC + " " + BUCKET_DOC,
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, **error_responses(400, 404)},
        examples=examples.UPTIME,
    )
    def get(self, request: Request, probe_id: int) -> Response:
        probe = _probe_or_404(probe_id)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        buckets = probe_uptime(probe=probe, since=f["since"], until=f["until"], size=BUCKETS[f["bucket"]])
        body = {"probe": probe.pk, "bucket": f["bucket"], "since": f["since"], "until": f["until"]}
        return Response(self.OutputSerializer({**body, "buckets": buckets}).data)
