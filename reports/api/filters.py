"""Query-parameter filters for API lists (django-filter), documented in the schema by drf-spectacular."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTransform

from catalog.models import Service, issue_type_key_validator
from catalog.selectors import issue_type_keys
from outagehub.api.choices import ChoiceFilter
from outagehub.api.windows import TimeRangeForm, time_in_bounds
from reports.models import Confidence, Outage, OutageStatus

# What each confidence means (reports.models.outage_confidence), for the filter and the outage's field.
CONFIDENCE_HELP = (
    "confirmed (two or more of: reports, probes, the official status page), crowd (reports), "
    "probe (probes), official (the official status page)."
)


class OutageFilter(django_filters.FilterSet):
    """Outages by service, status, confidence, issue type, and overlap with [since, until)."""

    service = django_filters.CharFilter(
        method="filter_service", max_length=64, validators=[validate_slug], help_text="Service slug."
    )
    status = ChoiceFilter(choices=OutageStatus.choices)
    confidence = ChoiceFilter(
        choices=Confidence.choices,
        help_text=CONFIDENCE_HELP,
    )
    issue_type = django_filters.CharFilter(
        method="filter_issue_type",
        max_length=32,
        validators=[issue_type_key_validator],
        help_text="Issue type key: outages with at least one counted report of that type.",
    )
    since = django_filters.IsoDateTimeFilter(
        method="filter_since",
        validators=[time_in_bounds],
        help_text="ISO 8601 (UTC unless an offset is given): outages not yet resolved at this time.",
    )
    until = django_filters.IsoDateTimeFilter(
        method="filter_until",
        validators=[time_in_bounds],
        help_text="ISO 8601 (UTC unless an offset is given), exclusive: outages started before this time.",
    )

    class Meta:
        model = Outage
        form = TimeRangeForm
        fields: list[str] = []  # all declared above

    ISSUE_TYPES_SHOWN = 30  # keys listed when an unknown one is asked for; the catalog holds hundreds

    def filter_service(self, queryset: QuerySet[Outage], name: str, value: str) -> QuerySet[Outage]:
        # A typo must not read as "no outages": an unknown service is a 400 naming it.
        if not Service.objects.filter(slug=value).exists():
            raise ValidationError({"service": [f"No service with slug {value!r}."]})
        return queryset.filter(service__slug=value)

    def filter_issue_type(self, queryset: QuerySet[Outage], name: str, value: str) -> QuerySet[Outage]:
        # A typo must not read as "no outages" either: an unknown key is a 400 listing the known ones.
        self._check_issue_type(value)
        # A key explicitly at 0 is no report of that type. KeyTransform rather than a
        # `issue_types__<key>__gt` keyword, so a key holding "__" is a key, not a lookup.
        # A missing key compares as NULL, so it is excluded too.
        return queryset.alias(issue_type_count=KeyTransform(value, "issue_types")).filter(issue_type_count__gt=0)

    def _check_issue_type(self, key: str) -> None:
        slug = self.form.cleaned_data.get("service")
        service = Service.objects.filter(slug=slug).first() if slug else None
        keys = issue_type_keys(service=service)
        if key in keys:
            return
        shown = ", ".join(keys[: self.ISSUE_TYPES_SHOWN]) or "none"
        if len(keys) > self.ISSUE_TYPES_SHOWN:
            shown += f" (and {len(keys) - self.ISSUE_TYPES_SHOWN} more)"
        of = service.name if service else "any service"
        raise ValidationError({"issue_type": [f"{key!r} is not an issue type of {of}. Allowed: {shown}."]})

    def filter_since(self, queryset: QuerySet[Outage], name: str, value: dt.datetime) -> QuerySet[Outage]:
        # Overlaps [since, ...): still open, or resolved after since.
        return queryset.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=value))

    def filter_until(self, queryset: QuerySet[Outage], name: str, value: dt.datetime) -> QuerySet[Outage]:
        return queryset.filter(started_at__lt=value)
