"""API conventions shared by every app: one error body, pagination, a JSON parser that cannot 500."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, pagination, parsers
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler


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


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


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
