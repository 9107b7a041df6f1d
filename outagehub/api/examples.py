"""Helpers for the schema's examples, shared by every app's `examples` module."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from drf_spectacular.utils import OpenApiExample
from rest_framework import pagination

from outagehub.api.errors import error_body
from outagehub.api.pagination import PageNumberPagination, TimeCursorPagination

HOST = "https://outagehub.example"


class ExampleLinks(pagination.BasePagination):
    """A paginator whose schema shows its endpoint's own `count`, `next` and `previous`.

    drf-spectacular fills the envelope around a list example from these schema examples; DRF's
    own are links to http://api.example.org/accounts/.
    """

    example_count: int | None = None
    example_next: str | None = None
    example_previous: str | None = None

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        properties = paginated["properties"]
        properties["next"]["example"] = self.example_next
        properties["previous"]["example"] = self.example_previous
        if "count" in properties:
            properties["count"]["example"] = self.example_count
        return paginated


def next_cursor(path: str, after: str, **query: str | int) -> str:
    """The `next` link CursorPagination writes for a page ending with an item ordered by the time `after`."""
    paginator = pagination.CursorPagination()
    paginator.base_url = f"{HOST}{path}?{urlencode(query)}"
    # The cursor's position is str() of the ordering field's value, as DRF takes it from the row.
    position = str(dt.datetime.fromisoformat(after))
    # DRF's stubs type the position as an int; DRF itself writes and reads it as a str.
    return paginator.encode_cursor(
        pagination.Cursor(offset=0, reverse=False, position=position)  # type: ignore[arg-type]
    )


def invalid(name: str, errors: dict[str, list[str]]) -> OpenApiExample:
    """A 400 example: the error body outagehub.api.exception_handler writes for these field errors."""
    field, messages = next(iter(errors.items()))
    body = error_body(message=f"Invalid input. {field}: {messages[0]}", code="invalid", errors=errors)
    return OpenApiExample(name, value=body, status_codes=[400], response_only=True)


def page_size_invalid(paginator: type[PageNumberPagination | TimeCursorPagination]) -> OpenApiExample:
    message = f"Must be a whole number from 1 to {paginator.max_page_size}."
    return invalid("A page size of 0", {"page_size": [message]})
