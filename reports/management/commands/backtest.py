from __future__ import annotations

import csv
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.selectors import service_get
from reports.detection.detector import DetectedOutage, detect_series
from reports.selectors.status import service_minute_counts

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Reports per row: far above any real series, far below what overflows the detector's arithmetic.
MAX_VALUE = 1e9


def read_series(path: Path) -> tuple[list[dt.datetime], list[float]]:
    """Rows of `timestamp,value` (UTC, YYYY-MM-DD HH:MM:SS), sorted by time; bad rows are errors."""
    times: list[dt.datetime] = []
    values: list[float] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or {"timestamp", "value"} - {f.strip() for f in reader.fieldnames}:
                raise CommandError(f"{path}: the header must be 'timestamp,value'")
            for line, row in enumerate(reader, start=2):
                row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
                try:
                    at = dt.datetime.strptime(row["timestamp"], TIME_FORMAT).replace(tzinfo=dt.UTC)
                    value = float(row["value"]) if row["value"] else 0.0
                except ValueError as exc:
                    raise CommandError(f"{path}:{line}: {exc}") from None
                if math.isfinite(value) and value > MAX_VALUE:
                    raise CommandError(f"{path}:{line}: value {row['value'][:30]} is above {MAX_VALUE:g}")
                if not math.isfinite(value) or value < 0:
                    value = 0.0
                times.append(at)
                values.append(value)
    except OSError as exc:
        raise CommandError(f"{path}: cannot read: {exc}") from None
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path}: not UTF-8 text (byte {exc.start} of a line)") from None
    except csv.Error as exc:
        raise CommandError(f"{path}: not a CSV file: {exc}") from None
    if not times:
        raise CommandError(f"{path}: no rows")
    order = sorted(range(len(times)), key=times.__getitem__)
    return [times[i] for i in order], [values[i] for i in order]


def _fmt(at: dt.datetime | None) -> str | None:
    return at.strftime(TIME_FORMAT) if at else None


def _outage(o: DetectedOutage) -> dict[str, Any]:
    return {"start": _fmt(o.start), "end": _fmt(o.end), "peak": _fmt(o.peak), "level": o.level}


class Command(BaseCommand):
    help = (
        "Run the production detector causally over a count series (CSV timestamp,value or a service's "
        "own history) and print the outages it would have opened. Writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", type=Path, help="CSV with header timestamp,value (UTC).")
        parser.add_argument("--service", help="Backtest a service's own history from the database instead.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: Any, file: Path | None, service: str | None, **options: Any) -> None:
        if file is not None and service is None:
            times, values = read_series(file)
            interval = None
        elif service is not None and file is None:
            found = service_get(slug=service)
            if found is None:
                raise CommandError(f"no active service {service!r}")
            times, counts = service_minute_counts(service=found)
            if not times:
                raise CommandError(f"{service}: no history yet")
            values, interval = [float(c) for c in counts], 1.0
        else:
            raise CommandError("give a CSV file or --service SLUG (one of them)")
        result = detect_series(times, values, interval_minutes=interval)
        if options["json"]:
            document = {"alerts": [_fmt(a) for a in result.alerts], "outages": [_outage(o) for o in result.outages]}
            self.stdout.write(json.dumps(document))
            return
        self.stdout.write(
            f"{len(times)} rows from {_fmt(times[0])} to {_fmt(times[-1])}: {len(result.outages)} outage(s)"
        )
        self.stdout.write(f"{'start':<20} {'end':<20} {'peak':<20} {'peak count':>10}")
        for o in result.outages:
            self.stdout.write(
                f"{_fmt(o.start):<20} {_fmt(o.end) or 'open':<20} {_fmt(o.peak) or '-':<20} {o.peak_count:>10}"
            )
