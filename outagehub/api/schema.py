"""The OpenAPI schema's conventions: every operation documents the errors it can answer with, and conditional GET.

Apart from errors.py and parsing.py because drf-spectacular's AutoSchema imports DRF's generic
views, and those import DEFAULT_PARSER_CLASSES, which live in outagehub/api/parsing.py.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions

from outagehub.api.errors import ERROR_RESPONSES, ErrorSerializer

CONDITIONAL_HEADERS = {
    "ETag": "Identifies this representation; send it back in `If-None-Match` to get a 304 while it is unchanged.",
    "Last-Modified": "When this representation was first served (send it back in `If-Modified-Since`); absent "
    "when it changed less than a second ago.",
    "Cache-Control": "`public, max-age=…` for anonymous reads.",
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, adding to each operation the errors it can answer with and conditional GET.

    Which errors an operation can answer with follows from its shape: 400 when it takes a body or query
    parameters, 401 when its view authenticates (a bad key is refused even where none is needed),
    403 when its permissions are more than AllowAny, 404 when it has path parameters or pages (an
    unknown page or cursor is a 404), 406 always (an `Accept` it cannot satisfy), 415 when it takes
    a body, 429 when its view is throttled.
    405 belongs to no operation (it answers the methods a path does not list), so the schema's
    description mentions it instead.
    """

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in self._error_statuses(operation):
            # An operation that documents its own response for a status keeps it.
            responses.setdefault(str(status), self._error_response(status))
        if self.method == "GET":
            for response in (r for status, r in responses.items() if status.startswith("2")):
                headers = response.setdefault("headers", {})
                for name, description in CONDITIONAL_HEADERS.items():
                    headers.setdefault(name, {"schema": {"type": "string"}, "description": description})
            responses.setdefault(
                "304", {"description": "Not modified: the `If-None-Match` or `If-Modified-Since` sent still holds."}
            )
        return operation

    def _error_statuses(self, operation: dict[str, Any]) -> list[int]:
        places = {parameter.get("in") for parameter in operation.get("parameters", [])}
        has_body = "requestBody" in operation
        statuses = []
        if has_body or "query" in places:
            statuses.append(400)
        if self.view.authentication_classes:
            statuses.append(401)
        if any(self._may_refuse(p) for p in self.view.permission_classes):
            statuses.append(403)
        if "path" in places or (self._is_list_view() and self._get_paginator() is not None):
            statuses.append(404)
        statuses.append(406)  # DRF's content negotiation, before any view code
        if has_body:
            statuses.append(415)
        if self.view.throttle_classes:
            statuses.append(429)
        return statuses

    def _may_refuse(
        self,
        permission: type[permissions.BasePermission] | permissions.OperandHolder | permissions.SingleOperandHolder,
    ) -> bool:
        # A composed permission (A | B, ~A) is an instance, not a class, so issubclass would raise:
        # say it may refuse.
        if not isinstance(permission, type):
            return True
        # A permission that lets everyone read says so with `allows_reads`: its GETs never answer 403.
        if issubclass(permission, permissions.AllowAny):
            return False
        return not (self.method in permissions.SAFE_METHODS and getattr(permission, "allows_reads", False))

    def _error_response(self, status: int) -> dict[str, Any]:
        # JSON whatever else the operation renders (a CSV series still fails in JSON).
        error = OpenApiResponse(ErrorSerializer, description=ERROR_RESPONSES[status])
        response = self._get_response_for_code(error, str(status), media_types=["application/json"])
        if status == 429:
            response["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds until a retry may succeed."}
            }
        return response
