"""Evidence from outside the crowd that the detection tick reads: probes by quorum, official pages.

Loaded for many services at once (a batched tick reads them in a fixed number of queries,
whatever the number of services), then consulted minute by minute in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import OuterRef, Subquery

from probes.kinds import ProbeState
from probes.models import Probe, ProbeEvent
from statuspages.selectors import official_levels

# An official level is what the page says now: it speaks only for the last minutes of
# a tick, never for minutes replayed from further back.
OFFICIAL_FRESH = dt.timedelta(minutes=5)


class ProbeTimeline:
    """Whether any of a service's probes was down (by quorum) at a given minute, and its changes."""

    def __init__(self, names: dict[int, str], state: dict[int, str], events: list[ProbeEvent]) -> None:
        self.names = names  # probe id -> name, for the timeline
        self.state = state  # probe id -> its state by quorum as of the minute reached
        self.events = events  # changes by quorum in the tick's minutes, oldest first
        self._next = 0

    def advance(self, until: dt.datetime) -> list[ProbeEvent]:
        """Apply the probe changes before `until`; return them."""
        changed = []
        while self._next < len(self.events) and self.events[self._next].at < until:
            event = self.events[self._next]
            self.state[event.probe_id] = event.to_state
            changed.append(event)
            self._next += 1
        return changed

    @property
    def down(self) -> bool:
        return any(s == ProbeState.DOWN for s in self.state.values())


def probe_timelines(service_ids: Sequence[int], start: dt.datetime, end: dt.datetime) -> dict[int, ProbeTimeline]:
    """Each service's enabled probes over [start, end): their states by quorum at `start`, then their changes.

    Two queries whatever the number of services (one when none has a probe); every service given gets a
    timeline, an empty one without probes.
    """
    # The state at `start` is where the latest earlier change by quorum left it (unknown without one).
    before = ProbeEvent.objects.filter(probe=OuterRef("pk"), region="", at__lt=start).order_by("-at", "-id")
    probes = (
        Probe.objects.filter(service_id__in=service_ids, enabled=True)
        .annotate(before=Subquery(before.values("to_state")[:1]))
        .order_by()
        .values_list("id", "service_id", "name", "before")
    )
    names: dict[int, dict[int, str]] = {service_id: {} for service_id in service_ids}
    states: dict[int, dict[int, str]] = {service_id: {} for service_id in service_ids}
    owner: dict[int, int] = {}
    for probe_id, service_id, name, state in probes:
        names[service_id][probe_id] = name
        states[service_id][probe_id] = state or ProbeState.UNKNOWN
        owner[probe_id] = service_id
    events: dict[int, list[ProbeEvent]] = {service_id: [] for service_id in service_ids}
    if owner:
        changes = ProbeEvent.objects.filter(probe_id__in=owner, region="", at__gte=start, at__lt=end)
        for event in changes.order_by("at", "id"):
            events[owner[event.probe_id]].append(event)
    return {
        service_id: ProbeTimeline(names[service_id], states[service_id], events[service_id])
        for service_id in service_ids
    }


def official_levels_now(service_ids: Sequence[int], *, now: dt.datetime) -> dict[int, str | None]:
    """Each service's official status-page level now; None without a page or when its reading is stale."""
    states = official_levels(service_ids, now=now)
    levels: dict[int, str | None] = {}
    for service_id in service_ids:
        state = states.get(service_id)
        levels[service_id] = None if state is None or state.stale else str(state.level)
    return levels
