"""Public web pages. They work without JavaScript: plain forms, POST-redirect-GET."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from .identity import client_ip
from .models import COMMENT_MAX_LENGTH, Channel, Service
from .selectors import report_counts, service_get, service_list, service_status
from .services import report_create
from .throttles import ReportRateThrottle


class ReportForm(forms.Form):
    issue_type = forms.CharField(max_length=32)
    comment = forms.CharField(max_length=COMMENT_MAX_LENGTH, required=False, widget=forms.Textarea)


def _service_or_404(slug: str) -> Service:
    service = service_get(slug=slug, with_issue_types=True)
    if service is None:
        raise Http404(f"No service {slug!r}.")
    return service


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").replace("\x00", "")[:100]
    return render(request, "reports/home.html", {"services": service_list(q=q), "q": q})


@require_GET
def service_page(request: HttpRequest, slug: str) -> HttpResponse:
    service = _service_or_404(slug)
    return _render_service(request, service, form=ReportForm())


def _render_service(request: HttpRequest, service: Service, *, form: ReportForm, status: int = 200) -> HttpResponse:
    context = {
        "service": service,
        "counts": report_counts(service=service),
        "current": service_status(service=service),
        "form": form,
    }
    return render(request, "reports/service.html", context, status=status)


@require_POST
def report_submit(request: HttpRequest, slug: str) -> HttpResponse:
    service = _service_or_404(slug)
    throttle = ReportRateThrottle()
    if not throttle.allow_request(request, None):
        seconds = throttle.retry_after()
        messages.error(request, f"Too many reports from your connection. Please try again in {seconds} seconds.")
        response = _render_service(request, service, form=ReportForm(), status=429)
        response["Retry-After"] = str(seconds)
        return response
    form = ReportForm(request.POST)
    if form.is_valid():
        try:
            report = report_create(
                service=service,
                issue_type_key=form.cleaned_data["issue_type"],
                comment=form.cleaned_data["comment"],
                channel=Channel.WEB,
                client=client_ip(request.META),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            label = report.issue_type.label.lower()
            if report.counted:
                messages.success(request, f"Thanks: your {label} problem with {service.name} was counted.")
            else:
                messages.info(
                    request,
                    f"Thanks: we noted your {label} problem. You reported {service.name} a few minutes ago, "
                    "so it was not counted again.",
                )
            return redirect("reports:service", slug=service.slug)
    return _render_service(request, service, form=form, status=400)
