"""Chunked request bodies, read whole (up to the size limit) before Django sees the request.

A client that streams its body (`Transfer-Encoding: chunked`) sends no Content-Length. Gunicorn
decodes the chunks for us, but Django reads CONTENT_LENGTH bytes of `wsgi.input` and takes a
missing length for an empty body, so such a report arrived as `{}` (a 400 that blamed the
client for leaving out fields it had sent). This middleware reads the decoded body, at most
DATA_UPLOAD_MAX_MEMORY_SIZE bytes of it, and hands Django a request with a Content-Length.
A larger body is refused with 413 without reading the rest.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ChunkedBodyMiddleware:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            body = environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return _too_large(environ, start_response, limit)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def _too_large(environ: dict[str, Any], start_response: Callable[..., Any], limit: int) -> list[bytes]:
    message = f"The body is larger than {limit} bytes."
    if environ.get("PATH_INFO", "").startswith("/api/"):
        # The API's one error body (outagehub.api.errors.error_body), without importing DRF here.
        body = json.dumps({"message": message, "code": "too_large", "errors": {"body": [message]}}).encode()
        content_type = "application/json"
    else:
        body, content_type = message.encode(), "text/plain; charset=utf-8"
    # The rest of the body is unread: the connection cannot carry another request.
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), ("Connection", "close")]
    start_response("413 Request Entity Too Large", headers)
    return [body]
