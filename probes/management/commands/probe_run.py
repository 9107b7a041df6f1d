from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from probes.models import Probe
from probes.runner import check_probe


class Command(BaseCommand):
    help = "Run probes' checks once, here, and print the results (nothing is stored). For debugging a probe."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("probe_id", nargs="?", type=int, help="The probe's id.")
        parser.add_argument("--service", help="Run every enabled probe of this service (slug).")

    def handle(self, *args: Any, probe_id: int | None, service: str | None, **options: Any) -> None:
        if (probe_id is None) == (service is None):
            raise CommandError("give a probe id or --service SLUG (one of them)")
        if probe_id is not None:
            probes = list(Probe.objects.filter(pk=probe_id).select_related("service"))
            if not probes:
                raise CommandError(f"no probe with id {probe_id}")
        else:
            probes = list(Probe.objects.filter(service__slug=service, enabled=True).select_related("service"))
            if not probes:
                raise CommandError(f"no enabled probe for service {service!r}")
        for probe in probes:
            result = check_probe(probe)
            latency = f"{result.latency_ms} ms" if result.latency_ms is not None else "-"
            status = f" HTTP {result.status_code}" if result.status_code else ""
            error = f" [{result.error}]" if result.error else ""
            self.stdout.write(
                f"#{probe.pk} {probe} ({probe.kind} {probe.target}): {result.outcome.upper()}{status} "
                f"in {latency}{error} {result.message}".rstrip()
            )
