from __future__ import annotations

from django.urls import path

from . import api, api_outages, api_series, api_updates, api_webhooks

urlpatterns = [
    path("services/", api.ServiceListApi.as_view(), name="service-list"),
    path("services/<slug:slug>/", api.ServiceDetailApi.as_view(), name="service-detail"),
    path("services/<slug:slug>/reports/", api.ReportCreateApi.as_view(), name="report-create"),
    path("services/<slug:slug>/comments/", api.ServiceCommentListApi.as_view(), name="service-comments"),
    path("services/<slug:slug>/series/", api_series.ServiceSeriesApi.as_view(), name="service-series"),
    path("services/<slug:slug>/breakdown/", api_series.ServiceBreakdownApi.as_view(), name="service-breakdown"),
    path("services/<slug:slug>/timeline/", api_series.ServiceTimelineApi.as_view(), name="service-timeline"),
    path("outages/", api_outages.OutageListApi.as_view(), name="outage-list"),
    path("outages/<int:outage_id>/", api_outages.OutageDetailApi.as_view(), name="outage-detail"),
    path("outages/<int:outage_id>/updates/", api_updates.OutageUpdatesApi.as_view(), name="outage-updates"),
    path("webhooks/", api_webhooks.WebhookListApi.as_view(), name="webhook-list"),
    path("webhooks/<int:webhook_id>/", api_webhooks.WebhookDetailApi.as_view(), name="webhook-detail"),
    path(
        "webhooks/<int:webhook_id>/deliveries/",
        api_webhooks.WebhookDeliveriesApi.as_view(),
        name="webhook-deliveries",
    ),
]
