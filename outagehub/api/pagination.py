"""Pagination: numbered pages for catalogs, cursors for time-ordered rows, a strict `page_size`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework import exceptions, pagination


class StrictPageSize:
    """A `page_size` that is not a whole number from 1 to the maximum is a 400 naming it and the range.

    DRF's own paginators fall back to the default size on a bad `page_size` and cap one over the
    maximum, so a typo goes unnoticed and a client asking for 1,000 silently gets fewer.
    """

    page_size: int
    page_size_query_param: str | None = "page_size"  # None: no such parameter, as in DRF
    max_page_size: int

    def get_page_size(self, request: Any) -> int:
        param = self.page_size_query_param
        if not param or (raw := request.query_params.get(param)) is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError({param: [f"Must be a whole number from 1 to {self.max_page_size}."]})
        return size

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)  # type: ignore[misc]
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
                parameter["description"] = (
                    f"Results per page, {self.page_size} unless given; from 1 to {self.max_page_size}."
                )
        return parameters


class PageNumberPagination(StrictPageSize, pagination.PageNumberPagination):
    """Numbered pages for catalogs, with a strict `page_size`; a `page` that is none of them is a 400 naming it."""

    page_size = 50
    max_page_size = 200
    # Django's paginator supplies the reason: not an integer, less than 1, or no results (past the end).
    invalid_page_message = "{message}."

    def get_page_number(self, request: Any, paginator: Any) -> Any:
        # DRF reads an empty `page=` as the first page; like an empty `page_size`, it is a mistake to name.
        if request.query_params.get(self.page_query_param) == "":
            raise exceptions.ValidationError({self.page_query_param: ["Must be a whole number from 1 (empty)."]})
        return super().get_page_number(request, paginator)

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any] | None:
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound as exc:
            # A bad query parameter, like any other: the list exists, the request was wrong.
            raise exceptions.ValidationError({self.page_query_param: [str(exc.detail)]}) from None

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


class TimeCursorPagination(StrictPageSize, pagination.CursorPagination):
    """Stable pages over time-ordered rows, however many arrive meanwhile."""

    page_size = 100
    max_page_size = 500
    ordering = ("-checked_at", "-id")  # subclasses set their own time field

    invalid_cursor_message = "Invalid cursor: follow the next and previous links as given."

    def decode_cursor(self, request: Any) -> pagination.Cursor | None:
        invalid = exceptions.NotFound({self.cursor_query_param: [self.invalid_cursor_message]})
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise invalid from None
        # DRF's stubs say the position is an int; DRF decodes it, and writes it, as a str.
        position: str | None = cursor.position if cursor is not None else None  # type: ignore[assignment]
        if position is not None and not _is_position(position):
            raise invalid
        return cursor


def _is_position(text: str) -> bool:
    """Whether a cursor's position is one we could have written: an aware datetime UTC can hold.

    Cursors are opaque to clients but not signed. A crafted position that is no date, or one
    such as 0001-01-01 00:00:00+14:00 that overflows when converted to UTC, would otherwise
    reach the database layer: a 500 on SQLite, an empty page on PostgreSQL.
    """
    try:
        at = parse_datetime(text)
        if at is None or at.tzinfo is None:
            return False
        at.astimezone(dt.UTC)  # OverflowError past either end of the calendar
    except (ValueError, OverflowError):
        return False
    return True
