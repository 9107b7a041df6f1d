"""The pure upstream attribution scorer (reports/detection/attribution.py)."""

from __future__ import annotations

import datetime as dt

from reports.detection.attribution import (
    CauseStatus,
    Episode,
    Params,
    Span,
    attribute,
    cause_text,
    dependents_of,
)

T = dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)
CDN, CLOUD, PAY = 100, 200, 300
# Nine shops behind the CDN; shops 1-3 also on the cloud region; shop 9 also pays through PAY.
SHOPS = list(range(1, 10))
GRAPH: dict[int, set[int]] = {s: {CDN} for s in SHOPS}
for s in (1, 2, 3):
    GRAPH[s].add(CLOUD)
GRAPH[9].add(PAY)
GRAPH[10] = {CLOUD}  # the cloud region's own customer, behind no CDN
NOW = T + 40 * MIN


def outage(service: int, minutes_after: float, *, oid: int | None = None, level: str = "outage", ended=None):
    return Episode(
        service_id=service,
        started_at=T + minutes_after * MIN,
        ended_at=ended,
        level=level,
        outage_id=oid if oid is not None else service * 1000,
    )


def run(episodes, *, probes=None, official=None, now=NOW, params=None):
    return attribute(
        episodes, dependencies=GRAPH, probes_down=probes or {}, official=official or {}, now=now, params=params
    )


def test_seven_of_nine_dependents_going_down_within_minutes_blames_their_common_upstream():
    lags = [2, 3, 4, 4, 6, 8, 11]
    episodes = [outage(s, lag) for s, lag in zip(SHOPS[:7], lags, strict=True)]

    causes = run(episodes)

    assert set(causes) == {s * 1000 for s in SHOPS[:7]}
    cause = causes[4000]
    assert (cause.cause_id, cause.status) == (CDN, CauseStatus.LIKELY)
    assert (len(cause.affected), cause.dependents) == (7, 9)
    # Shops 1-3 also depend on CLOUD, but only 3 of its dependents are down: the CDN explains more.
    assert causes[1000].cause_id == CDN
    assert causes[1000].runners_up and causes[1000].runners_up[0][0] == CLOUD
    assert cause.points == 3 + 1  # three others (capped) and more than half of the dependents


def test_an_unrelated_single_outage_gets_no_cause():
    assert run([outage(5, 0)]) == {}


def test_two_coincident_dependents_alone_are_not_enough():
    assert run([outage(5, 0), outage(6, 7)]) == {}


def test_three_coincident_dependents_are_enough():
    causes = run([outage(5, 0), outage(6, 7), outage(7, 12)])
    assert {c.cause_id for c in causes.values()} == {CDN}


def test_dependents_far_apart_in_time_do_not_co_occur():
    assert run([outage(5, 0), outage(6, 45), outage(7, 90)], now=T + 2 * dt.timedelta(hours=1)) == {}


def test_the_upstreams_own_outage_alone_makes_it_likely_and_at_level_outage_confirmed():
    own = outage(CDN, -3)
    causes = run([own, outage(5, 4)])

    cause = causes[5000]
    assert (cause.cause_id, cause.status) == (CDN, CauseStatus.CONFIRMED)
    assert (cause.upstream_outage_id, cause.upstream_outage_level) == (own.outage_id, "outage")
    assert cause.lag_minutes == 7.0
    assert CDN * 1000 not in causes  # the upstream declares no upstream of its own


def test_possible_problems_at_the_upstream_and_one_other_dependent_make_it_likely_not_confirmed():
    spike = Episode(service_id=CDN, started_at=T - 2 * MIN, level="possible")
    cause = run([spike, outage(5, 0), outage(6, 3)])[5000]
    assert (cause.cause_id, cause.status, cause.upstream_outage_level) == (CDN, CauseStatus.LIKELY, "possible")


def test_a_spike_without_an_outage_counts_as_an_affected_dependent_but_is_not_attributed():
    episodes = [outage(5, 0), outage(6, 2), Episode(service_id=7, started_at=T + 5 * MIN, level="possible")]
    causes = run(episodes)
    assert set(causes) == {5000, 6000}
    assert len(causes[5000].affected) == 3


def test_the_official_page_at_partial_outage_alone_attributes_and_confirms():
    cause = run([outage(9, 0)], official={PAY: "partial_outage"})[9000]
    assert (cause.cause_id, cause.status, cause.official_level) == (PAY, CauseStatus.CONFIRMED, "partial_outage")


