"""The backtest's CSV reader, over generated files (hypothesis): a result or a SeriesError, never a crash."""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.detection.series import MAX_VALUE, SPACE_FORMAT, SeriesError, read_series

FAST = settings(max_examples=40, deadline=None)


def read(content: bytes) -> tuple[list[dt.datetime], list[float]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "series.csv"
        path.write_bytes(content)
        series = read_series(path)
        return series.times, series.values


@FAST
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_bytes_are_read_or_refused_with_a_series_error(content):
    try:
        times, values = read(content)
    except SeriesError as exc:
        assert str(exc)
        return
    assert times == sorted(times)
    assert all(math.isfinite(v) and 0 <= v <= MAX_VALUE for v in values)


rows = st.lists(
    st.tuples(
        st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)),
        st.floats(min_value=0, max_value=MAX_VALUE) | st.integers(0, 10_000),
    ),
    min_size=1,
    max_size=50,
)


@FAST
@given(rows=rows, extra=st.booleans(), bom=st.booleans())
def test_well_formed_rows_come_back_sorted_by_time_with_their_values(rows, extra, bom):
    header = "timestamp,value" + (",note" if extra else "")
    lines = [f"{at.strftime(SPACE_FORMAT)},{value!r}" + (",x" if extra else "") for at, value in rows]
    content = ("\ufeff" if bom else "") + "\n".join([header, *lines]) + "\n"
    times, values = read(content.encode())
    expected = sorted(((at.replace(microsecond=0, tzinfo=dt.UTC), float(v)) for at, v in rows), key=lambda r: r[0])
    assert times == [at for at, _ in expected]
    assert sorted(values) == sorted(v for _, v in expected)


@FAST
@given(value=st.sampled_from(["nan", "inf", "-inf", "-5", "1e300", "12abc", "0x10", ""]))
def test_odd_values_are_zero_or_refused_by_line(value):
    try:
        _, values = read(f"timestamp,value\n2026-01-01 00:00:00,{value}\n".encode())
    except SeriesError as exc:
        assert ":2:" in str(exc)
        return
    assert values == [0.0]
