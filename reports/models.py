from __future__ import annotations

from django.core.validators import MaxLengthValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

# The issue types every new service starts with, in display order.
DEFAULT_ISSUE_TYPES: tuple[tuple[str, str], ...] = (
    ("server", "Server"),
    ("payment", "Payment"),
    ("inventory", "Inventory"),
    ("shipping", "Shipping"),
)

COMMENT_MAX_LENGTH = 500

slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    "Use lowercase letters, digits and single hyphens (e.g. tiktok-shop).",
)


class ServiceQuerySet(models.QuerySet["Service"]):
    def active(self) -> ServiceQuerySet:
        return self.filter(active=True)

    def search(self, q: str) -> ServiceQuerySet:
        q = q.strip()
        if not q:
            return self
        return self.filter(models.Q(name__icontains=q) | models.Q(slug__icontains=q))


class Service(models.Model):
    slug = models.SlugField(max_length=64, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=100)
    homepage = models.URLField(max_length=300, blank=True)
    description = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True, help_text="Inactive services are hidden and take no reports.")
    # Demo only: typical counted reports per minute at the daily peak that the
    # traffic simulator generates for this service. Empty: not simulated.
    demo_traffic = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0.0)])
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class IssueType(models.Model):
    """A kind of problem users of one service can report (server, payment...).

    Issue types are never deleted once reported against; dropping one from the
    catalog deactivates it so its reports keep their meaning.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="issue_types")
    key = models.SlugField(max_length=32, validators=[slug_validator])
    label = models.CharField(max_length=60)
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "key"]
        constraints = [
            models.UniqueConstraint(fields=["service", "key"], name="issuetype_unique_key_per_service"),
        ]

    def __str__(self) -> str:
        return f"{self.service.slug}:{self.key}"


class Channel(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"


class CommentState(models.TextChoices):
    VISIBLE = "visible", "Visible"
    HIDDEN = "hidden", "Hidden"


class Report(models.Model):
    """One "I have a problem" press.

    `reporter` is an HMAC of the client address and user agent under a salt
    that rotates daily: it lets us count a person once per cooldown without
    ever storing who they are. `counted` says whether this report entered
    the counts (the reporter's first for this service within the cooldown).
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="reports")
    issue_type = models.ForeignKey(IssueType, on_delete=models.PROTECT, related_name="reports")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    comment = models.TextField(blank=True, validators=[MaxLengthValidator(COMMENT_MAX_LENGTH)])
    comment_state = models.CharField(max_length=10, choices=CommentState.choices, default=CommentState.VISIBLE)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2, empty if unknown.")
    channel = models.CharField(max_length=3, choices=Channel.choices)
    reporter = models.CharField(max_length=64, help_text="Salted daily hash; never the raw address.")
    counted = models.BooleanField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["service", "counted", "created_at"], name="report_service_counted_time"),
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
