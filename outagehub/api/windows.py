"""The one time-window validator of every time-series endpoint and filter.

ISO 8601 `since`/`until`, defaults, alignment to a bucket, and the limits that
keep one call cheap; also the error responses those endpoints document."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from outagehub.api.errors import ErrorSerializer
from outagehub.timebuckets import BUCKETS, bucket_ceil, bucket_floor

MAX_BUCKETS = 1500  # per call: 25 hours of minutes, 15 days of quarter hours, 62 days of hours


MAX_SPAN = dt.timedelta(days=400)


DEFAULT_SPAN = dt.timedelta(hours=24)


# Outside these, a time is a typo; far outside, date arithmetic would overflow.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


ERRORS = {
    400: "A bad query parameter, named in `errors` (since, until, bucket, issue_type, country).",
    404: "No such service (`errors.service`) or probe (`errors.probe`).",
}


def error_responses(*statuses: int) -> dict[Any, OpenApiResponse]:
    """Error responses for `extend_schema`: the one error body, always JSON (even when a 200 may be CSV)."""
    return {
        (status, "application/json"): OpenApiResponse(ErrorSerializer, description=ERRORS[status])
        for status in statuses
    }


def time_in_bounds(value: dt.datetime) -> None:
    """Validator of every `since` and `until`: a time between EARLIEST and LATEST.

    Outside them a time is a typo; far outside, converting its offset to UTC overflows in date
    arithmetic or the database driver, which would be a 500 instead of a 400.
    """
    if not EARLIEST <= value <= LATEST:
        raise ValidationError("Must be between 1970-01-01 and 2100-01-01 (UTC).")


def window_order_error(since: dt.datetime | None, until: dt.datetime | None) -> str | None:
    """The error for `until` when both ends are given and it is not after `since`; else None."""
    if since and until and since >= until:
        return "Must be after since."
    return None


class TimeRangeSerializer(serializers.Serializer):
    """An optional `since`/`until` pair: ISO 8601, between 1970 and 2100, `until` after `since`."""

    class Meta:
        ref_name = "TimeRange"

    since = serializers.DateTimeField(
        required=False,
        default_timezone=dt.UTC,
        validators=[time_in_bounds],
        help_text="ISO 8601 (UTC unless an offset is given); inclusive.",
    )
    until = serializers.DateTimeField(
        required=False,
        default_timezone=dt.UTC,
        validators=[time_in_bounds],
        help_text="ISO 8601 (UTC unless an offset is given); exclusive.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        error = window_order_error(attrs.get("since"), attrs.get("until"))
        if error:
            raise serializers.ValidationError({"until": [error]})
        return attrs


class TimeRangeForm(forms.Form):
    """The same rule for django-filter FilterSets (their form): `until`, with `since`, must be after it.

    Their `since`/`until` filters take `validators=[time_in_bounds]`.
    """

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        error = window_order_error(data.get("since"), data.get("until"))
        if error:
            self.add_error("until", error)
        return data


class WindowSerializer(TimeRangeSerializer):
    """A time window with defaults and limits: `until` defaults to now, `since` to 24 hours before `until`.

    With an alignment both ends move to it (`since` down, `until` up, on
    multiples of it since 1970-01-01 UTC). A window never spans more than MAX_SPAN.
    """

    def alignment(self, attrs: dict[str, Any]) -> dt.timedelta | None:
        return None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        size = self.alignment(attrs)
        until = attrs.get("until") or timezone.now()
        if attrs.get("since") and attrs["since"] >= until:
            raise serializers.ValidationError({"since": ["Must be before until (now, when until is not given)."]})
        until = bucket_ceil(until, size) if size else until
        since = attrs.get("since") or until - DEFAULT_SPAN
        since = bucket_floor(since, size) if size else since
        self.check_window(since, until, size)
        return {**attrs, "since": since, "until": until}

    def check_window(self, since: dt.datetime, until: dt.datetime, size: dt.timedelta | None) -> None:
        if until - since > MAX_SPAN:
            raise serializers.ValidationError({"since": [f"Must be at most {MAX_SPAN.days} days before until."]})


class BucketedWindowSerializer(WindowSerializer):
    """A window cut into buckets of `bucket` (a key of BUCKETS): aligned to them, at most MAX_BUCKETS of them."""

    def alignment(self, attrs: dict[str, Any]) -> dt.timedelta | None:
        return BUCKETS[attrs["bucket"]]

    def check_window(self, since: dt.datetime, until: dt.datetime, size: dt.timedelta | None) -> None:
        super().check_window(since, until, size)
        if size and (until - since) // size > MAX_BUCKETS:
            message = f"The window holds {(until - since) // size} buckets; at most {MAX_BUCKETS} per call."
            raise serializers.ValidationError({"since": [f"{message} Use a later since or a larger bucket."]})


WINDOW_DOC = (
    f"Times are ISO 8601; responses are in UTC. `until` defaults to now and `since` to 24 hours before `until`; "
    f"a window may span at most {MAX_SPAN.days} days."
)


BUCKET_DOC = (
    f"Buckets are aligned in UTC (a day starts at 00:00 UTC): `since` is moved back to the start of its bucket "
    f"and `until` forward to the end of its own, so the current bucket is included, partial. At most "
    f"{MAX_BUCKETS} buckets per call (400 beyond, naming `since`)."
)
