"""Serializers every endpoint builds on: unknown fields refused by name, strings that stay strings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers
from rest_framework.settings import api_settings


def iso_time(value: dt.datetime | None, zone: dt.tzinfo = dt.UTC) -> str | None:
    """An aware time as DRF's DateTimeField writes it: ISO 8601 in `zone`, UTC as Z; None stays None.

    For answers built without a serializer (the intake's fast path, webhook payloads) and the
    outage fields OutageSerializer writes itself: all must read as the API's other times do.
    """
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class StrictSerializer(serializers.Serializer):
    """Rejects fields it does not know, naming them (the first few) and the allowed ones.

    At most UNKNOWN_FIELDS_SHOWN unknown names, each cut to UNKNOWN_NAME_SHOWN characters, are
    echoed back: a body of 200,000 made-up keys must not earn a 13 MB error.
    """

    UNKNOWN_FIELDS_SHOWN = 10
    UNKNOWN_NAME_SHOWN = 64  # characters

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(map(str, data)) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(self._unknown_errors(unknown))
        return super().to_internal_value(data)

    def _unknown_errors(self, unknown: list[str]) -> dict[str, list[str]]:
        message = f"Unknown field. Allowed: {', '.join(self.fields)}."
        shown = unknown[: self.UNKNOWN_FIELDS_SHOWN]
        errors = {self._clip(name): [message] for name in shown}
        if len(unknown) > len(shown):
            more = f"And {len(unknown) - len(shown)} more unknown fields."
            errors.setdefault(api_settings.NON_FIELD_ERRORS_KEY, []).append(more)
        return errors

    def _clip(self, name: str) -> str:
        return name if len(name) <= self.UNKNOWN_NAME_SHOWN else name[: self.UNKNOWN_NAME_SHOWN - 3] + "..."


class StringField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of coercing them."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
