"""Choice fields for API inputs (serializer fields and query filters) whose 400 lists the allowed values.

DRF says `"closed" is not a valid choice.` and Django forms `Select a valid choice. closed is not one
of the available choices.`: neither tells the client what would have been valid. Every API input with
a fixed set of values uses these, so each endpoint answers the same sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import django_filters
from django import forms
from django_filters import fields as filter_fields
from rest_framework import serializers

SHOWN_INPUT = 64  # characters of the bad value echoed back


def invalid_choice_message(value: Any, allowed: Iterable[Any]) -> str:
    """`"closed" is not a valid choice. Allowed: open, resolved.`"""
    text = str(value)
    if len(text) > SHOWN_INPUT:
        text = text[: SHOWN_INPUT - 3] + "..."
    return f'"{text}" is not a valid choice. Allowed: {", ".join(map(str, allowed))}.'


class ChoiceField(serializers.ChoiceField):
    """DRF's ChoiceField, with the allowed values in its invalid-choice error."""

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if exc.get_codes() != ["invalid_choice"]:  # a field fails with one code at a time
                raise
            raise serializers.ValidationError(
                invalid_choice_message(data, self.choices), code="invalid_choice"
            ) from None


class _ChoiceFormField(filter_fields.ChoiceField):
    def validate(self, value: Any) -> None:
        try:
            super().validate(value)
        except forms.ValidationError as exc:
            if getattr(exc, "code", None) != "invalid_choice":
                raise
            choices = cast(Iterable[tuple[Any, Any]], self.choices)
            allowed = [key for key, _ in choices if key != ""]  # "" is the form's empty choice
            raise forms.ValidationError(invalid_choice_message(value, allowed), code="invalid_choice") from None


class ChoiceFilter(django_filters.ChoiceFilter):
    """django-filter's ChoiceFilter, with the allowed values in its invalid-choice error."""

    field_class = _ChoiceFormField
