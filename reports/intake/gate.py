"""Refuse a flooding client's next reports before any view runs (see throttles.FloodGate)."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from outagehub.api.errors import error_body
from reports.intake.throttles import FLOOD_GATE, ReportRateThrottle

# The API's report endpoint; the web form answers a refusal with the whole page, so its view checks.
REPORT_PATH = re.compile(r"^/api/v1/services/([^/]+)/reports/$")  # group 1: the service's slug


class ReportFloodGateMiddleware:
    """A POST of a report from a client (or network) refused moments ago: 429 at once, no database, no cache.

    Costs a regex match for every other request, and two keyed hashes for a report.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and REPORT_PATH.match(request.path_info):
            keys = [limit.key for limit in ReportRateThrottle().limits(request)]
            wait = FLOOD_GATE.wait(keys, time.time())
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                message = f"Request was throttled. Expected available in {seconds} seconds."
                response = JsonResponse(error_body(message=message, code="throttled"), status=429)
                response["Retry-After"] = str(seconds)
                response["Cache-Control"] = "no-store"
                return response
        return self.get_response(request)
