"""REST API v1: services and report intake. Thin: validate, call a service or selector, shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import IssueType, Service
from catalog.selectors import service_get
from outagehub.api.choices import ChoiceField
from outagehub.api.errors import ErrorSerializer
from outagehub.api.examples import ExampleLinks
from outagehub.api.pagination import PageNumberPagination, TimeCursorPagination
from outagehub.api.serializers import StrictSerializer, StringField
from outagehub.metrics import report_counted
from reports.api import examples
from reports.api.fastpath import report_post_fast
from reports.detection.detector import Problem
from reports.intake.identity import client_ip
from reports.intake.services import IntakeUnavailable, ReportDraft, report_submit
from reports.intake.throttles import ReadRateThrottle, ReportRateThrottle, release_request
from reports.models import COMMENT_MAX_LENGTH, Channel, Level, NotCountedReason
from reports.selectors.status import (
    ReportCounts,
    ServiceStatus,
    report_counts,
    service_comments,
    service_list,
    service_problems,
    service_status,
)


def get_service_or_404(slug: str, *, with_issue_types: bool = False) -> Service:
    service = service_get(slug=slug, with_issue_types=with_issue_types)
    if service is None:
        raise exceptions.NotFound({"service": [f"No service with slug {slug!r}."]})
    return service


class IssueTypeSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named `label`: DRF's metaclass moves declared fields off the class


class ReportCountsSerializer(serializers.Serializer):
    last_15_minutes = serializers.IntegerField()
    last_24_hours = serializers.IntegerField()


class ProblemSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Problem"

    key = serializers.CharField()
    count = serializers.IntegerField()
    percent = serializers.FloatField()
    expected = serializers.FloatField()
    spiking = serializers.BooleanField(help_text="Far above this problem's usual share of reports.")


class ServicePagination(ExampleLinks, PageNumberPagination):
    # The example page: `?status=outage`, TikTok Shop alone.
    example_count = 1


class ServiceListApi(generics.ListAPIView):
    """Active services, by name; `?q=` searches names and slugs."""

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ServiceListFilter"

        q = serializers.CharField(required=False, allow_blank=True, max_length=100)
        status = ChoiceField(choices=Level.choices, required=False, allow_blank=True)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ServiceSummary"

        slug = serializers.CharField()
        name = serializers.CharField()
        homepage = serializers.CharField()
        description = serializers.CharField()
        status = serializers.ChoiceField(choices=Level.choices, source="current_status")

    serializer_class = OutputSerializer
    pagination_class = ServicePagination

    def get_queryset(self) -> Any:
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return service_list(q=filters.validated_data.get("q", ""), status=filters.validated_data.get("status", ""))

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Search in name and slug."),
            OpenApiParameter("status", str, enum=[c for c, _ in Level.choices], description="Only services in it."),
        ],
        examples=examples.SERVICE_LIST,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


@dataclass(frozen=True)
class ServiceDetail:
    """What the service detail shows: the service and its reads, as the OutputSerializer reads them."""

    slug: str
    name: str
    homepage: str
    description: str
    active_issue_types: list[IssueType]
    report_counts: ReportCounts
    current: ServiceStatus
    problems: list[Problem]


class ServiceDetailApi(APIView):
    """One service: its issue types and counted reports in the last 15 minutes and 24 hours."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ServiceDetail"

        slug = serializers.CharField()
        name = serializers.CharField()
        homepage = serializers.CharField()
        description = serializers.CharField()
        issue_types = IssueTypeSerializer(many=True, source="active_issue_types")
        reports = ReportCountsSerializer(source="report_counts", help_text="Counted reports in the trailing windows.")
        status = serializers.ChoiceField(
            choices=Level.choices, source="current.status", help_text="ok, possible (problems) or outage."
        )
        status_since = serializers.DateTimeField(source="current.status_since", allow_null=True)
        status_as_of = serializers.DateTimeField(
            source="current.as_of",
            allow_null=True,
            help_text="The end of the last minute the detector has analysed; null before its first run.",
        )
        status_stale = serializers.BooleanField(
            source="current.stale",
            help_text="True when that is more than 5 minutes ago (detection has stopped or fallen behind): "
            "`status` is then not current. `reports` counts stay live.",
        )
        window_minutes = serializers.IntegerField(source="current.window_minutes")
        expected = serializers.FloatField(
            source="current.expected", help_text="Counted reports expected over the last window_minutes closed minutes."
        )
        actual = serializers.IntegerField(source="current.actual", help_text="Counted reports over the same minutes.")
        band = serializers.ListField(
            child=serializers.IntegerField(),
            source="current.band",
            help_text="[low, high]: the range a quiet window of this length stays within (1st-99th percentile).",
        )
        problems = ProblemSerializer(many=True, help_text="Most reported problems in the window, by count.")

    @extend_schema(responses=OutputSerializer, examples=examples.SERVICE_DETAIL)
    def get(self, request: Request, slug: str) -> Response:
        service = get_service_or_404(slug, with_issue_types=True)
        detail = ServiceDetail(
            slug=service.slug,
            name=service.name,
            homepage=service.homepage,
            description=service.description,
            active_issue_types=service.active_issue_types,  # type: ignore[attr-defined]  # prefetched
            report_counts=report_counts(service=service),
            current=service_status(service=service),
            problems=service_problems(service=service),
        )
        return Response(self.OutputSerializer(detail).data)


