"""Public web pages. They work without JavaScript: plain forms, POST-redirect-GET, charts drawn as inline SVG."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from catalog.models import Service
from catalog.selectors import service_dependencies, service_get
from outagehub.api.parsing import text_problem
from outagehub.metrics import report_counted
from outagehub.timebuckets import bucket_floor
from reports.intake.geo import country_name
from reports.intake.identity import client_ip
from reports.intake.services import DATABASE_DOWN, IntakeUnavailable, ReportDraft, report_submit
from reports.intake.throttles import ReportRateThrottle, release_request
from reports.models import COMMENT_MAX_LENGTH, Channel, Level, NotCountedReason, OutageStatus
from reports.selectors.outages import outages_recent, service_outage_get, service_outages
from reports.selectors.overview import service_overview
from reports.selectors.series import hourly_counts, report_series, service_issue_types
from reports.selectors.status import service_board, service_comments
from reports.web.charts import chart_window, problem_rows, report_chart, share_rows
from reports.web.history import chart_markers
from reports.web.probes import service_probe_rows
from reports.web.service_history import service_history
from reports.web.sparkline import sparkline
from reports.web.verdict import service_verdict

CHART_SPAN = dt.timedelta(hours=24)
CHART_BUCKET = dt.timedelta(minutes=15)  # the detector's time-of-day slot, so the baseline reads naturally
SPARK_BUCKET = dt.timedelta(hours=1)
PROBLEMS_SHOWN = 12  # services with problems given a sparkline on the home page (each costs a series read)
RECENT_OUTAGES_SPAN = dt.timedelta(days=7)
RECENT_OUTAGES_SHOWN = 6
HISTORY_DAYS = 90  # the outage history's bars, one per UTC day
HISTORY_READ = 500  # outages read for them: a service flapping all quarter still draws in one query
HISTORY_LISTED = 10  # the newest of them also listed in words
REGIONS_SPAN = dt.timedelta(hours=24)
COMMENTS_SHOWN = 5
PROBLEMS_WINDOW_MINUTES = 15


# An outage seen in 70 countries lists the first few; the rest is one "Other" row.
COUNTRIES_SHOWN = 10


# The honeypot: a text field people never see (hidden, out of the tab order and from screen
# readers) and form-filling bots do. A form that fills it gets the ordinary "thanks" redirect and
# nothing is stored or counted: the bot learns nothing, the counts stay clean.
HONEYPOT_FIELD = "website"
# A form of 500 characters of comment, each percent-encoded up to 12 bytes, and a CSRF token.
REPORT_MAX_BODY_BYTES = 8 * 1024


class ReportForm(forms.Form):
    issue_type = forms.CharField(max_length=32)
    comment = forms.CharField(max_length=COMMENT_MAX_LENGTH, required=False, widget=forms.Textarea)
    website = forms.CharField(required=False)  # HONEYPOT_FIELD

    def clean_comment(self) -> str:
        problem = text_problem(self.cleaned_data["comment"])  # NUL is refused by CharField already
        if problem:
            raise forms.ValidationError(problem)
        return self.cleaned_data["comment"]


def _service_or_404(slug: str, *, with_issue_types: bool = True) -> Service:
    service = service_get(slug=slug, with_issue_types=with_issue_types)
    if service is None:
        raise Http404(f"No service {slug!r}.")
    return service


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Problems right now (each with a 24-hour sparkline), every service, and the latest outages."""
    q = request.GET.get("q", "").replace("\x00", "")[:100]
    services = list(service_board(q=q))
    now = timezone.now()
    until = bucket_floor(now, SPARK_BUCKET) + SPARK_BUCKET
    # The board lists problems first, so these are all of them (up to PROBLEMS_SHOWN).
    problem_services = [s for s in services[:PROBLEMS_SHOWN] if s.current_status != Level.OK]  # type: ignore[attr-defined]
    counts = hourly_counts(service_ids=[s.pk for s in problem_services], since=until - CHART_SPAN, until=until)
    troubled = [(s, sparkline(counts[s.pk])) for s in problem_services]
    context = {
        "services": services,
        "troubled": troubled,
        "recent": [] if q else list(outages_recent(since=now - RECENT_OUTAGES_SPAN)[:RECENT_OUTAGES_SHOWN]),
        "q": q,
    }
    return render(request, "reports/home.html", context)


@require_safe
def service_page(request: HttpRequest, slug: str) -> HttpResponse:
    service = _service_or_404(slug)
    return _render_service(request, service, form=ReportForm())


