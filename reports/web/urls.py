from __future__ import annotations

from django.urls import path

from reports.web import views

app_name = "reports"

urlpatterns = [
    path("", views.home, name="home"),
    path("s/<slug:slug>/", views.service_page, name="service"),
    path("s/<slug:slug>/report/", views.report_post, name="report"),
    path("s/<slug:slug>/outages/<int:outage_id>/", views.outage_page, name="outage"),
]
