"""Request parsing and content negotiation that answer 4xx, never 500."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rest_framework import exceptions, negotiation, parsers
from rest_framework.renderers import BaseRenderer


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a body nested too deeply to parse refused like any malformed one.

    Python's json module recurses once per level of nesting: a body of a thousand "[" raises
    RecursionError, which DRF lets through as a 500.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None


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