def _render_service(request: HttpRequest, service: Service, *, form: ReportForm, status: int = 200) -> HttpResponse:
    now = timezone.now()
    # The last bucket is the current, partial quarter hour: the chart ends at "now".
    until = bucket_floor(now, CHART_BUCKET) + CHART_BUCKET
    minute = now.replace(second=0, microsecond=0)
    active_types = service.active_issue_types  # type: ignore[attr-defined]  # prefetched by service_get
    overview = service_overview(
        service=service,
        labels={t.pk: t.key for t in active_types},
        now=now,
        chart_since=until - CHART_SPAN,
        chart_until=until,
        chart_size=CHART_BUCKET,
        regions_since=minute - REGIONS_SPAN,
        regions_until=minute + dt.timedelta(minutes=1),
        problems_minutes=PROBLEMS_WINDOW_MINUTES,
    )
    problems = problem_rows(overview.problems, {t.key: t.label for t in active_types})
    current = overview.status
    probes = service_probe_rows(service=service, now=now)
    history = service_history(service=service, now=now, days=HISTORY_DAYS, limit=HISTORY_READ)
    open_outage = history.open_outage
    context = {
        "service": service,
        "counts": overview.counts,
        "current": current,
        "verdict": service_verdict(
            level=current.status,
            since=current.status_since,
            problems=[(row.label.lower(), row.count) for row in problems],
            probe_states=[p.state for p in probes],
            outage_confidence=open_outage.confidence if open_outage else None,
            outage_official=open_outage.official_confirmed if open_outage else False,
        ),
        "open_outage": open_outage,
        "chart": report_chart(overview.series, size=CHART_BUCKET),
        "problems": problems,
        "problems_window": PROBLEMS_WINDOW_MINUTES,
        "probes": probes,
        "regions": share_rows(
            {c.key or "??": c.count for c in overview.countries},
            {c.key or "??": c.label for c in overview.countries},
            limit=COUNTRIES_SHOWN,
        ),
        "regions_hours": int(REGIONS_SPAN.total_seconds() // 3600),
        "history": history.days,
        # The newest of them, listed in words, read whole.
        "outages": (
            service_outages(service=service, since=now - dt.timedelta(days=HISTORY_DAYS), limit=HISTORY_LISTED)
            if history.outages
            else []
        ),
        "history_days": HISTORY_DAYS,
        "comments": service_comments(service=service)[:COMMENTS_SHOWN],
        "form": form,
    }
    context["depends_on"], context["dependents"] = service_dependencies(service=service)
    return render(request, "reports/service.html", context, status=status)


@require_safe
def outage_page(request: HttpRequest, slug: str, outage_id: int) -> HttpResponse:
    service = _service_or_404(slug)
    outage = service_outage_get(service=service, outage_id=outage_id)
    if outage is None:
        raise Http404(f"No outage {outage_id} of {slug!r}.")
    now = timezone.now()
    since, until, size = chart_window(outage.started_at, outage.resolved_at or now, latest=now)
    series = report_series(service=service, since=since, until=until, size=size)
    labels = {key: t.label for key, t in service_issue_types(service=service).items()}
    # reports.detection.tick stores reports from an unknown country under "??".
    countries = {code: country_name(code) or "Unknown" for code in outage.countries}
    chart = report_chart(series, size=size, highlight=(outage.started_at, outage.resolved_at))
    events = list(outage.events.all())
    # Comments people left while it lasted (and in its last quarter hour of calm), newest first.
    comments = service_comments(service=service).filter(
        created_at__gte=outage.started_at, created_at__lte=outage.resolved_at or now
    )
    context = {
        "service": service,
        "outage": outage,
        "chart": chart,
        "markers": chart_markers(events, since=chart.since, until=chart.until, left=chart.left, right=chart.right),
        "issue_types": share_rows(outage.issue_types, labels),
        "countries": share_rows(outage.countries, countries, limit=COUNTRIES_SHOWN),
        "events": events,
        "labels": labels,
        "comments": comments[:COMMENTS_SHOWN],
        "form": ReportForm(),
        "live_window": "grow" if outage.status == OutageStatus.OPEN else "",  # its chart keeps growing to now
    }
    return render(request, "reports/outage.html", context)


@require_POST
def report_post(request: HttpRequest, slug: str) -> HttpResponse:
    """The report form's target: the report is stored, or queued while the database is down.

    A plain form post gets POST-redirect-GET back to the page it came from (`next`, a page of
    this service). The page's script posts the same form asking for JSON (Accept), and gets the
    same messages as JSON, so it confirms in place without a page load.
    """
    wants_json = "application/json" in request.headers.get("Accept", "")
    if int(request.META.get("CONTENT_LENGTH") or 0) > REPORT_MAX_BODY_BYTES:
        message = _("The report is larger than %(limit)s bytes.") % {"limit": REPORT_MAX_BODY_BYTES}
        if wants_json:
            return _json_answer(message, status=413)
        return HttpResponse(f"<!doctype html><title>{message}</title><h1>{message}</h1>", status=413)
    throttle = ReportRateThrottle()
    if not throttle.allow_request(request, None):
        seconds = throttle.retry_after()
        message = _("Too many reports from your connection. Please try again in %(seconds)s seconds.") % {
            "seconds": seconds
        }
        if wants_json:
            response: HttpResponse = _json_answer(message, status=429)
        else:
            response = _report_answer(request, slug, form=ReportForm(), status=429, error=message, retry_after=seconds)
        response["Retry-After"] = str(seconds)
        return response
    try:
        response = _report_take(request, slug, wants_json)
    except Http404:
        release_request(request)
        raise
    if response.status_code >= 400:
        release_request(request)  # only reports taken count against the limit
    return response


def _report_take(request: HttpRequest, slug: str, wants_json: bool) -> HttpResponse:
    form = ReportForm(request.POST)
    if request.POST.get(HONEYPOT_FIELD):  # a bot: the usual thanks, nothing stored
        message = _("Thanks: your problem report was received.")
        if wants_json:
            return _json_answer(message, status=200, kind="success", counted=False)
        messages.success(request, message)
        return redirect(_back_to(request, slug))
    if not form.is_valid():
        return _invalid(request, slug, form, wants_json)
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
        return _invalid(request, slug, form, wants_json)
    except IntakeUnavailable:
        response: HttpResponse
        if wants_json:
            response = _json_answer(_("OutageHub is briefly unavailable. Please try again in a minute."), status=503)
        else:
            response = render(request, "reports/deferred.html", {"unavailable": True}, status=503)
        response["Retry-After"] = str(IntakeUnavailable.retry_after)
        return response
    if isinstance(result, ReportDraft):
        if wants_json:
            message = _("Thanks: your report was received. It will be counted within a few minutes.")
            return _json_answer(message, status=202, kind="info")
        return render(request, "reports/deferred.html", {"slug": slug}, status=202)
    report_counted(channel="web", counted=result.counted, reason=result.not_counted_reason)
    message, kind = _taken_message(result)
    if wants_json:
        return _json_answer(message, status=200, kind=kind, counted=result.counted)
    messages.add_message(request, messages.SUCCESS if kind == "success" else messages.INFO, message)
    return redirect(_back_to(request, slug))


def _taken_message(result: Any) -> tuple[str, str]:
    """What a stored report's sender reads, and its kind ("success" when counted, else "info")."""
    names = {"label": result.issue_type.label.lower(), "service": result.service.name}
    if result.counted:
        return _("Thanks: your %(label)s problem with %(service)s was counted.") % names, "success"
    if result.not_counted_reason == NotCountedReason.NETWORK_CAP:
        text = _(
            "Thanks: we noted your %(label)s problem. Your network already counts as many people reporting "
            "%(service)s as it can, so it was not counted again."
        )
    elif result.not_counted_reason == NotCountedReason.ADDRESS_CAP:
        text = _(
            "Thanks: we noted your %(label)s problem. Your connection already counts as many people reporting "
            "%(service)s as it can, so it was not counted again."
        )
    else:
        text = _(
            "Thanks: we noted your %(label)s problem. You reported %(service)s a few minutes ago, "
            "so it was not counted again."
        )
    return text % names, "info"


def _back_to(request: HttpRequest, slug: str) -> str:
    """The page of this service the form was on (its `next`), else the service page."""
    target = request.POST.get("next", "")
    if target.startswith(f"/s/{slug}/") and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return target
    return str(reverse("reports:service", kwargs={"slug": slug}))


def _json_answer(message: str, *, status: int, kind: str = "error", **extra: Any) -> JsonResponse:
    return JsonResponse({"message": message, "kind": kind, **extra}, status=status)


def _invalid(request: HttpRequest, slug: str, form: ReportForm, wants_json: bool) -> HttpResponse:
    if wants_json:
        errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
        message = " ".join(" ".join(errs) for errs in errors.values())
        return JsonResponse({"message": message, "kind": "error", "errors": errors}, status=400)
    return _report_answer(request, slug, form=form, status=400)


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
