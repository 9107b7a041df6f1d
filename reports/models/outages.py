"""Rollups, detector state, outages and their timelines."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone

from catalog.models import IssueType, Service


class Level(models.TextChoices):
    """A service's status from reports, as the best peers show it."""

    OK = "ok", "No problems"
    POSSIBLE = "possible", "Possible problems"
    OUTAGE = "outage", "Outage"


class ReportMinute(models.Model):
    """Counted reports of one service and issue type in one UTC minute.

    Rebuilt from raw reports by an idempotent task: recomputing a minute
    gives the same number, and a late report lands in its own minute.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    issue_type = models.ForeignKey(IssueType, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "issue_type", "minute"], name="report_minute_unique"),
        ]
        indexes = [models.Index(fields=["service", "minute"], name="report_minute_service_time")]

    def __str__(self) -> str:
        return f"{self.service_id}:{self.issue_type_id} {self.minute:%Y-%m-%d %H:%M} = {self.count}"


class CountryHour(models.Model):
    """Counted reports of one service from one country in one UTC hour (the region breakdown)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    country = models.CharField(max_length=2, blank=True)
    hour = models.DateTimeField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "country", "hour"], name="country_hour_unique"),
        ]
        # Reads take a service's hours by range, all countries: the unique index, country before
        # hour, cannot bound that range, so a day's breakdown scanned the service's whole history.
        indexes = [models.Index(fields=["service", "hour"], name="country_hour_service_time")]

    def __str__(self) -> str:
        return f"{self.service_id}:{self.country or '??'} {self.hour:%Y-%m-%d %H}h = {self.count}"


class CountryMinute(models.Model):
    """Counted reports of one service from one country in one UTC minute: the ledger behind CountryHour.

    A rollup refresh compares a minute's fresh count with its row here and moves
    only the difference into the hour's CountryHour row, so each tick touches
    the reports of the minutes it re-reads, not of the whole hour. Invariant: an
    hour that has rows here has CountryHour rows equal to the sums of them.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    country = models.CharField(max_length=2, blank=True)
    minute = models.DateTimeField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # (service, minute) first: the refresh reads a service's minutes by range.
            models.UniqueConstraint(fields=["service", "minute", "country"], name="country_minute_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id}:{self.country or '??'} {self.minute:%Y-%m-%d %H:%M} = {self.count}"


class ServiceMinute(models.Model):
    """What the detector saw and expected for one service in one minute (all issue types)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    count = models.PositiveIntegerField()
    expected = models.FloatField(help_text="Expected counted reports in this minute.")
    dispersion = models.FloatField(default=0.0, help_text="Negative-binomial 1/size: variance = m + d*m^2.")
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.OK)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["service", "minute"], name="service_minute_unique")]

    def __str__(self) -> str:
        return f"{self.service_id} {self.minute:%Y-%m-%d %H:%M}: {self.count} vs {self.expected:.2f}"


class DetectorState(models.Model):
    """The online detector of one service: its learned baseline and where it stands.

    `last_minute` is the last closed minute processed; a tick locks this row
    and processes the minutes after it in order, so two workers never run a
    minute twice and a stopped worker's missed minutes are caught up.
    """

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="detector")
    last_minute = models.DateTimeField(null=True, blank=True)
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.OK)
    level_since = models.DateTimeField(default=timezone.now)
    state = models.JSONField(default=dict, help_text="Detector and tracker state (reports.detection.detector).")

    def __str__(self) -> str:
        return f"{self.service_id}: {self.level} up to {self.last_minute}"


class OutageStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Confidence(models.TextChoices):
    """What an outage rests on: its evidence (reports, probes, the official status page), by outage_confidence."""

    CONFIRMED = "confirmed", "Confirmed (two or more signals)"
    CROWD = "crowd", "Crowd reports"
    PROBE = "probe", "Probes"
    OFFICIAL = "official", "Official status page"


def outage_confidence(*, reports: bool, probes: bool, official: bool) -> Confidence:
    """Two or more independent signals confirm; one alone is named, our own probes before the provider's word."""
    if reports + probes + official >= 2:
        return Confidence.CONFIRMED
    if probes:
        return Confidence.PROBE
    if official:
        return Confidence.OFFICIAL
    return Confidence.CROWD


