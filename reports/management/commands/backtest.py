"""`manage.py backtest`: what the product would have done over a count series.

JSON output (`--json`), times written as the input writes them (UTC):
    {"interval_minutes": 5.0,
     "alerts":   ["2015-03-14 18:02:53", ...],   # outages opened: what users are notified of
     "outages":  [{"start", "end", "peak", "level": "outage"}, ...],
     "possible": [{"start", "end", "peak", "level": "possible"}, ...]}
"possible" lists the stretches shown as "possible problems" that never became
an outage: nobody is notified of them. A file has no probes or status page, so
every alert here is the crowd alone being overwhelming (see the detector).
Rows at any fixed interval work; irregular rows are binned on the grid of the
most common spacing (reports/detection/series.py); an "end" of null is still open.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.selectors import service_get
from reports.detection.detector import DetectedOutage, detect_series
from reports.detection.series import Series, SeriesError, regular_rows
from reports.detection.series import read_series as read_series_file
from reports.selectors.status import service_minute_counts


def read_series(path: Path) -> Series:
    """The file's series, or a CommandError naming the file (and line) and what is wrong."""
    try:
        return read_series_file(path)
    except SeriesError as exc:
        raise CommandError(str(exc)) from None


def _episode(series: Series, o: DetectedOutage) -> dict[str, Any]:
    return {
        "start": series.format(o.start),
        "end": series.format(o.end),
        "peak": series.format(o.peak),
        "level": o.level,
    }


class Command(BaseCommand):
    help = (
        "Run the production detector causally over a count series (CSV timestamp,value or a service's "
        "own history) and print the outages it would have opened (alerts) and the possible-problem "
        "stretches it would have shown. Writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", type=Path, help="CSV with header timestamp,value (UTC).")
        parser.add_argument("--service", help="Backtest a service's own history from the database instead.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: Any, file: Path | None, service: str | None, **options: Any) -> None:
        if file is not None and service is None:
            series = read_series(file)
            interval = None
        elif service is not None and file is None:
            found = service_get(slug=service)
            if found is None:
                raise CommandError(f"no active service {service!r}")
            times, counts = service_minute_counts(service=found)
            if not times:
                raise CommandError(f"{service}: no history yet")
            series, interval = Series(times, [float(c) for c in counts]), 1.0
        else:
            raise CommandError("give a CSV file or --service SLUG (one of them)")
        times, values, interval = regular_rows(series.times, series.values, interval)
        result = detect_series(times, values, interval_minutes=interval)
        if options["json"]:
            document = {
                "interval_minutes": interval,
                "alerts": [series.format(a) for a in result.alerts],
                "outages": [_episode(series, o) for o in result.outages],
                "possible": [_episode(series, o) for o in result.possible],
            }
            self.stdout.write(json.dumps(document))
            return
        self.stdout.write(
            f"{len(series.times)} rows from {series.format(series.times[0])} to {series.format(series.times[-1])} "
            f"every {interval:g} min: {len(result.outages)} outage(s), {len(result.possible)} possible"
        )
        self.stdout.write(f"{'level':<9} {'start':<20} {'end':<20} {'peak':<20} {'peak count':>10}")
        for o in sorted(result.outages + result.possible, key=lambda o: o.start):
            self.stdout.write(
                f"{o.level:<9} {series.format(o.start):<20} {series.format(o.end) or 'open':<20} "
                f"{series.format(o.peak) or '-':<20} {o.peak_count:>10}"
            )
