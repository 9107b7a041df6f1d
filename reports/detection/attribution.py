"""Upstream attribution: which provider (Cloudflare, a cloud region, a payment processor) likely caused an outage.

Pure: plain values in (episodes of trouble per service, the declared
dependency graph, probe-down spans, official status-page levels, `now`),
causes out. No ORM; reports/outages/attribution.py feeds it and stores the
result.

The scoring rule
----------------
An outage O of service S is weighed against each upstream U that S declares
in `depends_on` (the graph is the only source of candidates: an undeclared
provider is never blamed). Around O's start t, U earns points:

* co-occurrence: +1 for each *other* dependent of U whose trouble (an
  outage, or a "possible problems" spike) started within `co_window` of t,
  at most 3; +1 more when at least half of U's dependents (and two or
  more) are. (The "7 of 9 affected" shown also counts dependents that went
  down later during U's own trouble.) Dependents lag their upstream
  by a few minutes (their users must notice and report), so the window is
  wide enough for those lags and narrow enough that unrelated outages
  rarely fall in it together.
* U's own outage (its own crowd reports) that began in [t - lead, t + lag]:
  +2 at level outage, +1 at possible problems. `lead` is long because an
  upstream fails first and its dependents' reports take time to build up;
  `lag` lets U's own (usually small) crowd or probes be the slower ones.
* U's probes going down by quorum in that same span: +1.
* U's official status page, now (only for an outage still open or just
  over): degraded or maintenance +0.5, partial outage +2, major outage +3.

A dependent of U whose trouble is better explained by another upstream W
that S does not depend on (W scores higher around t) is no evidence for U:
when Cloudflare's dependents fall, a shop on both Cloudflare and AWS does not
make AWS look guilty for an AWS-only shop's unrelated outage.

U is the *likely* cause when it has at least `threshold` points (2): two
other dependents going down with S, or U's own outage, or its status page
reporting a partial or major outage are each enough alone; one coincident
dependent, a degraded page, or both together are not. The best-scoring upstream wins (ties:
more dependents affected, then the lower id). A likely cause becomes
*confirmed* when the upstream itself says so: its own outage at level
outage, or its official page at degraded or worse.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

OUTAGE = "outage"
POSSIBLE = "possible"


class CauseStatus(StrEnum):
    LIKELY = "likely"
    CONFIRMED = "confirmed"


# The levels of an official status page (the statuspages app's scale). A stale snapshot
# should be passed as "unknown": an old red page says nothing about now.
OFFICIAL_POINTS: dict[str, float] = {
    "operational": 0.0,
    "unknown": 0.0,
    # Many pages show some component "degraded" much of the time: worth little alone.
    "maintenance": 0.5,
    "degraded": 0.5,
    "partial_outage": 2.0,
    "major_outage": 3.0,
}
# Levels at which an upstream's page confirms it is the cause (maintenance alone does not).
OFFICIAL_CONFIRMS = frozenset({"degraded", "partial_outage", "major_outage"})
OFFICIAL_WORDS = {
    "operational": "operational",
    "maintenance": "under maintenance",
    "degraded": "degraded",
    "partial_outage": "partial outage",
    "major_outage": "major outage",
    "unknown": "unknown",
}


@dataclass(frozen=True)
class Params:
    # Other dependents whose trouble started this close to the outage's start co-occur with it.
    co_window: dt.timedelta = dt.timedelta(minutes=20)
    # An upstream's own trouble counts from this long before the dependent's outage opened...
    lead: dt.timedelta = dt.timedelta(minutes=30)
    # ... to this long after it (its own small crowd and its probes' thresholds may be slower).
    lag: dt.timedelta = dt.timedelta(minutes=10)
    # The official page is read now: it speaks only for outages open or over within this.
    official_recent: dt.timedelta = dt.timedelta(minutes=30)
    threshold: float = 2.0
    max_co_points: float = 3.0


@dataclass(frozen=True)
class Episode:
    """A service's trouble: an outage (with its id) or a spike that opened none (possible problems)."""

    service_id: int
    started_at: dt.datetime
    ended_at: dt.datetime | None = None  # None while it goes on
    level: str = OUTAGE  # "outage" or "possible"
    outage_id: int | None = None

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.started_at <= end and (self.ended_at is None or self.ended_at >= start)


@dataclass(frozen=True)
class Span:
    """When something held, [start, end); end None while it still holds (probes down, say)."""

    start: dt.datetime
    end: dt.datetime | None = None

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.start <= end and (self.end is None or self.end >= start)


