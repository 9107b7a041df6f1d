"""The one error body of every API error, its schema, and the exception handler that produces it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error


class ErrorSerializer(serializers.Serializer):
    """Every error's body: a sentence, a code, and messages by field."""

    class Meta:
        ref_name = "Error"

    message = serializers.CharField(help_text="One sentence for people; starts with the first field error, if any.")
    code = serializers.CharField(
        help_text="For programs: invalid, not_found, method_not_allowed, unsupported_media_type, throttled..."
    )
    # DRF's metaclass moves declared fields off the class: this does not replace Serializer.errors.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by field (query parameter or body field); `body` when the body is not a JSON object. "
        "Empty when the error is not about fields.",
    )


# What each error status means, for the schema; the body is always ErrorSerializer's.
ERROR_RESPONSES = {
    400: "Invalid input: a query parameter (a page past the last one included) or the body. `errors` names each "
    "field; `body` when the body is malformed JSON or not an object.",
    401: "An unknown or revoked API key, or a malformed `Authorization` header. Reads need no key: send none "
    "rather than a bad one. Where an operation needs credentials, also when none were sent.",
    403: "The credentials sent may not do this: the API key lacks the scope, or is for another service.",
    404: "No such resource (`errors` names the path parameter), or no such cursor.",
    405: "This method is not allowed here; `Allow` lists those that are.",
    406: "The `Accept` header names no media type this operation answers with.",
    415: "The body is not JSON: send `Content-Type: application/json`.",
    429: "Too many requests from this address: retry after `Retry-After` seconds.",
}


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
    # Imported here: importing rest_framework.views resolves DRF's settings, models included (the
    # authentication classes), so this module, which the middleware imports, could not load first.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, exceptions.ParseError):
        exc = exceptions.ValidationError({"body": [f"{exc.detail} The body must be a JSON object."]})
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        exc.detail = exceptions.ErrorDetail(
            f"{exc.detail} Send JSON with 'Content-Type: application/json'.", code=exc.default_code
        )

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
