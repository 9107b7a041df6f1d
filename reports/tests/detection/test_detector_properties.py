"""Detection invariants, as properties over generated series (hypothesis), through the public API only.

Written against `detect_series` and `Detector.update`/`to_state`/`from_state`, not the model's
internals, so they hold whatever the detector learns and however it tests significance.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.detection.detector import OK, OUTAGE, POSSIBLE, Detector, detect_series

RANK = {OK: 0, POSSIBLE: 1, OUTAGE: 2}
T0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday
MINUTE = dt.timedelta(minutes=1)
# Few examples, short series: these run with every `make test`.
FAST = settings(max_examples=30, deadline=None)

histories = st.lists(st.integers(min_value=0, max_value=60), min_size=0, max_size=400)


@FAST
@given(history=histories, count=st.integers(0, 200), more=st.integers(1, 500))
def test_more_reports_in_a_minute_never_lower_its_level(history, count, more):
    detector = Detector(1.0)
    for i, n in enumerate(history):
        detector.update(T0 + i * MINUTE, n)
    state = detector.to_state()
    at = T0 + len(history) * MINUTE
    fewer = Detector.from_state(state).update(at, count)
    greater = Detector.from_state(state).update(at, count + more)
    assert RANK[greater.level] >= RANK[fewer.level]
    assert RANK[greater.short_level] >= RANK[fewer.short_level]
    assert greater.p_value <= fewer.p_value + 1e-12


@FAST
@given(count=st.integers(0, 200), interval=st.sampled_from([1, 5, 15]))
def test_a_constant_series_is_its_own_baseline_and_never_alarms(count, interval):
    rows = 2 * 1440 // interval
    result = detect_series([T0 + i * interval * MINUTE for i in range(rows)], [count] * rows, interval_minutes=interval)
    assert result.alerts == [] and result.outages == []
    assert all(s.level != OUTAGE for s in result.steps)


@FAST
@given(baseline=st.lists(st.integers(0, 40), min_size=1, max_size=12), interval=st.sampled_from([15, 60]))
def test_a_series_equal_to_its_learned_baseline_never_alarms(baseline, interval):
    """The same daily shape every day (`baseline` spread over the day's hours), nine days of it.

    The first week it learns the shape (a jump at noon on day one may well be news: it has
    never seen a noon); from then on there is nothing to find.
    """
    rows = 9 * 1440 // interval
    times = [T0 + i * interval * MINUTE for i in range(rows)]
    hour_of_day = [(i * interval // 60) % 24 for i in range(rows)]
    values = [baseline[hour * len(baseline) // 24] for hour in hour_of_day]
    result = detect_series(times, values, interval_minutes=interval)
    learned = T0 + dt.timedelta(days=7)
    assert [at for at in result.alerts if at >= learned] == []
    assert all(s.level == OK for s in result.steps if s.at >= learned)


# Finite values are bounded: a count of 1e300 overflows the detector's arithmetic (reported;
# the backtest's CSV reader refuses such values by name instead).
values_as_read = st.one_of(st.floats(min_value=-1e9, max_value=1e9), st.just(float("nan")), st.just(float("inf")))


@FAST
@given(values=st.lists(values_as_read, min_size=1, max_size=200))
def test_any_values_even_nan_infinite_or_negative_give_a_result_not_an_error(values):
    times = [T0 + i * MINUTE for i in range(len(values))]
    result = detect_series(times, values)
    assert len(result.steps) == len(values)
    assert all(s.count >= 0 for s in result.steps)