class UpdateState(models.TextChoices):
    """The conventional states of a service team's status update."""

    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


class CauseStatus(models.TextChoices):
    """How sure we are that an upstream caused an outage (reports/detection/attribution.py)."""

    LIKELY = "likely", "Likely"
    CONFIRMED = "confirmed", "Confirmed by the upstream"


class Outage(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="outages")
    status = models.CharField(max_length=8, choices=OutageStatus.choices, default=OutageStatus.OPEN)
    confidence = models.CharField(max_length=10, choices=Confidence.choices)
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.OUTAGE)
    started_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    # When reports (and probes) were back to normal: the outage's real end. resolved_at comes
    # later, once that calm has held long enough to be sure (the detector's hysteresis).
    ended_at = models.DateTimeField(null=True, blank=True)
    # When the service's team first posted a status update (reports.api.updates).
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # The state of the team's latest update. The team's word, shown beside the evidence: a
    # "resolved" here does not close the outage, which closes when reports and probes say so.
    team_state = models.CharField(max_length=16, choices=UpdateState.choices, blank=True)
    peak_at = models.DateTimeField(null=True, blank=True)
    peak_count = models.PositiveIntegerField(default=0, help_text="Counted reports in the peak minute.")
    peak_expected = models.FloatField(default=0.0)
    # Counted reports during the outage by issue type key and by country.
    issue_types = models.JSONField(default=dict)
    countries = models.JSONField(default=dict)
    reports_confirmed = models.BooleanField(default=False, help_text="Reports reached the outage level.")
    probes_confirmed = models.BooleanField(default=False, help_text="A probe was down by quorum.")
    official_confirmed = models.BooleanField(
        default=False, help_text="The official status page, fresh, said degraded or worse."
    )
    # The upstream (a service this one depends on) that likely caused it, set by the attribution
    # task (reports/outages/attribution.py); cause_outage is that upstream's own outage, if it has one.
    cause = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="caused_outages")
    cause_outage = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="affected_dependents"
    )
    cause_status = models.CharField(max_length=10, choices=CauseStatus.choices, blank=True)
    cause_evidence = models.JSONField(default=dict, blank=True, help_text="The numbers behind the cause.")
    # Bumped by every change of the cause: workers claim a change with a conditional UPDATE on it.
    cause_revision = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # At most one open outage per service, whatever the workers do.
            models.UniqueConstraint(
                fields=["service"], condition=models.Q(status="open"), name="outage_one_open_per_service"
            ),
        ]
        indexes = [
            models.Index(fields=["service", "started_at"], name="outage_service_start"),
            # The outage list and feeds, every service newest first, read a page from its top.
            models.Index(fields=["-started_at", "-id"], name="outage_start_id"),
        ]

    def __str__(self) -> str:
        return f"{self.service.slug} outage from {self.started_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def end(self) -> dt.datetime | None:
        """ended_at, or resolved_at for an outage closed without one (by hand, or before ended_at existed)."""
        return self.ended_at or self.resolved_at


class EventKind(models.TextChoices):
    REPORTS_RISING = "reports_rising", "Reports rising"
    OPENED = "opened", "Outage opened"
    LEVEL_CHANGED = "level_changed", "Level changed"
    PROBE_DOWN = "probe_down", "Probe down"
    PROBE_UP = "probe_up", "Probe up"
    PEAK = "peak", "Peak"
    ISSUE_MIX_CHANGED = "issue_mix_changed", "Most reported problem changed"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Reopened"
    STATUS_UPDATE = "status_update", "Status update"
    CAUSE = "cause", "Likely cause"
    OFFICIAL_UPDATE = "official_update", "Official status page update"
    SILENT_OUTAGE = "silent_outage", "Silent outage: the official page is green"


class OutageEvent(models.Model):
    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    data = models.JSONField(default=dict, help_text="The numbers behind the event (actual vs expected, probe...).")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["outage", "at"], name="outage_event_time")]

    def __str__(self) -> str:
        return f"{self.outage_id} {self.kind} at {self.at:%H:%M}"
