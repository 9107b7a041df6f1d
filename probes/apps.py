from __future__ import annotations

from django.apps import AppConfig


class ProbesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "probes"
    verbose_name = "Automated probes"

    def ready(self) -> None:
        from catalog.sections import Section, section_register
        from probes.catalog import ProbeListField, probes_sync

        section_register(
            Section(
                key="probes",
                field=lambda: ProbeListField(required=False),
                sync=lambda service, specs: probes_sync(service=service, specs=tuple(specs)),
            )
        )
