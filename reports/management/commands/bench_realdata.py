"""`manage.py bench_realdata`: the production detector on public, labelled real crowd series.

The Numenta Anomaly Benchmark's realTweets: 5-minute counts of tweets naming
ten companies (about 15,800 rows, eight weeks each), with labelled anomaly
windows. Tweets are chatter as well as trouble, so this measures what the
crowd alone makes the detector say: every alert here is an outage opened on
counts alone (no probes, no status page), as `manage.py backtest` reports it.
Scoring: reports/detection/scoring.py. The data is not in the repository:
missing files are fetched from a pinned commit into OUTAGEHUB_NAB_DIR
(./data/nab); without a network the benchmark says so and is skipped.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reports.detection.detector import detect_series
from reports.detection.scoring import PROBATION, Score, format_table, nab_windows, score_series, score_total
from reports.detection.series import SeriesError, read_series, regular_rows

# numenta/NAB at a fixed commit: the data and labels never move under the figures.
NAB_COMMIT = "07b379d95ac2d1137aaa0a84c63cf2cf2d6b40b8"
NAB_URL = f"https://raw.githubusercontent.com/numenta/NAB/{NAB_COMMIT}/"
COMPANIES = ("AAPL", "AMZN", "CRM", "CVS", "FB", "GOOG", "IBM", "KO", "PFE", "UPS")
LABELS = "labels/combined_windows.json"
SERIES = tuple(f"realTweets/Twitter_volume_{c}.csv" for c in COMPANIES)
FETCH_TIMEOUT = 30  # seconds per file (each is about 380 kB)


class FetchError(Exception):
    pass


def fetch(base_url: str, relative: str, into: Path) -> None:
    """Download base_url + relative to into/relative, atomically (a broken download leaves nothing)."""
    target = into / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(base_url + relative, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 (fixed https URL or the operator's)
            partial.write_bytes(response.read())
    except urllib.error.HTTPError as exc:
        partial.unlink(missing_ok=True)
        raise FetchError(f"{base_url + relative}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        partial.unlink(missing_ok=True)
        raise FetchError(f"{base_url + relative}: {getattr(exc, 'reason', exc)}") from None
    partial.replace(target)


class Command(BaseCommand):
    help = "Benchmark the detector on NAB's labelled real tweet-volume series (fetched once if missing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dir",
            dest="directory",
            type=Path,
            default=Path(os.environ.get("OUTAGEHUB_NAB_DIR", "data/nab")),
            help="Where the data is or goes (OUTAGEHUB_NAB_DIR, default ./data/nab).",
        )
        parser.add_argument("--base-url", default=os.environ.get("OUTAGEHUB_NAB_URL", NAB_URL))

    def handle(self, *args: Any, directory: Path, base_url: str, **options: Any) -> None:
        out = self.stdout.write
        missing = [r for r in (LABELS, *SERIES) if not (directory / r).is_file()]
        failed: list[str] = []
        if missing:
            out(f"fetching {len(missing)} file(s) of the NAB realTweets set into {directory}")
            for relative in missing:
                try:
                    fetch(base_url, relative, directory)
                except FetchError as exc:
                    failed.append(str(exc))
                    if len(failed) == 1 and relative == missing[0]:
                        break  # the first one failed: the source is unreachable, do not try ten times
        present = [r for r in SERIES if (directory / r).is_file()]
        if not (directory / LABELS).is_file() or not present:
            out(f"bench_realdata skipped: the data is not in {directory} and cannot be fetched ({failed[0]})")
            return
        if len(present) < len(SERIES):
            # Scoring the series that are here is still a measurement; say loudly that it is partial.
            out(
                f"PARTIAL: {len(present)} of {len(SERIES)} series present, the rest cannot be fetched "
                f"({failed[0] if failed else 'missing'}); the figures below are for these only"
            )
        labels = json.loads((directory / LABELS).read_text())
        started = time.perf_counter()
        scores: list[Score] = []
        rows = 0
        for relative in present:
            try:
                series = read_series(directory / relative)
            except SeriesError as exc:
                out(f"bench_realdata skipped: {exc}")
                return
            times, values, interval = regular_rows(series.times, series.values)
            result = detect_series(times, values, interval_minutes=interval)
            rows += len(times)
            name = Path(relative).stem.removeprefix("Twitter_volume_")
            scores.append(score_series(name, times, nab_windows(labels, relative), result.alerts))
        elapsed = time.perf_counter() - started
        out(f"NAB realTweets at {NAB_COMMIT[:7]}: {len(scores)} series, {rows:,} rows in {elapsed:.1f} s")
        out(
            f"scoring: alerts (outages opened) in the first {PROBATION:.0%} of each series are ignored; "
            "a window is detected if an alert falls in it; an alert outside every window is a false alarm"
        )
        out("")
        for line in format_table(scores):
            out(line)
        total = score_total(scores)
        out("")
        out(
            f"precision {total.precision:.0%}, recall {total.recall:.0%}, "
            f"{total.false_alarms_per_month:.2f} false alarms per series-month"
        )
