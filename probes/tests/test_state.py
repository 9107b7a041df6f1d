from __future__ import annotations

import pytest

from probes.kinds import Outcome, ProbeState
from probes.state import RegionView, quorum, quorum_of, region_next, streak_behind

UP, DEG, DOWN, INC = Outcome.UP, Outcome.DEGRADED, Outcome.DOWN, Outcome.INCONCLUSIVE


def run(outcomes, start=ProbeState.UNKNOWN, failure_threshold=3, success_threshold=2) -> list[ProbeState]:
    """The region's state after each outcome."""
    view, states = RegionView(start), []
    for outcome in outcomes:
        view = region_next(view, outcome, failure_threshold=failure_threshold, success_threshold=success_threshold)
        states.append(view.state)
    return states


def test_first_success_makes_an_unknown_probe_up():
    assert run([UP]) == [ProbeState.UP]


def test_down_needs_failure_threshold_consecutive_failures():
    assert run([DOWN, DOWN, DOWN], start=ProbeState.UP) == [ProbeState.UP, ProbeState.UP, ProbeState.DOWN]


def test_one_success_between_failures_resets_the_streak():
    assert run([DOWN, DOWN, UP, DOWN, DOWN], start=ProbeState.UP)[-1] == ProbeState.UP


def test_flapping_check_never_flips_the_state():
    assert set(run([DOWN, UP] * 10, start=ProbeState.UP)) == {ProbeState.UP}
    assert set(run([UP, DOWN] * 10, start=ProbeState.DOWN)) == {ProbeState.DOWN}


def test_down_and_slow_results_alternating_leave_up_for_degraded_not_down():
    # Never healthy, never down failure_threshold times in a row.
    states = run([DOWN, DEG] * 10, start=ProbeState.UP)
    assert states[:3] == [ProbeState.UP, ProbeState.UP, ProbeState.DEGRADED]
    assert set(states[2:]) == {ProbeState.DEGRADED}
    assert run([DEG, DOWN] * 10, start=ProbeState.UP)[-1] == ProbeState.DEGRADED


def test_up_and_slow_results_alternating_leave_down_for_degraded_not_up():
    states = run([UP, DEG] * 10, start=ProbeState.DOWN)
    assert states[:2] == [ProbeState.DOWN, ProbeState.DEGRADED]
    assert set(states[1:]) == {ProbeState.DEGRADED}
    assert run([DEG, UP] * 10, start=ProbeState.DOWN)[-1] == ProbeState.DEGRADED


def test_down_results_alone_reaching_the_threshold_go_down_whatever_came_before():
    # Three results that were not up: degraded; the third down in a row: down.
    assert run([DEG, DOWN, DOWN, DOWN], start=ProbeState.UP) == [
        ProbeState.UP,
        ProbeState.UP,
        ProbeState.DEGRADED,
        ProbeState.DOWN,
    ]
    # Degraded first, then down failure_threshold times in a row.
    assert run([DEG, DEG, DEG, DOWN, DOWN, DOWN], start=ProbeState.UP)[2:] == [ProbeState.DEGRADED] * 3 + [
        ProbeState.DOWN
    ]


def test_a_degraded_probe_needs_the_full_streak_to_go_up_or_down():
    assert run([UP, DEG, UP, DOWN, DOWN, UP], start=ProbeState.DEGRADED) == [ProbeState.DEGRADED] * 6
    assert run([UP, UP], start=ProbeState.DEGRADED)[-1] == ProbeState.UP
    assert run([DOWN, DOWN, DOWN], start=ProbeState.DEGRADED)[-1] == ProbeState.DOWN


def test_streak_behind_counts_the_results_that_moved_the_state():
    def after(outcomes, start):
        view = RegionView(start)
        for outcome in outcomes:
            view = region_next(view, outcome, failure_threshold=3, success_threshold=2)
        return view

    assert streak_behind(ProbeState.UP, after([UP, DOWN, DEG, DOWN], ProbeState.UP)) == 3
    assert streak_behind(ProbeState.DOWN, after([DOWN, UP, DEG], ProbeState.DOWN)) == 2
    assert streak_behind(ProbeState.UP, after([DOWN, DOWN, DOWN], ProbeState.UP)) == 3
    assert streak_behind(ProbeState.DOWN, after([UP, UP], ProbeState.DOWN)) == 2


def test_recovery_needs_success_threshold_consecutive_successes():
    assert run([UP, UP], start=ProbeState.DOWN) == [ProbeState.DOWN, ProbeState.UP]
    assert run([UP, UP, UP], start=ProbeState.DOWN, success_threshold=3)[-1] == ProbeState.UP
    assert run([UP, UP], start=ProbeState.DOWN, success_threshold=3)[-1] == ProbeState.DOWN


def test_one_slow_response_does_not_degrade():
    assert run([DEG, UP, DEG, UP], start=ProbeState.UP) == [ProbeState.UP] * 4
    assert run([DEG, DOWN, UP, DEG, UP], start=ProbeState.UP) == [ProbeState.UP] * 5
    assert run([DEG, DEG, DEG], start=ProbeState.UP)[-1] == ProbeState.DEGRADED


def test_degraded_results_recover_a_down_probe_to_degraded_after_success_threshold():
    assert run([DEG, DEG], start=ProbeState.DOWN) == [ProbeState.DOWN, ProbeState.DEGRADED]
    assert run([UP, UP], start=ProbeState.DEGRADED)[-1] == ProbeState.UP


def test_inconclusive_results_change_nothing_not_even_the_streak():
    view = RegionView(ProbeState.UP, failures=2)
    assert region_next(view, INC, failure_threshold=3, success_threshold=2) == view
    # DOWN, DOWN, (offline x5), DOWN is still three consecutive failures.
    assert run([DOWN, DOWN, INC, INC, INC, INC, INC, DOWN], start=ProbeState.UP)[-1] == ProbeState.DOWN
    assert run([INC] * 20) == [ProbeState.UNKNOWN] * 20


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], ProbeState.UNKNOWN),
        (["down"], ProbeState.DOWN),
        (["up", "down"], ProbeState.UP),  # one of two regions is not a majority
        (["down", "down"], ProbeState.DOWN),
        (["down", "down", "up"], ProbeState.DOWN),
        (["down", "up", "up"], ProbeState.UP),
        (["down", "degraded", "up"], ProbeState.DEGRADED),
        (["down", "unknown", "unknown"], ProbeState.UNKNOWN),
        (["up", "unknown", "unknown"], ProbeState.UNKNOWN),
        (["up", "up", "unknown"], ProbeState.UP),
        (["degraded", "degraded", "up"], ProbeState.DEGRADED),
    ],
)
def test_quorum_is_what_a_strict_majority_of_regions_agrees_on(states, expected):
    assert quorum([ProbeState(s) for s in states]) == expected


def test_quorum_counts_configured_regions_that_never_reported_as_unknown():
    assert quorum_of({"eu": ProbeState.DOWN}, ["eu", "us", "ap"]) == ProbeState.UNKNOWN
    assert quorum_of({"eu": ProbeState.DOWN, "us": ProbeState.DOWN}, ["eu", "us", "ap"]) == ProbeState.DOWN
    # A region no longer configured does not vote.
    assert quorum_of({"old": ProbeState.DOWN, "eu": ProbeState.UP}, ["eu"]) == ProbeState.UP
