"""Read a status page here and print what we make of it, storing nothing (debugging a catalog entry)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from statuspages.catalog import endpoint_url
from statuspages.fetcher import FetchOutcome
from statuspages.kinds import PageKind
from statuspages.models import StatusPage
from statuspages.services import status_page_read


class Command(BaseCommand):
    help = "Fetch and read a service's official status page (or any URL with --kind); stores nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", help="A service slug, or a URL with --kind.")
        parser.add_argument("--kind", choices=PageKind.values, help="The page's kind, for a URL.")

    def handle(self, *args: Any, target: str, kind: str | None, **options: Any) -> None:
        if kind:
            page = StatusPage(kind=kind, url=endpoint_url(kind, target))
        else:
            found = StatusPage.objects.filter(service__slug=target).first()
            if found is None:
                raise CommandError(f"{target!r} has no status page; give a URL and --kind.")
            page = StatusPage(kind=found.kind, url=found.url)  # unsaved: no validators, a full fetch
        fetched, snapshot = status_page_read(page, now=timezone.now())
        self.stdout.write(f"{page.kind} {page.url}: {fetched.outcome} HTTP {fetched.status_code} {fetched.error}")
        if fetched.outcome != FetchOutcome.OK or snapshot is None:
            return
        self.stdout.write(f"level: {snapshot.level}" + (f" ({snapshot.reason})" if snapshot.reason else ""))
        for component in snapshot.components:
            self.stdout.write(f"  component {component.name}: {component.level}")
        for incident in snapshot.incidents:
            state = "open" if incident.open else "closed"
            self.stdout.write(
                f"  incident {incident.provider_id} [{state}, {incident.status}, {incident.level}] {incident.title}"
            )
