from __future__ import annotations

from django.apps import AppConfig


class StatusPagesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "statuspages"
    verbose_name = "Official status pages"

    def ready(self) -> None:
        from django.conf import settings

        from catalog.sections import Section, section_register
        from statuspages.catalog import StatusPageField, status_page_sync
        from statuspages.services import parse_endpoint

        for endpoint in settings.STATUSPAGES_ALLOWED_ADDRESSES:
            parse_endpoint(endpoint)  # a typo stops the process here, not every poll later

        section_register(
            Section(
                key="status_page",
                field=lambda: StatusPageField(required=False),
                sync=lambda service, spec: status_page_sync(service=service, spec=spec),
                empty=None,
            )
        )
