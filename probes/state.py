"""Probe state machines (pure: plain values in, plain values out).

One result never flips a probe. Each region counts four streaks, each the
number of latest consecutive conclusive results of one sort:

- ``failures``: down results;
- ``successes``: up results;
- ``degradations``: results that were not up (degraded or down);
- ``recoveries``: results that were not down (up or degraded).

A region's state moves only when a streak reaches a threshold
(F = failure_threshold, S = success_threshold):

- to DOWN, from any other state, after F down results in a row;
- to UP after S up results in a row (after one from UNKNOWN: nothing to
  damp yet);
- to DEGRADED from UP (or UNKNOWN) after F results in a row that were not
  up, when those were not all down: the service has not been healthy for
  as long as it takes to call it down, but has not been down that long;
- to DEGRADED from DOWN after S results in a row that were not down, when
  those were not all up: it answers again, but not well enough for UP.

So a result points away from UP if it is anything but up, and away from
DOWN if it is anything but down: a check alternating between down and slow
leaves UP for DEGRADED (it is never healthy, never down F times running),
one alternating between up and slow leaves DOWN for DEGRADED, and one
flapping between up and down never completes a streak and stays put.
DEGRADED itself is left only for DOWN (F down in a row) or UP (S up in a
row).

Inconclusive results (the prober offline, a refused target) change nothing,
not even the streaks. The probe's own state is a quorum of its regions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from probes.kinds import Outcome, ProbeState

_SEVERITY = {ProbeState.UP: 0, ProbeState.DEGRADED: 1, ProbeState.DOWN: 2}


@dataclass(frozen=True)
class RegionView:
    """A region's state and its streaks (see the module docstring)."""

    state: ProbeState
    failures: int = 0
    degradations: int = 0
    successes: int = 0
    recoveries: int = 0


def _streaks(current: RegionView, outcome: Outcome) -> RegionView:
    def extend(streak: int, counts: bool) -> int:
        return streak + 1 if counts else 0

    return replace(
        current,
        failures=extend(current.failures, outcome == Outcome.DOWN),
        successes=extend(current.successes, outcome == Outcome.UP),
        degradations=extend(current.degradations, outcome != Outcome.UP),
        recoveries=extend(current.recoveries, outcome != Outcome.DOWN),
    )


def _next_state(view: RegionView, *, failure_threshold: int, success_threshold: int) -> ProbeState:
    state = view.state
    if state != ProbeState.DOWN and view.failures >= failure_threshold:
        return ProbeState.DOWN
    needed_up = 1 if state == ProbeState.UNKNOWN else success_threshold
    if state != ProbeState.UP and view.successes >= needed_up:
        return ProbeState.UP
    if state in (ProbeState.UP, ProbeState.UNKNOWN) and view.degradations >= failure_threshold:
        return ProbeState.DEGRADED
    if state == ProbeState.DOWN and view.recoveries >= success_threshold:
        return ProbeState.DEGRADED
    return state


def region_next(current: RegionView, outcome: Outcome, *, failure_threshold: int, success_threshold: int) -> RegionView:
    """The region after one more result."""
    if outcome == Outcome.INCONCLUSIVE:
        return current
    view = _streaks(current, outcome)
    state = _next_state(view, failure_threshold=failure_threshold, success_threshold=success_threshold)
    return replace(view, state=state)


def streak_behind(before: ProbeState, after: RegionView) -> int:
    """How many latest results moved a region from ``before`` to its state in ``after``."""
    if after.state == ProbeState.DOWN:
        return after.failures
    if after.state == ProbeState.UP:
        return after.successes
    if after.state == ProbeState.DEGRADED:
        return after.recoveries if before == ProbeState.DOWN else after.degradations
    return 1


def quorum(states: Sequence[ProbeState]) -> ProbeState:
    """The probe's state from its regions' states: what a strict majority agrees on.

    The worst level L such that more than half of the regions are at L or
    worse: DOWN needs a majority down, DEGRADED a majority degraded-or-down,
    UP a majority known. Unknown regions count for nothing, so a probe with
    most regions silent is UNKNOWN rather than guessed.
    """
    n = len(states)
    if n == 0:
        return ProbeState.UNKNOWN
    for level in (ProbeState.DOWN, ProbeState.DEGRADED, ProbeState.UP):
        at_least = sum(1 for s in states if s in _SEVERITY and _SEVERITY[s] >= _SEVERITY[level])
        if at_least * 2 > n:
            return level
    return ProbeState.UNKNOWN


def quorum_of(region_states: Mapping[str, ProbeState], regions: Sequence[str]) -> ProbeState:
    """Quorum over the configured regions; a region that never reported is UNKNOWN."""
    return quorum([region_states.get(r, ProbeState.UNKNOWN) for r in regions])
