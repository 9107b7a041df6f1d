"""Reports, reporter cooldowns and the demo traffic generator's bookkeeping."""

from __future__ import annotations

import datetime as dt

from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone

from catalog.models import IssueType, Service

COMMENT_MAX_LENGTH = 500


class Channel(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"


class NotCountedReason(models.TextChoices):
    COOLDOWN = "cooldown", "The reporter reported this service within the cooldown"
    ADDRESS_CAP = "address_cap", "The client address already counts as many reporters as allowed"
    NETWORK_CAP = "network_cap", "The client's network (/24, /48) already counts as many reporters as allowed"


class CommentState(models.TextChoices):
    VISIBLE = "visible", "Visible"
    HIDDEN = "hidden", "Hidden"
    # Held back by intake's link and repetition filter (reports/intake/moderation.py) until a moderator shows it.
    PENDING = "pending", "Pending moderation"


class Report(models.Model):
    """One "I have a problem" press.

    It holds nothing that identifies who sent it: whether it counts was decided
    by the reporter's cooldown (ReporterCooldown, keyed by a salted hash and
    pruned once the cooldown has passed). `counted` says whether this report
    entered the counts (the reporter's first for this service within the cooldown).
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="reports")
    issue_type = models.ForeignKey(IssueType, on_delete=models.PROTECT, related_name="reports")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    comment = models.TextField(blank=True, validators=[MaxLengthValidator(COMMENT_MAX_LENGTH)])
    comment_state = models.CharField(max_length=10, choices=CommentState.choices, default=CommentState.VISIBLE)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2, empty if unknown.")
    channel = models.CharField(max_length=3, choices=Channel.choices)
    counted = models.BooleanField()
    # Its network (/24, /48) already counted as many reporters as allowed: stored, never counted, so
    # a coordinated spike from one network cannot open an outage (reports/intake/services.py).
    # db_default: bulk writers that omit the column store False.
    network_flagged = models.BooleanField(default=False, db_default=False)

    # Not stored: set by intake on the report it has just filed, for the answer to its sender.
    not_counted_reason: str | None = None  # a NotCountedReason, None when counted
    counts_again_at: dt.datetime | None = None  # when the reporter's cooldown ends, None when counted

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["service", "counted", "created_at"], name="report_service_counted_time"),
            # A page's newest visible comments: a few rows read from the top of this small index,
            # however many reports the service has (without it, every report of the service is
            # filtered and sorted).
            models.Index(
                fields=["service", "-created_at", "-id"],
                condition=models.Q(comment_state="visible") & ~models.Q(comment=""),
                name="report_visible_comment_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.slug}:{self.issue_type.key} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class ReporterCooldown(models.Model):
    """Until when a reporter's reports to a service are not counted again.

    One row per (service, reporter hash). Claimed with a conditional UPDATE
    so two simultaneous reports from one person cannot both count, on any
    number of web processes. Rows are pruned once the cooldown has passed.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    reporter = models.CharField(max_length=64)
    counted_until = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "reporter"], name="cooldown_unique_reporter"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id}:{self.reporter[:8]} until {self.counted_until:%H:%M:%S}"


class SimulatedOutage(models.Model):
    """An outage injected into the demo traffic by `manage.py simulate --outage`."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    issue_type_key = models.CharField(max_length=32)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    factor = models.FloatField(help_text="Multiple of the service's normal report rate during the outage.")

    class Meta:
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return f"{self.service.slug}:{self.issue_type_key} x{self.factor:g} from {self.starts_at:%Y-%m-%d %H:%M}"


class SimulatorClock(models.Model):
    """The last minute the demo traffic generator has filled (a singleton).

    Advanced with a conditional UPDATE so two workers or two beats never
    generate the same minute twice.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_minute = models.DateTimeField()

    def __str__(self) -> str:
        return f"simulated up to {self.last_minute:%Y-%m-%d %H:%M}"
