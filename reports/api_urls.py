from __future__ import annotations

from django.urls import path

from . import api

urlpatterns = [
    path("services/", api.ServiceListApi.as_view(), name="service-list"),
    path("services/<slug:slug>/", api.ServiceDetailApi.as_view(), name="service-detail"),
    path("services/<slug:slug>/reports/", api.ReportCreateApi.as_view(), name="report-create"),
]
