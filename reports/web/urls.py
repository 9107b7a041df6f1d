from __future__ import annotations

from django.urls import path

from reports.web import feeds, follow, views

app_name = "reports"

urlpatterns = [
    path("", views.home, name="home"),
    path("s/<slug:slug>/", views.service_page, name="service"),
    path("s/<slug:slug>/report/", views.report_post, name="report"),
    path("s/<slug:slug>/outages/<int:outage_id>/", views.outage_page, name="outage"),
    # Following outages: the list, feeds, badges, and a permalink that needs no slug.
    path("outages/", follow.outages_page, name="outages"),
    path("outages/feed.atom", feeds.outages_feed, name="outages_feed"),
    path("outages/<int:outage_id>/", follow.outage_permalink, name="outage_permalink"),
    path("s/<slug:slug>/feed.atom", feeds.service_feed, name="service_feed"),
    path("s/<slug:slug>/badge.svg", follow.badge, name="badge"),
]
