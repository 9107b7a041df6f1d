"""Examples for the status page API's schema: TikTok Shop's own page during the outage of reports/api/examples.py.

The provider opened its incident at 19:05 UTC, two minutes after our outage opened at 19:03;
the page was read at 19:39:12. outagehub/tests/test_api_examples.py validates these against the
schema; statuspages/tests/test_api.py compares their shape with a real answer.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample

from outagehub.api.errors import error_body

INCIDENT: dict[str, Any] = {
    "id": "p31zjtct2jer",
    "title": "Investigating payment errors",
    "status": "identified",
    "level": "partial_outage",
    "maintenance": False,
    "started_at": "2026-11-26T19:05:00Z",
    "resolved_at": None,
    "components": ["Checkout", "Payments"],
    "url": "https://stspg.io/p31zjtct2jer",
    "updates": [
        {
            "id": "0pq9k3lr8m2c",
            "at": "2026-11-26T19:05:00Z",
            "status": "investigating",
            "body": "We are investigating payment errors at checkout.",
        },
        {
            "id": "h6kl0tqcbx5v",
            "at": "2026-11-26T19:20:00Z",
            "status": "identified",
            "body": "The issue has been identified: a payment provider is declining cards. A fix is being implemented.",
        },
    ],
}

STATUS_PAGE = [
    OpenApiExample(
        "TikTok Shop's page during the outage",
        response_only=True,
        value={
            "service": "tiktok-shop",
            "kind": "atlassian",
            "url": "https://status.tiktokshop.example/api/v2/summary.json",
            "page_url": "https://status.tiktokshop.example/",
            "level": "partial_outage",
            "stale": False,
            "reason": "",
            "description": "Partial System Outage",
            "fetched_at": "2026-11-26T19:39:12.418233Z",
            "attempted_at": "2026-11-26T19:39:12.418233Z",
            "components": [
                {"name": "Storefront", "level": "operational"},
                {"name": "Checkout", "level": "partial_outage"},
                {"name": "Payments", "level": "major_outage"},
            ],
            "incidents": [INCIDENT],
        },
    ),
    OpenApiExample(
        "A service without an official page",
        response_only=True,
        status_codes=[404],
        value=error_body(
            message="status_page: Etsy has no official status page.",
            code="not_found",
            errors={"status_page": ["Etsy has no official status page."]},
        ),
    ),
]