@dataclass(frozen=True)
class Cause:
    """The likely cause of one outage, with the numbers behind it."""

    outage_id: int
    cause_id: int
    status: CauseStatus
    points: float
    affected: tuple[int, ...]  # dependents of the cause in trouble around then, this outage's service included
    dependents: int  # how many services declare the cause as an upstream
    upstream_outage_id: int | None = None
    upstream_outage_level: str | None = None
    upstream_probes_down: bool = False
    official_level: str | None = None
    lag_minutes: float | None = None  # median delay of the dependents' trouble after the upstream's own onset
    runners_up: tuple[tuple[int, float], ...] = field(default=())  # other upstreams that scored: (id, points)

    def evidence(self, names: Mapping[int, tuple[str, str]]) -> dict[str, Any]:
        """JSON-ready numbers, services named by `names` (id -> (slug, name)); what pages and the API show."""
        slug, name = names.get(self.cause_id, (str(self.cause_id), str(self.cause_id)))
        return {
            "cause": slug,
            "cause_name": name,
            "status": str(self.status),
            "points": self.points,
            "affected": len(self.affected),
            "dependents": self.dependents,
            "affected_services": sorted(names.get(s, (str(s), ""))[0] for s in self.affected),
            "upstream_outage": self.upstream_outage_id,
            "upstream_outage_level": self.upstream_outage_level,
            "upstream_probes_down": self.upstream_probes_down,
            "official_level": self.official_level,
            "lag_minutes": self.lag_minutes,
        }


def cause_text(evidence: Mapping[str, Any]) -> str:
    """ "Likely caused by Cloudflare (7 of 9 dependent services affected, Cloudflare's status page: major outage)".

    Built from stored evidence only, so it shortens instead of failing on an odd row.
    """
    name = str(evidence.get("cause_name") or evidence.get("cause") or "an upstream provider")
    head = "Caused by" if evidence.get("status") == CauseStatus.CONFIRMED else "Likely caused by"
    parts = []
    affected, dependents = evidence.get("affected"), evidence.get("dependents")
    if isinstance(affected, int) and isinstance(dependents, int) and dependents:
        parts.append(f"{affected} of {dependents} dependent service{'s' if dependents != 1 else ''} affected")
    if evidence.get("upstream_outage_level") == OUTAGE:
        parts.append(f"{name} itself has an outage")
    elif evidence.get("upstream_outage_level") == POSSIBLE:
        parts.append(f"possible problems at {name} itself")
    if evidence.get("upstream_probes_down"):
        parts.append(f"{name}'s probes down")
    official = evidence.get("official_level")
    if isinstance(official, str) and official in OFFICIAL_WORDS and official not in ("operational", "unknown"):
        parts.append(f"{name}'s status page: {OFFICIAL_WORDS[official]}")
    return f"{head} {name}" + (f" ({', '.join(parts)})" if parts else "")


def dependents_of(dependencies: Mapping[int, Collection[int]]) -> dict[int, set[int]]:
    """The graph turned around: upstream id -> ids of the services depending on it."""
    out: dict[int, set[int]] = defaultdict(set)
    for service, upstreams in dependencies.items():
        for upstream in upstreams:
            out[upstream].add(service)
    return out


def attribute(
    episodes: Iterable[Episode],
    *,
    dependencies: Mapping[int, Collection[int]],
    probes_down: Mapping[int, Sequence[Span]],
    official: Mapping[int, str],
    now: dt.datetime,
    params: Params | None = None,
) -> dict[int, Cause]:
    """The likely cause of each outage in `episodes` (by outage id); outages with none are left out.

    `dependencies` maps a service id to the ids of its upstreams, `probes_down`
    an upstream's id to the spans its probes were down by quorum, `official`
    an upstream's id to its status page's level now (absent: no page).
    """
    params = params or Params()
    episodes = list(episodes)
    by_service: dict[int, list[Episode]] = defaultdict(list)
    for episode in episodes:
        by_service[episode.service_id].append(episode)
    world = _World(by_service, dependencies, dependents_of(dependencies), probes_down, official, now)
    causes: dict[int, Cause] = {}
    for outage in episodes:
        if outage.outage_id is not None and (cause := _best(world, outage, outage.outage_id, params)):
            causes[outage.outage_id] = cause
    return causes


@dataclass(frozen=True)
class _World:
    by_service: Mapping[int, Sequence[Episode]]
    dependencies: Mapping[int, Collection[int]]
    reverse: Mapping[int, set[int]]
    probes_down: Mapping[int, Sequence[Span]]
    official: Mapping[int, str]
    now: dt.datetime


