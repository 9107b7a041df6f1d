from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path, re_path
from django.views.defaults import server_error
from drf_spectacular.views import SpectacularAPIView

from .api import error_body
from .health import healthz


def api_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    return JsonResponse(error_body(message=f"No such endpoint: {request.path}", code="not_found"), status=404)


urlpatterns = [
    path("admin/", admin.site.urls),
    # Answered by HealthCheckMiddleware before routing; listed for reverse("healthz").
    path("healthz", healthz, name="healthz"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/", include("reports.api_urls")),
    path("api/v1/", include("probes.urls")),
    # Unknown /api/ paths answer in JSON, whatever DEBUG says.
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("", include("reports.urls")),
]


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(message="Internal error; it has been logged.", code="error"), status=500)
    return server_error(request)
