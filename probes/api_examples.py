"""Examples for the probes API's schema: TikTok Shop's homepage probe through the outage of reports/api/examples.py.

Probe 31 checks https://shop.tiktok.com/ every minute from two regions; both time out from
19:02 to 19:21 UTC on 2026-11-26. Check times are the checkers' clock, with microseconds.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample

from outagehub.api.examples import HOST, invalid, next_cursor, page_size_invalid
from outagehub.api.pagination import PageNumberPagination, TimeCursorPagination

REGIONS = ["eu-west", "us-east"]

# `?service=tiktok-shop&page_size=1`: probes come by service name, then name.
CERTIFICATE = {
    "id": 34,
    "service": "tiktok-shop",
    "name": "certificate",
    "kind": "tls",
    "target": "shop.tiktok.com:443",
    "interval_seconds": 3600,
    "timeout_seconds": 10.0,
    "failure_threshold": 3,
    "success_threshold": 2,
    "regions": REGIONS,
    "state": "up",
    "state_since": "2026-11-19T08:00:02.193847Z",
}
PROBES_COUNT = 4
PROBES_NEXT = f"{HOST}/api/v1/probes/?page=2&page_size=1&service=tiktok-shop"
PROBE_LIST = [
    OpenApiExample("The first probe of TikTok Shop", value=CERTIFICATE, response_only=True),
    page_size_invalid(PageNumberPagination),
]

RESULT: dict[str, Any] = {
    "region": "eu-west",
    "checked_at": "2026-11-26T19:09:20.512094Z",
    "outcome": "down",
    "latency_ms": 10004,
    "status_code": None,
    "error": "timeout",
    "message": "timeout after 10 s",
}
RESULTS_NEXT = next_cursor(
    "/api/v1/probes/31/results/", RESULT["checked_at"], page_size=1, until="2026-11-26T19:10:00Z"
)
RESULT_LIST = [
    OpenApiExample("A timeout during the outage", value=RESULT, response_only=True),
    invalid("An until before since", {"until": ["Must be after since."]}),
]

# The newest change: the probe back up by quorum once its second region recovered.
EVENT: dict[str, Any] = {
    "at": "2026-11-26T19:22:19.870455Z",
    "region": "",
    "from_state": "down",
    "to_state": "up",
    "evidence": {"regions": {"eu-west": "up", "us-east": "up"}, "trigger": 90533},
}
EVENTS_NEXT = next_cursor("/api/v1/probes/31/events/", EVENT["at"], page_size=1)
EVENT_LIST = [
    OpenApiExample("Back up", value=EVENT, response_only=True),
    page_size_invalid(TimeCursorPagination),
]

UPTIME = [
    OpenApiExample(
        "Hours through the outage",
        response_only=True,
        value={
            "probe": 31,
            "bucket": "1h",
            "since": "2026-11-26T17:00:00Z",
            "until": "2026-11-26T20:00:00Z",
            "buckets": [
                {
                    "start": "2026-11-26T17:00:00Z",
                    "up": 120,
                    "degraded": 0,
                    "down": 0,
                    "inconclusive": 0,
                    "uptime_percent": 100.0,
                    "latency_p50_ms": 181,
                    "latency_p95_ms": 246,
                },
                {
                    "start": "2026-11-26T18:00:00Z",
                    "up": 119,
                    "degraded": 1,
                    "down": 0,
                    "inconclusive": 0,
                    "uptime_percent": 100.0,
                    "latency_p50_ms": 183,
                    "latency_p95_ms": 402,
                },
                # The current hour, summarised from raw results: 40 minutes, 2 regions.
                {
                    "start": "2026-11-26T19:00:00Z",
                    "up": 42,
                    "degraded": 0,
                    "down": 38,
                    "inconclusive": 0,
                    "uptime_percent": 52.5,
                    "latency_p50_ms": 204,
                    "latency_p95_ms": 10004,
                },
            ],
        },
    ),
    invalid("A bucket size it does not offer", {"bucket": ['"15m" is not a valid choice. Allowed: 1h, 1d.']}),
]
