from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import server_error
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .api import error_body
from .health import healthz


@csrf_exempt  # changes nothing; without it a POST to an unknown /api/ path got the CSRF 403 page, in HTML
def api_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    return JsonResponse(error_body(message=f"No such endpoint: {request.path}", code="not_found"), status=404)


urlpatterns = [
    path("admin/", admin.site.urls),
    # Answered by HealthCheckMiddleware before routing; listed for reverse("healthz").
    path("healthz", healthz, name="healthz"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("reports.api_urls")),
    path("api/v1/", include("probes.urls")),
    # Unknown /api/ paths answer in JSON, whatever DEBUG says (even with a newline in the path: [\s\S], not .).
    re_path(r"^api/(?P<rest>[\s\S]*)$", api_not_found),
    path("", include("reports.urls")),
]


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(message="Internal error; it has been logged.", code="error"), status=500)
    return server_error(request)
