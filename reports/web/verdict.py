"""The service page's verdict: one sentence a visitor reads first, and the evidence behind it.

Pure: the detector's level, the most reported problems and the probes' states
in, a Verdict out. The template words it (translatable); the live script
(static/reports/live.js) words it the same way from the API's numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Evidence(models.TextChoices):
    """What a verdict rests on: people's reports, our own checks, the provider's status page, or two agreeing."""

    REPORTS = "reports", _("user reports")
    PROBES = "probes", _("our checks")
    BOTH = "both", _("user reports and our checks")
    OFFICIAL = "official", _("the official status page")
    REPORTS_OFFICIAL = "reports_official", _("user reports and the official status page")


class ProbeVerdict(models.TextChoices):
    """What the service's probes say against the reports."""

    NONE = "none", _("No checks")  # the service has no probe, or none has a conclusive state yet
    DOWN = "down", _("Checks find it down")
    UP = "up", _("Checks reach it")


# Problems named in the sentence ("users report payment and server issues"): more reads as a list, not a verdict.
PROBLEMS_NAMED = 2


@dataclass(frozen=True)
class Verdict:
    level: str  # ok, possible, outage (reports.models.Level)
    since: dt.datetime | None  # when the level began; None before the detector's first run
    problems: list[str]  # labels of the most reported problems, most first, at most PROBLEMS_NAMED
    probes: str  # ProbeVerdict
    evidence: str  # Evidence

    def get_evidence_display(self) -> str:
        return str(Evidence(self.evidence).label)

    @property
    def probes_confirm(self) -> bool:
        """Our checks agree with a problem: they find the service down while people report it."""
        return self.level != "ok" and self.probes == ProbeVerdict.DOWN

    @property
    def probes_disagree(self) -> bool:
        """Reports say problems but our checks reach the service (its users may still be stuck further in)."""
        return self.level != "ok" and self.probes == ProbeVerdict.UP


def probe_verdict(states: Sequence[str]) -> str:
    """DOWN if any probe is down (by quorum), UP if the others are up or degraded, NONE without a conclusive one."""
    if "down" in states:
        return ProbeVerdict.DOWN
    if any(state in ("up", "degraded") for state in states):
        return ProbeVerdict.UP
    return ProbeVerdict.NONE


def service_verdict(
    *,
    level: str,
    since: dt.datetime | None,
    problems: Sequence[tuple[str, int]],
    probe_states: Sequence[str],
    outage_confidence: str | None = None,
    outage_official: bool = False,
) -> Verdict:
    """The verdict from the detector's `level` and `since`, (label, count) problems, most first, and probe states.

    `outage_confidence` is the open outage's (reports.models.Confidence), if one is open: an
    outage opened by probes (or the official status page) alone rests on them even when reports
    are quiet. `outage_official` is its official_confirmed: the page said degraded or worse.
    Evidence: BOTH when reports and checks agree (a problem both see, or all quiet with
    checks reaching the service), PROBES when only checks see a problem, OFFICIAL when only the
    page does, REPORTS_OFFICIAL when reports and the page agree without checks, else REPORTS.
    """
    probes = probe_verdict(probe_states)
    named = [label for label, count in problems if count > 0][:PROBLEMS_NAMED]
    if level == "ok":
        evidence = Evidence.BOTH if probes == ProbeVerdict.UP else Evidence.REPORTS
        if probes == ProbeVerdict.DOWN:
            evidence = Evidence.PROBES
    elif probes == ProbeVerdict.DOWN:
        evidence = Evidence.PROBES if outage_confidence == "probe" and not named else Evidence.BOTH
    else:
        evidence = Evidence.PROBES if outage_confidence == "probe" else Evidence.REPORTS
        if outage_confidence == "official":
            evidence = Evidence.OFFICIAL
        elif outage_confidence == "confirmed" and outage_official:
            # The page is one of the two signals; our checks, not down now, are not shown as one.
            evidence = Evidence.REPORTS_OFFICIAL if named else Evidence.OFFICIAL
        elif outage_confidence == "confirmed":
            evidence = Evidence.BOTH
    return Verdict(level=level, since=since, problems=named, probes=probes, evidence=evidence)
