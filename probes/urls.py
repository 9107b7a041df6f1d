from __future__ import annotations

from django.urls import path

from probes import api

urlpatterns = [
    path("probes/", api.ProbeListApi.as_view(), name="probe-list"),
    path("probes/<int:probe_id>/results/", api.ProbeResultListApi.as_view(), name="probe-results"),
    path("probes/<int:probe_id>/events/", api.ProbeEventListApi.as_view(), name="probe-events"),
    path("probes/<int:probe_id>/uptime/", api.ProbeUptimeApi.as_view(), name="probe-uptime"),
]