class ReportCreateApi(APIView):
    """File a report: "I have a problem with this service"."""

    # Reads (an OPTIONS) under the read limit like any other view; reports under their own.
    throttle_classes = [ReadRateThrottle, ReportRateThrottle]
    # A report is under 1 KB; even 500 comment characters written as JSON surrogate-pair escapes stay under 8 KB.
    max_body_bytes = 8 * 1024

    class InputSerializer(StrictSerializer):
        class Meta:
            ref_name = "ReportInput"

        issue_type = StringField(max_length=32)
        comment = StringField(
            required=False, allow_blank=True, allow_null=True, max_length=COMMENT_MAX_LENGTH, default=""
        )
        country = StringField(
            required=False,
            allow_blank=True,
            allow_null=True,
            max_length=64,
            default="",
            help_text="ISO 3166-1 alpha-2; derived from the client address when absent.",
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReportCreated"

        id = serializers.IntegerField()
        service = serializers.CharField(source="service.slug")
        issue_type = serializers.CharField(source="issue_type.key")
        counted = serializers.BooleanField(help_text="Whether the report entered the counts.")
        not_counted_reason = serializers.ChoiceField(
            choices=NotCountedReason.choices,
            allow_null=True,
            help_text="Null when counted; `cooldown`: this reporter already reported the service within "
            "the cooldown (OUTAGEHUB_REPORT_COOLDOWN_SECONDS); `address_cap`: the client address already "
            "counts as many reporters as allowed (OUTAGEHUB_REPORTERS_PER_ADDRESS); `network_cap`: its network "
            "(an IPv4 /24, an IPv6 /48) does (OUTAGEHUB_REPORTERS_PER_NETWORK).",
        )
        counts_again_at = serializers.DateTimeField(
            allow_null=True,
            help_text="Null when counted; else when this reporter's cooldown for the service ends: its "
            "reports count again from then (with `address_cap`, if the address has room by then).",
        )
        created_at = serializers.DateTimeField()

    class QueuedSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReportQueued"

        service = serializers.CharField()
        issue_type = serializers.CharField()
        queued = serializers.BooleanField(help_text="Always true: stored and counted once the database is back.")
        created_at = serializers.DateTimeField(help_text="The report's time, kept when it is stored later.")

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # The common case (a valid report taken) skips DRF's per-request machinery: see fastpath.py.
        if request.method == "POST" and (fast := report_post_fast(request, kwargs["slug"])) is not None:
            return fast
        return super().dispatch(request, *args, **kwargs)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if not status.is_success(response.status_code):
            release_request(request)  # only reports taken count against the limit
        return response

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            202: OpenApiResponse(
                QueuedSerializer,
                description="The database is briefly unavailable: the report waits in the queue and is stored "
                "(and counted, or not, as at the time it was sent) within minutes. Not an error: do not resend it.",
            ),
            503: OpenApiResponse(
                ErrorSerializer,
                description="The database and the queue are both unavailable: retry after `Retry-After`.",
            ),
        },
        examples=examples.REPORT_CREATE,
    )
    def post(self, request: Request, slug: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            result = report_submit(
                slug=slug,
                issue_type_key=data["issue_type"],
                comment=data["comment"] or "",
                country=data["country"] or "",
                channel=Channel.API,
                client=client_ip(request.META),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except Service.DoesNotExist as exc:
            raise exceptions.NotFound({"service": [str(exc)]}) from None
        except IntakeUnavailable:
            raise ServiceUnavailable() from None
        if isinstance(result, ReportDraft):
            body = {"service": slug, "issue_type": result.issue_type, "queued": True, "created_at": result.created_at}
            return Response(self.QueuedSerializer(body).data, status=status.HTTP_202_ACCEPTED)
        report_counted(channel="api", counted=result.counted, reason=result.not_counted_reason)
        return Response(self.OutputSerializer(result).data, status=status.HTTP_201_CREATED)


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Reports cannot be taken right now; please retry in a minute."
    default_code = "unavailable"

    def __init__(self) -> None:
        super().__init__()
        self.wait = IntakeUnavailable.retry_after  # DRF sends it as Retry-After


class CommentPagination(ExampleLinks, TimeCursorPagination):
    ordering = ("-created_at", "-id")
    example_next = examples.COMMENTS_NEXT


@extend_schema_view(get=extend_schema(examples=examples.COMMENT_LIST))
class ServiceCommentListApi(generics.ListAPIView):
    """Visible comments people left with their reports, newest first; never who left them."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Comment"

        created_at = serializers.DateTimeField()
        issue_type = serializers.CharField(source="issue_type.key")
        comment = serializers.CharField()
        country = serializers.CharField(help_text="ISO 3166-1 alpha-2, empty if unknown.")

    serializer_class = OutputSerializer
    pagination_class = CommentPagination

    def get_queryset(self) -> Any:
        return service_comments(service=get_service_or_404(self.kwargs["slug"]))
