"""Count series from files, on a regular grid (pure apart from reading the file).

The detector takes one row per fixed interval. Files come at any interval
(1, 5, 30 minutes), with gaps, and sometimes irregular: rows are binned on
the grid of the most common spacing, starting at the first row; rows in the
same cell are added up; a cell without rows is a gap (no data), not zero.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reports.detection.detector import infer_interval

SPACE_FORMAT = "%Y-%m-%d %H:%M:%S"
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class SeriesError(ValueError):
    """A file that is not a count series, with the place and what is wrong."""


@dataclass
class Series:
    times: list[dt.datetime]  # UTC, ascending
    values: list[float]
    time_format: str = SPACE_FORMAT  # how the file wrote its times, to write ours alike

    def format(self, at: dt.datetime | None) -> str | None:
        return at.astimezone(dt.UTC).strftime(self.time_format) if at else None


def parse_time(text: str) -> dt.datetime:
    """`YYYY-MM-DD HH:MM:SS` (UTC) or ISO 8601 (`T`, `Z` or an offset; naive is UTC), as aware UTC."""
    try:
        at = dt.datetime.strptime(text, SPACE_FORMAT)
    except ValueError:
        at = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def read_series(path: Path) -> Series:
    """Rows of `timestamp,value` (other columns ignored), sorted by time; bad rows raise SeriesError."""
    times: list[dt.datetime] = []
    values: list[float] = []
    time_format = SPACE_FORMAT
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or {"timestamp", "value"} - {f.strip() for f in reader.fieldnames}:
                raise SeriesError(f"{path}: the header must be 'timestamp,value'")
            for line, row in enumerate(reader, start=2):
                row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
                try:
                    at = parse_time(row["timestamp"])
                    value = float(row["value"]) if row["value"] else 0.0
                except ValueError as exc:
                    raise SeriesError(f"{path}:{line}: {exc}") from None
                if not times and "T" in row["timestamp"]:
                    time_format = ISO_FORMAT
                if not math.isfinite(value) or value < 0:
                    value = 0.0
                times.append(at)
                values.append(value)
    except OSError as exc:
        raise SeriesError(f"{path}: cannot read: {exc}") from None
    if not times:
        raise SeriesError(f"{path}: no rows")
    order = sorted(range(len(times)), key=times.__getitem__)
    return Series([times[i] for i in order], [values[i] for i in order], time_format)


def regular_rows(
    times: Sequence[dt.datetime], values: Sequence[float], interval_minutes: float | None = None
) -> tuple[list[dt.datetime], list[float], float]:
    """Bin sorted rows on a fixed grid; returns the cell starts, their sums and the interval (minutes).

    The interval is the most common spacing unless given. Cells start at the
    first row, so a regular series comes back unchanged; empty cells are left
    out (a gap in the data).
    """
    if not times:
        return [], [], interval_minutes or 1.0
    interval = interval_minutes or infer_interval(list(times))
    step = dt.timedelta(minutes=interval)
    first = times[0]
    cells: list[dt.datetime] = []
    sums: list[float] = []
    for at, value in zip(times, values, strict=True):
        cell = first + step * math.floor((at - first) / step)
        if cells and cells[-1] == cell:
            sums[-1] += value
        else:
            cells.append(cell)
            sums.append(value)
    return cells, sums, interval
