"""API conventions shared by every app: one error body, pagination, a JSON parser that cannot 500."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions, negotiation, pagination, parsers, serializers
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a body nested too deeply to parse refused like any malformed one.

    Python's json module recurses once per level of nesting: a body of a thousand "[" raises
    RecursionError, which DRF lets through as a 500.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None


class ErrorSerializer(serializers.Serializer):
    """Every error's body: a sentence, a code, and messages by field."""

    class Meta:
        ref_name = "Error"

    message = serializers.CharField(help_text="One sentence for people; starts with the first field error, if any.")
    code = serializers.CharField(
        help_text="For programs: invalid, not_found, method_not_allowed, unsupported_media_type, throttled..."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by field (query parameter or body field); `body` when the body is not a JSON object. "
        "Empty when the error is not about fields.",
    )


# What each error status means, for the schema; the body is always ErrorSerializer's.
ERROR_RESPONSES = {
    400: "Invalid input: a query parameter or the body. `errors` names each field; `body` when the body is "
    "malformed JSON or not an object.",
    401: "An unknown or revoked API key, or a malformed `Authorization` header. Reads need no key: send none "
    "rather than a bad one. Where an operation needs credentials, also when none were sent.",
    403: "The credentials sent may not do this: the API key lacks the scope, or is for another service.",
    404: "No such resource (`errors` names the path parameter), or no such page or cursor.",
    405: "This method is not allowed here; `Allow` lists those that are.",
    406: "The `Accept` header names no media type this operation answers with.",
    415: "The body is not JSON: send `Content-Type: application/json`.",
    429: "Too many requests from this address: retry after `Retry-After` seconds.",
}


class ContentNegotiation(negotiation.DefaultContentNegotiation):
    """DRF's, except that an unknown `?format=` is a 400 naming the formats, not a bare 404."""

    def filter_renderers(self, renderers: list[Any], format: str) -> list[Any]:
        matching = [renderer for renderer in renderers if renderer.format == format]
        if not matching:
            allowed = ", ".join(dict.fromkeys(renderer.format for renderer in renderers))
            raise exceptions.ValidationError({"format": [f"Unknown format {format[:20]!r}. Allowed: {allowed}."]})
        return matching


class StrictPageSize:
    """A `page_size` that is not a whole number from 1 is a 400; one over the maximum gets the maximum.

    DRF's own paginators fall back to the default size on a bad `page_size`, so a typo goes unnoticed.
    """

    page_size: int
    page_size_query_param = "page_size"
    max_page_size: int

    def get_page_size(self, request: Any) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Must be a whole number from 1 to {self.max_page_size}."]}
            )
        return min(size, self.max_page_size)


class PageNumberPagination(StrictPageSize, pagination.PageNumberPagination):
    """Numbered pages for catalogs, with a strict `page_size`."""

    page_size = 50
    max_page_size = 200

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any] | None:
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound as exc:  # an unknown page: say which parameter
            raise exceptions.NotFound({self.page_query_param: [str(exc.detail)]}) from None

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = (
                    f"Results per page, {self.page_size} unless given; at most {self.max_page_size}."
                )
        return parameters


def _field_errors(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            str(field): [str(m) for m in (messages if isinstance(messages, list) else [messages])]
            for field, messages in detail.items()
        }
    if isinstance(detail, list):
        return {"non_field_errors": [str(m) for m in detail]}
    return {}


def error_body(*, message: str, code: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The one error shape of every 4xx: a sentence, a code, and messages by field."""
    return {"message": message, "code": code, "errors": errors or {}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn every API error into `error_body`; domain ValidationErrors become 400."""
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES, which live in this module,
    # so importing it at the top would make importing this module first (a middleware does) circular.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, exceptions.ParseError):
        exc = exceptions.ValidationError({"body": [f"{exc.detail} The body must be a JSON object."]})
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        exc.detail = f"{exc.detail} Send JSON with 'Content-Type: application/json'."

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    detail = exc.detail
    errors = _field_errors(detail)
    if errors:
        field, messages = next(iter(errors.items()))
        message = f"{field}: {messages[0]}"
    else:
        message = str(detail)
    if isinstance(exc, exceptions.ValidationError):
        message = f"Invalid input. {message}"
    response.data = error_body(message=message, code=exc.default_code, errors=errors)
    return response


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
        if cursor is not None and cursor.position is not None and not _is_position(cursor.position):
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
