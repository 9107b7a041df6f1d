"""The quiet band of a bucket of minutes: as wide as sums of such minutes really spread."""

from __future__ import annotations

import numpy as np

from reports.detection.detector import bands
from reports.selectors.series import bucket_dispersion


def test_a_15_minute_band_holds_about_98_percent_of_quiet_sums_of_independent_minutes():
    rng = np.random.default_rng(3)
    means = rng.uniform(1.0, 4.0, size=15)  # a time-of-day curve within the quarter hour
    dispersion = 0.6  # per minute, as a bursty service's detector might estimate
    size = 1.0 / dispersion
    sums = sum(rng.negative_binomial(size, size / (size + m), size=20_000) for m in means)
    expected = float(means.sum())
    spread = float(sum(dispersion * m * m for m in means))
    ((low, high),) = bands([expected], [bucket_dispersion(expected, spread)])
    inside = np.mean((sums >= low) & (sums <= high))
    assert 0.96 <= inside <= 0.995, (low, high, inside)
    # The largest minute's dispersion applied to the whole sum (the old band) is far wider.
    ((_, old_high),) = bands([expected], [dispersion])
    assert old_high > 1.8 * high


def test_a_bucket_without_expectation_has_no_dispersion():
    assert bucket_dispersion(0.0, 0.0) == 0.0
