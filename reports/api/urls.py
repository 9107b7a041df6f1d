from __future__ import annotations

from django.urls import path

from reports.api import outages, reports, series, updates, webhooks

urlpatterns = [
    path("services/", reports.ServiceListApi.as_view(), name="service-list"),
    path("services/<slug:slug>/", reports.ServiceDetailApi.as_view(), name="service-detail"),
    path("services/<slug:slug>/reports/", reports.ReportCreateApi.as_view(), name="report-create"),
    path("services/<slug:slug>/comments/", reports.ServiceCommentListApi.as_view(), name="service-comments"),
    path("services/<slug:slug>/series/", series.ServiceSeriesApi.as_view(), name="service-series"),
    path("services/<slug:slug>/breakdown/", series.ServiceBreakdownApi.as_view(), name="service-breakdown"),
    path("services/<slug:slug>/timeline/", series.ServiceTimelineApi.as_view(), name="service-timeline"),
    path("outages/", outages.OutageListApi.as_view(), name="outage-list"),
    path("outages/<int:outage_id>/", outages.OutageDetailApi.as_view(), name="outage-detail"),
    path("outages/<int:outage_id>/updates/", updates.OutageUpdatesApi.as_view(), name="outage-updates"),
    path("webhooks/", webhooks.WebhookListApi.as_view(), name="webhook-list"),
    path("webhooks/<int:webhook_id>/", webhooks.WebhookDetailApi.as_view(), name="webhook-detail"),
    path(
        "webhooks/<int:webhook_id>/deliveries/",
        webhooks.WebhookDeliveriesApi.as_view(),
        name="webhook-deliveries",
    ),
]
