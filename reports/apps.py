from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ReportsConfig(AppConfig):
    default = True  # the app's config; this module also holds OutageHubAdminConfig
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = "Services and reports"


class OutageHubAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site: failed logins are rate limited per client address."""

    default = False  # named in INSTALLED_APPS; not what "reports" means
    default_site = "reports.admin_site.OutageHubAdminSite"
