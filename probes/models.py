from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from catalog.models import Service
from probes.kinds import ErrorClass, Outcome, ProbeKind, ProbeState

# Bounds of a probe's schedule, in seconds. The timeout bound also sizes the Celery time limits
# of probes.tasks.probes_run_check; a day is the longest interval the scheduler is meant for.
INTERVAL_MIN_SECONDS, INTERVAL_MAX_SECONDS = 10, 86400
TIMEOUT_MIN_SECONDS, TIMEOUT_MAX_SECONDS = 0.1, 120.0

# A region is also a queue name (probes.<region>): keep it short and plain.
region_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]{0,39}$", "Region names are lowercase letters, digits and hyphens, e.g. eu-west."
)


class Probe(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="probes")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=ProbeKind.choices)
    target = models.CharField(max_length=500, help_text="URL (http), host:port (tcp, tls) or host name (dns).")
    config = models.JSONField(default=dict, blank=True, help_text="Kind-specific options, see README.")
    interval_seconds = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(INTERVAL_MIN_SECONDS), MaxValueValidator(INTERVAL_MAX_SECONDS)]
    )
    timeout_seconds = models.FloatField(
        default=10.0, validators=[MinValueValidator(TIMEOUT_MIN_SECONDS), MaxValueValidator(TIMEOUT_MAX_SECONDS)]
    )
    failure_threshold = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1)])
    success_threshold = models.PositiveSmallIntegerField(default=2, validators=[MinValueValidator(1)])
    regions = models.JSONField(default=list, blank=True, help_text='Region names, e.g. ["local"]. Empty: local.')
    enabled = models.BooleanField(default=True)
    state = models.CharField(max_length=10, choices=ProbeState.choices, default=ProbeState.UNKNOWN)
    state_since = models.DateTimeField(default=timezone.now)
    # The schedule: a scheduler claims a run by moving this forward with a
    # conditional UPDATE, so two schedulers never enqueue the same slot.
    next_run_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["service", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="probe_unique_name_per_service"),
        ]

    def __str__(self) -> str:
        return f"{self.service.slug}/{self.name}"


class ProbeRegionState(models.Model):
    """One region's view of a probe: its own state and consecutive-result counters."""

    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="region_states")
    region = models.CharField(max_length=40)
    state = models.CharField(max_length=10, choices=ProbeState.choices, default=ProbeState.UNKNOWN)
    # Streaks of latest consecutive conclusive results (see probes/state.py): down, not up
    # (degraded or down), up, and not down (up or degraded).
    failures = models.PositiveIntegerField(default=0)
    degradations = models.PositiveIntegerField(default=0)
    successes = models.PositiveIntegerField(default=0)
    recoveries = models.PositiveIntegerField(default=0)
    last_slot = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["probe", "region"], name="probe_region_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.probe_id}@{self.region}: {self.state}"


class ProbeResult(models.Model):
    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="results")
    region = models.CharField(max_length=40)
    # The scheduled slot this result answers; unique per probe and region, so
    # a redelivered task cannot store (or count) a check twice.
    slot = models.DateTimeField()
    checked_at = models.DateTimeField()
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=12, choices=ErrorClass.choices, blank=True, default=ErrorClass.NONE)
    message = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-checked_at"]
        constraints = [
            models.UniqueConstraint(fields=["probe", "region", "slot"], name="probe_result_unique_slot"),
        ]
        indexes = [models.Index(fields=["probe", "checked_at"], name="probe_result_probe_time")]

    def __str__(self) -> str:
        return f"{self.probe_id}@{self.region} {self.outcome} at {self.checked_at:%H:%M:%S}"


class ProbeEvent(models.Model):
    """A state change: of one region (`region` set) or of the probe by quorum (`region` empty)."""

    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(db_index=True)
    region = models.CharField(max_length=40, blank=True)
    from_state = models.CharField(max_length=10, choices=ProbeState.choices)
    to_state = models.CharField(max_length=10, choices=ProbeState.choices)
    evidence = models.JSONField(default=dict, help_text="The results (and region states) behind the change.")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.probe_id}{'@' + self.region if self.region else ''} {self.from_state}->{self.to_state}"


class ProbeRollup(models.Model):
    """Results of one probe in one region over one UTC hour, kept after raw results are pruned."""

    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="rollups")
    region = models.CharField(max_length=40)
    hour = models.DateTimeField()
    up = models.PositiveIntegerField(default=0)
    degraded = models.PositiveIntegerField(default=0)
    down = models.PositiveIntegerField(default=0)
    inconclusive = models.PositiveIntegerField(default=0)
    latency_p50_ms = models.PositiveIntegerField(null=True, blank=True)
    latency_p95_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-hour"]
        constraints = [
            models.UniqueConstraint(fields=["probe", "region", "hour"], name="probe_rollup_unique_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.probe_id}@{self.region} {self.hour:%Y-%m-%d %H}:00"

    @property
    def uptime_percent(self) -> float | None:
        """Share of conclusive checks that were up or degraded; None if there were none."""
        conclusive = self.up + self.degraded + self.down
        return round(100 * (self.up + self.degraded) / conclusive, 3) if conclusive else None