def test_a_degraded_page_alone_is_not_enough_but_confirms_a_likely_cause():
    assert run([outage(9, 0)], official={PAY: "degraded"}) == {}
    causes = run([outage(7, 0), outage(8, 2), outage(9, 5)], official={CDN: "degraded"})
    assert causes[9000].status == CauseStatus.CONFIRMED and causes[9000].cause_id == CDN


def test_maintenance_or_degraded_with_one_coincident_dependent_is_not_enough_but_with_two_is_likely():
    assert run([outage(5, 0), outage(6, 3)], official={CDN: "maintenance"}) == {}
    cause = run([outage(5, 0), outage(6, 3), outage(7, 5)], official={CDN: "maintenance"})[5000]
    # Maintenance never confirms; a degraded page does.
    assert (cause.status, cause.official_level) == (CauseStatus.LIKELY, "maintenance")


def test_operational_and_unknown_pages_add_nothing():
    for level in ("operational", "unknown"):
        assert run([outage(5, 0), outage(6, 3)], official={CDN: level}) == {}


def test_the_current_official_level_says_nothing_about_an_outage_long_over():
    old = outage(9, -180, ended=T - 150 * MIN)
    assert run([old], official={PAY: "major_outage"}) == {}


def test_probes_going_down_just_before_add_a_point():
    probes = {CDN: [Span(T - 5 * MIN)]}
    cause = run([outage(5, 0), outage(6, 3)], probes=probes)[5000]
    assert cause.upstream_probes_down and cause.status == CauseStatus.LIKELY and cause.points == 2


def test_a_dependent_failing_long_into_an_upstream_incident_is_not_blamed_for_that_alone():
    own = outage(CDN, -5, oid=1)
    probes = {CDN: [Span(T - 5 * MIN)]}
    episodes = [own, outage(5, 0), outage(6, 3), outage(7, 70)]

    causes = run(episodes, probes=probes, now=T + 90 * MIN)

    assert set(causes) == {5000, 6000}
    # But the numbers shown count every dependent that went down during the CDN's trouble.
    assert len(causes[5000].affected) == 3 and causes[5000].lag_minutes == 8.0


def test_dependents_hit_through_a_stronger_upstream_are_no_evidence_against_another():
    # The CDN takes down shops 1-5; shops 1-3 are also on CLOUD. Shop 10, on CLOUD only, has an
    # unrelated outage at the same moment: CLOUD's "3 other dependents down" are the CDN's doing.
    episodes = [outage(s, lag) for s, lag in ((1, 2), (2, 3), (3, 3), (4, 4), (5, 6))] + [outage(10, 4)]

    causes = run(episodes)

    assert 10000 not in causes
    assert {causes[s * 1000].cause_id for s in (1, 2, 3, 4, 5)} == {CDN}


def test_an_undeclared_provider_is_never_blamed():
    # Shop 9 depends on PAY; PAY's major outage says nothing about shop 5, which does not.
    assert run([outage(5, 0)], official={PAY: "major_outage"}) == {}


def test_the_best_scoring_upstream_wins():
    causes = run([outage(1, 0), outage(2, 2)], official={CLOUD: "major_outage"})
    assert causes[1000].cause_id == CLOUD and causes[1000].status == CauseStatus.CONFIRMED


def test_a_stricter_threshold_is_honoured():
    episodes = [outage(5, 0), outage(6, 3), outage(7, 6)]
    assert run(episodes, params=Params(threshold=5)) == {}


def test_dependents_of_turns_the_graph_around():
    assert dependents_of({1: {CDN}, 2: {CDN, PAY}}) == {CDN: {1, 2}, PAY: {2}}


def test_evidence_and_sentence_give_the_numbers():
    causes = run([outage(s, i) for i, s in enumerate(SHOPS[:7])], official={CDN: "major_outage"})
    names = {CDN: ("cloudflare", "Cloudflare"), **{s: (f"shop-{s}", f"Shop {s}") for s in SHOPS}}

    evidence = causes[1000].evidence(names)

    assert evidence["cause"] == "cloudflare" and evidence["affected_services"][0] == "shop-1"
    assert cause_text(evidence) == (
        "Caused by Cloudflare (7 of 9 dependent services affected, Cloudflare's status page: major outage)"
    )
    assert cause_text({**evidence, "status": "likely", "official_level": None}) == (
        "Likely caused by Cloudflare (7 of 9 dependent services affected)"
    )
    assert cause_text({}) == "Likely caused by an upstream provider"
