from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import server_error
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from outagehub.api.errors import error_body
from outagehub.health import healthz, readyz


@csrf_exempt  # changes nothing; without it a POST to an unknown /api/ path got the CSRF 403 page, in HTML
def api_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    return JsonResponse(error_body(message=f"No such endpoint: {request.path}", code="not_found"), status=404)


class SchemaView(SpectacularAPIView):
    """The schema of the one API version under this path."""

    def _get_version_parameter(self, request: HttpRequest) -> None:
        # drf-spectacular would copy `?version=` into a response header (Content-Disposition),
        # where a newline or a NUL made a 500; there is one version here to describe anyway.
        return None


urlpatterns = [
    path(settings.OUTAGEHUB_ADMIN_PATH, admin.site.urls),  # "admin/" unless OUTAGEHUB_ADMIN_PATH says otherwise
    # Answered by HealthCheckMiddleware before routing; listed for reverse("healthz").
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("api/v1/schema/", SchemaView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the Content-Security-Policy forbids inline ones.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="reports/api/swagger_ui.html"),
        name="api-docs",
    ),
    path("api/v1/", include("reports.api.urls")),
    path("api/v1/", include("probes.urls")),
    path("api/v1/", include("statuspages.urls")),
    # Unknown /api/ paths answer in JSON, whatever DEBUG says (even with a newline in the path: [\s\S], not .).
    re_path(r"^api/(?P<rest>[\s\S]*)$", api_not_found),
    path("", include("reports.web.urls")),
]


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(message="Internal error; it has been logged.", code="error"), status=500)
    return server_error(request)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Bad requests Django refuses before any view (an unknown Host, a body too large, a bad charset).

    Not Django's own bad_request view: it reads the CSRF token, so a form body with a charset
    Django cannot decode raised again inside it and became a 500.
    """
    too_big = isinstance(exception, RequestDataTooBig)
    status = 413 if too_big else 400
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = f"The body is larger than {limit} bytes." if too_big else "Bad request."
    if request.path.startswith("/api/"):
        errors = {"body": [message]} if too_big else {}
        body = error_body(message=message, code="too_large" if too_big else "bad_request", errors=errors)
        return JsonResponse(body, status=status)
    return HttpResponse(f"<!doctype html><title>{message}</title><h1>{message}</h1>", status=status)
