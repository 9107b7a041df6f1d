"""The verdict's evidence: reports, our checks, the official page, or two agreeing (reports.web.verdict, pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from reports.web.verdict import Evidence, ProbeVerdict, probe_verdict, service_verdict

SINCE = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], ProbeVerdict.NONE),
        (["unknown"], ProbeVerdict.NONE),
        (["up", "degraded"], ProbeVerdict.UP),
        (["up", "down"], ProbeVerdict.DOWN),
        (["unknown", "degraded"], ProbeVerdict.UP),
    ],
)
def test_any_probe_down_is_down_and_conclusive_others_are_up(states, expected) -> None:
    assert probe_verdict(states) == expected


def test_problems_confirmed_by_a_probe_down_rest_on_both() -> None:
    v = service_verdict(
        level="outage", since=SINCE, problems=[("payment", 40), ("server", 9), ("login", 2)], probe_states=["down"]
    )
    assert v.problems == ["payment", "server"]  # the two most reported, no more
    assert v.evidence == Evidence.BOTH and v.probes_confirm and not v.probes_disagree
    assert v.get_evidence_display() == "user reports and our checks"


def test_problems_while_our_checks_reach_the_service_rest_on_reports_and_say_so() -> None:
    v = service_verdict(level="possible", since=SINCE, problems=[("payment", 4), ("server", 0)], probe_states=["up"])
    assert v.problems == ["payment"]  # a problem nobody reported is not named
    assert v.evidence == Evidence.REPORTS and v.probes_disagree and not v.probes_confirm


def test_an_outage_opened_by_probes_alone_rests_on_them() -> None:
    v = service_verdict(level="outage", since=SINCE, problems=[], probe_states=["down"], outage_confidence="probe")
    assert v.evidence == Evidence.PROBES and v.probes_confirm


def test_quiet_reports_with_checks_up_agree_and_without_checks_rest_on_reports() -> None:
    assert service_verdict(level="ok", since=None, problems=[], probe_states=["up"]).evidence == Evidence.BOTH
    assert service_verdict(level="ok", since=None, problems=[], probe_states=[]).evidence == Evidence.REPORTS
    down = service_verdict(level="ok", since=None, problems=[], probe_states=["down"])
    assert down.evidence == Evidence.PROBES and not down.probes_confirm  # said apart: "but our checks find it down"


def test_a_confirmed_outage_stays_on_both_once_the_probe_recovers() -> None:
    v = service_verdict(
        level="outage", since=SINCE, problems=[("payment", 3)], probe_states=["up"], outage_confidence="confirmed"
    )
    assert v.evidence == Evidence.BOTH


def test_an_outage_opened_by_the_official_page_alone_rests_on_it() -> None:
    v = service_verdict(
        level="outage", since=SINCE, problems=[], probe_states=[], outage_confidence="official", outage_official=True
    )
    assert v.evidence == Evidence.OFFICIAL
    assert v.get_evidence_display() == "the official status page"


def test_reports_the_official_page_confirms_rest_on_both_of_them_not_on_our_checks() -> None:
    v = service_verdict(
        level="outage",
        since=SINCE,
        problems=[("payment", 12)],
        probe_states=["up"],
        outage_confidence="confirmed",
        outage_official=True,
    )
    assert v.evidence == Evidence.REPORTS_OFFICIAL
    assert v.get_evidence_display() == "user reports and the official status page"
    # Checks down now still lead: they are our own measurement, seen this minute.
    down = service_verdict(
        level="outage",
        since=SINCE,
        problems=[("payment", 12)],
        probe_states=["down"],
        outage_confidence="confirmed",
        outage_official=True,
    )
    assert down.evidence == Evidence.BOTH