def _best(world: _World, outage: Episode, oid: int, params: Params) -> Cause | None:
    """The best-scoring upstream of the outage's service, if it reaches the threshold."""
    mine = set(world.dependencies.get(outage.service_id, ()))
    # How every upstream stands around this outage's start, ours or not, co-occurrence uncapped:
    # a dependent whose trouble a stronger upstream we do not depend on explains is no evidence.
    uncapped = replace(params, max_co_points=math.inf)
    standing = {u: _score(world, outage, oid, u, world.reverse[u], uncapped).points for u in world.reverse}
    scored = []
    for upstream in sorted(mine):
        dependents = world.reverse.get(upstream, set())
        explained = {
            d
            for d in dependents - {outage.service_id}
            if any(standing[w] > standing[upstream] for w in set(world.dependencies.get(d, ())) - mine)
        }
        cause = _score(world, outage, oid, upstream, dependents - explained, params)
        scored.append(replace(cause, dependents=len(dependents)))
    ranked = sorted(scored, key=lambda c: (-c.points, -len(c.affected), c.cause_id))
    if not ranked or ranked[0].points < params.threshold:
        return None
    return replace(ranked[0], runners_up=tuple((c.cause_id, c.points) for c in ranked[1:] if c.points > 0))


def _score(
    world: _World, outage: Episode, outage_id: int, upstream: int, dependents: set[int], params: Params
) -> Cause:
    """One upstream's points for one outage, counting only `dependents` as evidence."""
    by_service, probes_down, official, now = world.by_service, world.probes_down, world.official, world.now
    t = outage.started_at
    lo, hi = t - params.lead, t + params.lag
    # The upstream's own trouble counts when it *began* around then: a dependent failing an hour
    # into a long upstream incident is not blamed on it for that alone.
    own = [e for e in by_service.get(upstream, ()) if lo <= e.started_at <= hi]
    own_best = min(own, key=lambda e: (e.level != OUTAGE, e.started_at)) if own else None
    down = [s for s in probes_down.get(upstream, ()) if lo <= s.start <= hi]
    onsets = [e.started_at for e in own] + [s.start for s in down]
    onset = min(onsets) if onsets else None
    # For the numbers shown ("7 of 9 affected"), dependents going down at any time during the
    # upstream's own trouble count too; the points count only those near this outage's start.
    trouble_end = _latest_end([*(e.ended_at for e in own), *(s.end for s in down)], now) if onsets else None

    affected: dict[int, dt.datetime] = {outage.service_id: t}
    near: set[int] = {outage.service_id}
    for dependent in dependents:
        for e in by_service.get(dependent, ()):
            close = abs(e.started_at - t) <= params.co_window
            during = (
                onset is not None
                and trouble_end is not None
                and onset - params.co_window <= e.started_at <= trouble_end
            )
            if close:
                near.add(dependent)
            if close or during:
                affected[dependent] = min(affected.get(dependent, e.started_at), e.started_at)
    k, n = len(near), max(len(dependents), 1)
    points = min(k - 1, params.max_co_points) + (1.0 if k >= 2 and k / n >= 0.5 else 0.0)
    if own_best is not None:
        points += 2.0 if own_best.level == OUTAGE else 1.0
    if down:
        points += 1.0
    still_relevant = outage.ended_at is None or now - outage.ended_at <= params.official_recent
    level = official.get(upstream) if still_relevant else None
    points += OFFICIAL_POINTS.get(level or "unknown", 0.0)

    confirmed = (own_best is not None and own_best.level == OUTAGE) or level in OFFICIAL_CONFIRMS
    lags = [(at - onset) / dt.timedelta(minutes=1) for at in affected.values()] if onset is not None else []
    return Cause(
        outage_id=outage_id,
        cause_id=upstream,
        status=CauseStatus.CONFIRMED if confirmed else CauseStatus.LIKELY,
        points=points,
        affected=tuple(sorted(affected)),
        dependents=len(dependents),
        upstream_outage_id=own_best.outage_id if own_best is not None else None,
        upstream_outage_level=own_best.level if own_best is not None else None,
        upstream_probes_down=bool(down),
        official_level=level,
        lag_minutes=round(statistics.median(lags), 1) if lags else None,
    )


def _latest_end(ends: Sequence[dt.datetime | None], now: dt.datetime) -> dt.datetime:
    return now if any(e is None for e in ends) else max(e for e in ends if e is not None)
