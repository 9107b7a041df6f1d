"""Request parsing and content negotiation that answer 4xx, never 500."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from rest_framework import exceptions, negotiation, parsers
from rest_framework.renderers import BaseRenderer

# Bidirectional embeddings, overrides and isolates: they reorder how the text around them is
# displayed ("Trojan Source"), so a comment could read differently from what is stored. The
# marks U+200E/U+200F that right-to-left text needs stay allowed.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MAX_JSON_INT = 2**63 - 1  # what PostgreSQL's bigint holds; no field of ours needs more


def text_problem(value: str) -> str | None:
    """Why a string from a client cannot be stored or shown safely, or None.

    NUL cannot be stored in PostgreSQL text, a lone surrogate cannot be encoded as UTF-8 at all
    (both were 500s), and bidirectional controls disguise text.
    """
    if "\x00" in value:
        return "Null characters are not allowed (U+0000)."
    for char in value:
        if "\ud800" <= char <= "\udfff":
            return f"Contains a lone surrogate (U+{ord(char):04X}), which is not valid Unicode text."
        if char in _BIDI_CONTROLS:
            return f"Contains a bidirectional control character (U+{ord(char):04X}), which is not allowed."
    return None


def _text_errors(data: Any) -> dict[str, list[str]]:
    """Problems (see text_problem) of every string in parsed JSON, keys included, by path (`a.b[2]`)."""
    errors: dict[str, list[str]] = {}
    stack: list[tuple[str, Any]] = [("", data)]
    while stack and len(errors) < 10:
        path, value = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                errors[path or "body"] = [problem]
        elif isinstance(value, dict):
            for key, item in value.items():
                key_path = f"{path}.{key}" if path else str(key)
                problem = text_problem(key)
                if problem:
                    errors[f"{path or 'body'} (a key)"] = [problem]
                    continue
                stack.append((key_path, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
    return errors


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > 19 or abs(number := int(text)) > MAX_JSON_INT:
        raise ValueError(f"number {text[:24]}{'...' if len(text) > 24 else ''} is too large (at most {MAX_JSON_INT})")
    return number


def _parse_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"number {text[:24]} is too large")
    return number


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The body is too large."
    default_code = "too_large"

    def __init__(self, limit: int) -> None:
        super().__init__({"body": [f"The body is larger than {limit} bytes, the most this endpoint takes."]})


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing with a 4xx what it let through as a 500 or stored as garbage.

    - A body larger than the view's `max_body_bytes` (else DATA_UPLOAD_MAX_MEMORY_SIZE): 413.
    - Nested too deeply: Python's json module recurses once per level, and a thousand "[" raised
      RecursionError (a 500).
    - Numbers beyond 64 bits, or that overflow a float (1e999 is infinity): 400.
    - An unknown charset in Content-Type: 400 (it raised LookupError).
    - Strings (and keys) with NUL, lone surrogates or bidirectional controls: 400 naming the field.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        context = parser_context or {}
        view = context.get("view")
        limit = min(getattr(view, "max_body_bytes", None) or math.inf, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        raw = stream.read(int(limit) + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(int(limit))
        encoding = parsers.get_encoding(context)  # type: ignore[attr-defined]  # text encodings only (no bz2_codec bombs); newer than the stubs
        try:
            text = raw.decode(encoding)
            data = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant)
        except LookupError:
            raise exceptions.ParseError(f"Unknown charset {encoding[:40]!r}; send UTF-8 JSON.") from None
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        errors = _text_errors(data)
        if errors:
            raise exceptions.ValidationError(errors)
        return data


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


class ContentNegotiation(negotiation.DefaultContentNegotiation):
    """DRF's, except that an explicit format wins over `Accept`, and an unknown one is a 400 naming the formats.

    DRF narrows the renderers to the format and then still matches them against `Accept`, so
    `?format=csv` from a client that sends `Accept: application/json` by default (most HTTP
    libraries) was a 406. Whoever wrote the URL asked for CSV: that is the answer.
    """

    def select_renderer(
        self, request: Any, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[Any, str]:
        format = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        if not format:  # absent, or empty as an HTML form sends it
            return super().select_renderer(request, renderers, format_suffix)
        renderer = self.filter_renderers(renderers, format)[0]
        return renderer, renderer.media_type

    def filter_renderers(self, renderers: Iterable[BaseRenderer], format: str) -> list[BaseRenderer]:
        renderers = list(renderers)  # read twice below
        matching = [renderer for renderer in renderers if renderer.format == format]
        if not matching:
            allowed = ", ".join(dict.fromkeys(renderer.format for renderer in renderers))
            raise exceptions.ValidationError({"format": [f"Unknown format {format[:20]!r}. Allowed: {allowed}."]})
        return matching
