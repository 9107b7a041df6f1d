"""A service's official status page: its state, a bounded history of snapshots, and its incidents."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone

from catalog.models import Service
from statuspages.kinds import CLOSED_STATUSES, IncidentStatus, OfficialLevel, PageKind

INTERVAL_MIN_SECONDS, INTERVAL_MAX_SECONDS = 60, 300
SNAPSHOTS_KEPT = 200  # per page; changes only, so this is months of a quiet page


class StatusPage(models.Model):
    """One service's official page and where it stands.

    `level` is what the last attempt established: UNKNOWN after a failed one (never the last good
    level passed off as current). The last good reading stays in `snapshot`, and `stale` says it
    is no longer current. `next_poll_at` is the schedule a poller claims with a conditional UPDATE.
    """

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="status_page")
    kind = models.CharField(max_length=12, choices=PageKind.choices)
    url = models.URLField(max_length=500, help_text="The endpoint polled (summary.json, a feed...).")
    interval_seconds = models.PositiveIntegerField(default=120)
    enabled = models.BooleanField(default=True)
    level = models.CharField(max_length=16, choices=OfficialLevel.choices, default=OfficialLevel.UNKNOWN)
    reason = models.CharField(max_length=300, blank=True, help_text="Why the level is unknown, or a fallback used.")
    stale = models.BooleanField(default=True, help_text="The snapshot shown is not from the latest attempt.")
    attempted_at = models.DateTimeField(null=True, blank=True, help_text="The latest poll, whatever it gave.")
    fetched_at = models.DateTimeField(null=True, blank=True, help_text="The latest successful poll (200 or 304).")
    snapshot = models.ForeignKey(
        "StatusSnapshot",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The last good one.",
    )
    failures = models.PositiveIntegerField(default=0, help_text="Consecutive failed polls.")
    # Validators of the last good body, sent back as If-None-Match / If-Modified-Since.
    etag = models.CharField(max_length=200, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    next_poll_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Set by the claim, cleared by the poll that holds it: a redelivered poll task finds it gone.
    claim = models.CharField(max_length=40, blank=True)

    def __str__(self) -> str:
        return f"{self.service.slug}: {self.kind} {self.url}"


class StatusSnapshot(models.Model):
    """One reading of a page that differed from the one before (level, components or incidents)."""

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="snapshots")
    fetched_at = models.DateTimeField()
    level = models.CharField(max_length=16, choices=OfficialLevel.choices)
    description = models.CharField(max_length=300, blank=True)
    components = models.JSONField(default=list, help_text='[{"name", "level"}]')
    incidents = models.JSONField(default=list, help_text="Provider ids of the open incidents.")
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-fetched_at", "-id"]
        indexes = [models.Index(fields=["page", "fetched_at"], name="statussnapshot_page_time")]

    def __str__(self) -> str:
        return f"{self.page_id} {self.level} at {self.fetched_at:%Y-%m-%d %H:%M}"


class ProviderIncidentQuerySet(models.QuerySet["ProviderIncident"]):
    def open(self) -> ProviderIncidentQuerySet:
        return self.filter(resolved_at__isnull=True).exclude(status__in=CLOSED_STATUSES)

    def overlapping(self, start: dt.datetime, end: dt.datetime) -> ProviderIncidentQuerySet:
        """Incidents that were going on at some time in [start, end]."""
        started = models.Q(started_at__lte=end) | models.Q(started_at__isnull=True, first_seen_at__lte=end)
        return self.filter(started).filter(models.Q(resolved_at__isnull=True) | models.Q(resolved_at__gte=start))


class ProviderIncident(models.Model):
    """An incident (or maintenance) as the provider's page tells it, kept after it leaves the page."""

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="incidents")
    provider_id = models.CharField(max_length=100)
    title = models.CharField(max_length=300)
    status = models.CharField(max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.UNKNOWN)
    level = models.CharField(max_length=16, choices=OfficialLevel.choices)
    maintenance = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    components = models.JSONField(default=list)
    url = models.URLField(max_length=500, blank=True)
    updates = models.JSONField(default=list, help_text='Oldest first: [{"id", "at", "status", "body"}].')
    first_seen_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = ProviderIncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["page", "provider_id"], name="providerincident_unique_per_page"),
        ]

    def __str__(self) -> str:
        return f"{self.page_id}/{self.provider_id}: {self.title} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None and self.status not in CLOSED_STATUSES
