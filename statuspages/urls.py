from __future__ import annotations

from django.urls import path

from statuspages import api

urlpatterns = [
    path("services/<slug:slug>/status-page/", api.ServiceStatusPageApi.as_view(), name="service-status-page"),
]
