"""Public web pages. They work without JavaScript: plain forms, POST-redirect-GET, charts drawn as inline SVG."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from catalog.models import Service
from catalog.selectors import service_dependencies, service_get
from outagehub.metrics import report_counted
from outagehub.timebuckets import bucket_floor
from reports.intake.geo import country_name
from reports.intake.identity import client_ip
from reports.intake.services import DATABASE_DOWN, IntakeUnavailable, ReportDraft, report_submit
from reports.intake.throttles import ReportRateThrottle
from reports.models import COMMENT_MAX_LENGTH, Channel, NotCountedReason
from reports.selectors.outages import service_outage_get, service_outages
from reports.selectors.series import report_series, service_issue_types
from reports.selectors.status import report_counts, service_board, service_comments, service_problems, service_status
from reports.web.charts import chart_window, problem_rows, report_chart, share_rows

CHART_SPAN = dt.timedelta(hours=24)
CHART_BUCKET = dt.timedelta(minutes=15)  # the detector's time-of-day slot, so the baseline reads naturally
HISTORY_SPAN = dt.timedelta(days=30)
HISTORY_LIMIT = 20
COMMENTS_SHOWN = 5
PROBLEMS_WINDOW_MINUTES = 15


# An outage seen in 70 countries lists the first few; the rest is one "Other" row.
COUNTRIES_SHOWN = 10


class ReportForm(forms.Form):
    issue_type = forms.CharField(max_length=32)
    comment = forms.CharField(max_length=COMMENT_MAX_LENGTH, required=False, widget=forms.Textarea)


def _service_or_404(slug: str, *, with_issue_types: bool = True) -> Service:
    service = service_get(slug=slug, with_issue_types=with_issue_types)
    if service is None:
        raise Http404(f"No service {slug!r}.")
    return service


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").replace("\x00", "")[:100]
    return render(request, "reports/home.html", {"services": service_board(q=q), "q": q})


@require_safe
def service_page(request: HttpRequest, slug: str) -> HttpResponse:
    service = _service_or_404(slug)
    return _render_service(request, service, form=ReportForm())


def _render_service(request: HttpRequest, service: Service, *, form: ReportForm, status: int = 200) -> HttpResponse:
    now = timezone.now()
    # The last bucket is the current, partial quarter hour: the chart ends at "now".
    until = bucket_floor(now, CHART_BUCKET) + CHART_BUCKET
    series = report_series(service=service, since=until - CHART_SPAN, until=until, size=CHART_BUCKET)
    labels = {t.key: t.label for t in service.active_issue_types}  # type: ignore[attr-defined]  # prefetched by service_get
    problems = service_problems(service=service, window_minutes=PROBLEMS_WINDOW_MINUTES)
    context = {
        "service": service,
        "counts": report_counts(service=service, now=now),
        "current": service_status(service=service),
        "chart": report_chart(series, size=CHART_BUCKET),
        "problems": problem_rows(problems, labels),
        "problems_window": PROBLEMS_WINDOW_MINUTES,
        "outages": service_outages(service=service, since=now - HISTORY_SPAN, limit=HISTORY_LIMIT),
        "history_days": HISTORY_SPAN.days,
        "comments": service_comments(service=service)[:COMMENTS_SHOWN],
        "form": form,
    }
    context["depends_on"], context["dependents"] = service_dependencies(service=service)
    return render(request, "reports/service.html", context, status=status)


@require_safe
def outage_page(request: HttpRequest, slug: str, outage_id: int) -> HttpResponse:
    service = _service_or_404(slug, with_issue_types=False)
    outage = service_outage_get(service=service, outage_id=outage_id)
    if outage is None:
        raise Http404(f"No outage {outage_id} of {slug!r}.")
    now = timezone.now()
    since, until, size = chart_window(outage.started_at, outage.resolved_at or now, latest=now)
    series = report_series(service=service, since=since, until=until, size=size)
    labels = {key: t.label for key, t in service_issue_types(service=service).items()}
    # reports.detection.tick stores reports from an unknown country under "??".
    countries = {code: country_name(code) or "Unknown" for code in outage.countries}
    context = {
        "service": service,
        "outage": outage,
        "chart": report_chart(series, size=size, highlight=(outage.started_at, outage.resolved_at)),
        "issue_types": share_rows(outage.issue_types, labels),
        "countries": share_rows(outage.countries, countries, limit=COUNTRIES_SHOWN),
        "events": outage.events.all(),
        "labels": labels,
    }
    return render(request, "reports/outage.html", context)


@require_POST
def report_post(request: HttpRequest, slug: str) -> HttpResponse:
    """The report form's target: the report is stored, or queued while the database is down."""
    throttle = ReportRateThrottle()
    if not throttle.allow_request(request, None):
        seconds = throttle.retry_after()
        message = f"Too many reports from your connection. Please try again in {seconds} seconds."
        response = _report_answer(request, slug, form=ReportForm(), status=429, error=message, retry_after=seconds)
        response["Retry-After"] = str(seconds)
        return response
    form = ReportForm(request.POST)
    if not form.is_valid():
        return _report_answer(request, slug, form=form, status=400)
    try:
        result = report_submit(
            slug=slug,
            issue_type_key=form.cleaned_data["issue_type"],
            comment=form.cleaned_data["comment"],
            channel=Channel.WEB,
            client=client_ip(request.META),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    except Service.DoesNotExist:
        raise Http404("No such service.") from None
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return _report_answer(request, slug, form=form, status=400)
    except IntakeUnavailable:
        response = render(request, "reports/deferred.html", {"unavailable": True}, status=503)
        response["Retry-After"] = str(IntakeUnavailable.retry_after)
        return response
    throttle.record(request)  # taken (stored or queued): only reports taken count against the limit
    if isinstance(result, ReportDraft):
        return render(request, "reports/deferred.html", {"slug": slug}, status=202)
    report_counted(channel="web", counted=result.counted, reason=result.not_counted_reason)
    label = result.issue_type.label.lower()
    if result.counted:
        messages.success(request, f"Thanks: your {label} problem with {result.service.name} was counted.")
    elif result.not_counted_reason == NotCountedReason.ADDRESS_CAP:
        messages.info(
            request,
            f"Thanks: we noted your {label} problem. Your connection already counts as many people reporting "
            f"{result.service.name} as it can, so it was not counted again.",
        )
    else:
        messages.info(
            request,
            f"Thanks: we noted your {label} problem. You reported {result.service.name} a few minutes ago, "
            "so it was not counted again.",
        )
    return redirect("reports:service", slug=slug)


def _report_answer(
    request: HttpRequest,
    slug: str,
    *,
    form: ReportForm,
    status: int,
    error: str = "",
    retry_after: int | None = None,
) -> HttpResponse:
    """A refused report shown on the service page, or, with the database down, on a plain page.

    The plain page needs no database: no base template, since its messages may live in the
    database-backed session.
    """
    try:
        service = _service_or_404(slug)
        if error:
            messages.error(request, error)
        return _render_service(request, service, form=form, status=status)
    except DATABASE_DOWN:
        context: dict[str, Any] = {"retry_after": retry_after} if retry_after is not None else {"form": form}
        return render(request, "reports/deferred.html", context, status=status)
