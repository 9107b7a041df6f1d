"""The service catalog: services and their issue types."""

from __future__ import annotations

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

# The issue types every new service starts with, in display order.
DEFAULT_ISSUE_TYPES: tuple[tuple[str, str], ...] = (
    ("server", "Server"),
    ("payment", "Payment"),
    ("inventory", "Inventory"),
    ("shipping", "Shipping"),
)

slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    "Use lowercase letters, digits and single hyphens (e.g. tiktok-shop).",
)
# Issue type keys are also keys of JSON objects (an outage's issue-type mix), where a key of
# digits only would be read as an array index: they need a letter.
issue_type_key_validator = RegexValidator(
    r"^(?=[a-z0-9-]*[a-z])[a-z0-9]+(?:-[a-z0-9]+)*$",
    "Use lowercase letters, digits and single hyphens, with at least one letter (e.g. payment, http-500).",
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
    # Upstream providers this service relies on (Cloudflare, a cloud region, a payment processor),
    # themselves services of the catalog. Acyclic: the loader (catalog/dependencies.py) refuses cycles.
    depends_on = models.ManyToManyField(
        "self",
        symmetrical=False,
        related_name="dependents",
        blank=True,
        help_text="Upstream services whose outages can cause this one's.",
    )
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
    key = models.SlugField(max_length=32, validators=[issue_type_key_validator])
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
