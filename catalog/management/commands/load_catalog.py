from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.loader import CatalogError, catalog_load, parse_catalog


class Command(BaseCommand):
    help = "Create or update services and their issue types from a catalog YAML file (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file}: cannot read: {exc}") from None
        try:
            specs = parse_catalog(text)
        except CatalogError as exc:
            raise CommandError(f"{file}: rejected, nothing was written:\n{exc}") from None
        try:
            result = catalog_load(specs)
        except CatalogError as exc:  # upstreams checked against the catalog already stored
            raise CommandError(f"{file}: rejected, nothing was written:\n{exc}") from None
        self.stdout.write(
            f"{file}: {len(result.created)} created, {len(result.updated)} updated, {len(result.unchanged)} unchanged"
        )
        for label, slugs in (("created", result.created), ("updated", result.updated)):
            if slugs:
                self.stdout.write(f"  {label}: {', '.join(slugs)}")
