"""Probe state machines (pure: plain values in, plain values out).

One result never flips a probe. Each region keeps streak counters of
consecutive results of one kind; its state moves only when a streak
reaches a threshold:

- to DOWN after `failure_threshold` consecutive down results;
- to DEGRADED after `failure_threshold` consecutive degraded results (or
  `success_threshold` of them when recovering from DOWN);
- to UP after `success_threshold` consecutive up results when recovering
  from DOWN or DEGRADED, after one from UNKNOWN (nothing to damp yet).

Inconclusive results (the prober offline, a refused target) change nothing,
not even the streaks. The probe's own state is a quorum of its regions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from .models import Outcome, ProbeState

_SEVERITY = {ProbeState.UP: 0, ProbeState.DEGRADED: 1, ProbeState.DOWN: 2}


@dataclass(frozen=True)
class RegionView:
    state: ProbeState
    failures: int = 0
    degradations: int = 0
    successes: int = 0


def region_next(current: RegionView, outcome: Outcome, *, failure_threshold: int, success_threshold: int) -> RegionView:
    """The region after one more result."""
    if outcome == Outcome.INCONCLUSIVE:
        return current
    if outcome == Outcome.DOWN:
        view = replace(current, failures=current.failures + 1, degradations=0, successes=0)
        if view.failures >= failure_threshold:
            view = replace(view, state=ProbeState.DOWN)
    elif outcome == Outcome.DEGRADED:
        view = replace(current, failures=0, degradations=current.degradations + 1, successes=0)
        needed = success_threshold if current.state == ProbeState.DOWN else failure_threshold
        if view.degradations >= needed:
            view = replace(view, state=ProbeState.DEGRADED)
    else:
        view = replace(current, failures=0, degradations=0, successes=current.successes + 1)
        needed = 1 if current.state == ProbeState.UNKNOWN else success_threshold
        if view.successes >= needed:
            view = replace(view, state=ProbeState.UP)
    return view


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
