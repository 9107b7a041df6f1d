"""Examples for the reports API's schema: TikTok Shop's card payment outage of 2026-11-26, as the API shows it.

The outage opens at 19:03 UTC; "now" is about 19:40. Times the detector sets are whole minutes;
times stamped by the clock (reports, status updates, deliveries, probe checks) carry microseconds,
as the API writes them. outagehub/tests/test_api_examples.py validates every example against the
schema and compares some with real responses: keep them true to the serializers.

List examples are one item: drf-spectacular puts each in the operation's paginated envelope, taking
`count`, `next` and `previous` from the paginator's schema (see ExampleLinks).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample

from outagehub.api.examples import invalid, next_cursor, page_size_invalid
from outagehub.api.pagination import PageNumberPagination, TimeCursorPagination

# --- paginated envelopes ---------------------------------------------------------------


# --- services ------------------------------------------------------------------------------

SERVICE_SUMMARY = {
    "slug": "tiktok-shop",
    "name": "TikTok Shop",
    "homepage": "https://shop.tiktok.com",
    "description": "Shopping inside TikTok.",
    "status": "outage",
}

SERVICE_LIST = [
    OpenApiExample("Services in outage", value=SERVICE_SUMMARY, response_only=True),
    invalid("An unknown status", {"status": ['"down" is not a valid choice. Allowed: ok, possible, outage.']}),
]

SERVICE_DETAIL = [
    OpenApiExample(
        "TikTok Shop in outage",
        response_only=True,
        value={
            **{key: value for key, value in SERVICE_SUMMARY.items() if key != "status"},
            "issue_types": [
                {"key": "server", "label": "Server"},
                {"key": "payment", "label": "Payment"},
                {"key": "inventory", "label": "Inventory"},
                {"key": "shipping", "label": "Shipping"},
            ],
            "reports": {"last_15_minutes": 981, "last_24_hours": 5987},
            "status": "outage",
            "status_since": "2026-11-26T19:03:00Z",
            "status_as_of": "2026-11-26T19:40:00Z",
            "status_stale": False,
            "window_minutes": 15,
            "expected": 33.409,
            "actual": 1067,
            "band": [6, 86],
            "problems": [
                {"key": "payment", "count": 1030, "percent": 96.5, "expected": 16.268, "spiking": True},
                {"key": "server", "count": 23, "percent": 2.2, "expected": 14.833, "spiking": False},
                {"key": "inventory", "count": 8, "percent": 0.7, "expected": 1.276, "spiking": False},
                {"key": "shipping", "count": 6, "percent": 0.6, "expected": 1.031, "spiking": False},
            ],
        },
    )
]

REPORT_CREATE = [
    OpenApiExample(
        "A card payment problem",
        request_only=True,
        value={"issue_type": "payment", "comment": "Card declined at checkout", "country": "US"},
    ),
    OpenApiExample(
        "Counted",
        response_only=True,
        value={
            "id": 1849372,
            "service": "tiktok-shop",
            "issue_type": "payment",
            "counted": True,
            "not_counted_reason": None,
            "counts_again_at": None,
            "created_at": "2026-11-26T19:38:12.504317Z",
        },
    ),
    OpenApiExample(
        "Not counted: the same reporter within the cooldown",
        response_only=True,
        value={
            "id": 1849415,
            "service": "tiktok-shop",
            "issue_type": "payment",
            "counted": False,
            "not_counted_reason": "cooldown",
            "counts_again_at": "2026-11-26T19:53:12.504317Z",
            "created_at": "2026-11-26T19:41:07.118230Z",
        },
    ),
    OpenApiExample(
        "Queued while the database is unavailable",
        response_only=True,
        status_codes=["202"],
        value={
            "service": "tiktok-shop",
            "issue_type": "payment",
            "queued": True,
            "created_at": "2026-11-26T19:38:12.504317Z",
        },
    ),
    invalid(
        "An issue type the service does not have",
        {"issue_type": ["'login' is not an issue type of TikTok Shop. Allowed: server, payment, inventory, shipping."]},
    ),
]

COMMENT = {
    "created_at": "2026-11-26T19:39:59.974239Z",
    "issue_type": "payment",
    "comment": "Card declined at checkout",
    "country": "US",
}
COMMENTS_NEXT = next_cursor("/api/v1/services/tiktok-shop/comments/", COMMENT["created_at"], page_size=1)
COMMENT_LIST = [
    OpenApiExample("The newest comment", value=COMMENT, response_only=True),
    page_size_invalid(TimeCursorPagination),
]


# --- series, breakdown, timeline ---------------------------------------------------------

SERIES = {
    "service": "tiktok-shop",
    "bucket": "15m",
    "since": "2026-11-26T18:45:00Z",
    "until": "2026-11-26T19:45:00Z",
    "buckets": [
        {"start": "2026-11-26T18:45:00Z", "count": 29, "expected": 32.512, "band": [5, 84], "level": "ok"},
        {"start": "2026-11-26T19:00:00Z", "count": 968, "expected": 32.896, "band": [5, 85], "level": "outage"},
        {"start": "2026-11-26T19:15:00Z", "count": 1070, "expected": 33.042, "band": [5, 85], "level": "outage"},
        # The current quarter hour: the detector has not processed all its minutes yet.
        {"start": "2026-11-26T19:30:00Z", "count": 713, "expected": None, "band": None, "level": "outage"},
    ],
}
SERIES_NAME = "The outage by quarter hour"
SERIES_INVALID = invalid(
    "A bucket size it does not offer", {"bucket": ['"5m" is not a valid choice. Allowed: 1m, 15m, 1h, 1d.']}
)

# The hour 19:00 UTC by country, from the hourly rollups (reports until about 19:40).
COUNTRY_HOUR = {"US": 1508, "GB": 358, "DE": 276, "JP": 209, "": 163, "FR": 147, "BR": 90}
COUNTRY_NAMES = {
    "US": "United States",
    "GB": "United Kingdom",
    "DE": "Germany",
    "JP": "Japan",
    "": "Unknown",
    "FR": "France",
    "BR": "Brazil",
}


def _shares(counts: dict[str, int]) -> list[tuple[str, int, float]]:
    total = sum(counts.values())
    return [(key, count, round(100 * count / total, 1)) for key, count in counts.items()]


BREAKDOWN = [
    OpenApiExample(
        "Half an hour of the outage",
        response_only=True,
        value={
            "since": "2026-11-26T19:00:00Z",
            "until": "2026-11-26T19:30:00Z",
            "total": 2038,
            "issue_types": [
                {"key": key, "label": key.capitalize(), "count": count, "percent": percent}
                for key, count, percent in _shares({"payment": 1975, "server": 37, "inventory": 16, "shipping": 10})
            ],
            "countries": [
                {"country": code, "name": COUNTRY_NAMES[code], "count": count, "percent": percent}
                for code, count, percent in _shares(COUNTRY_HOUR)
            ],
        },
    ),
    invalid("A since after now", {"since": ["Must be before until (now, when until is not given)."]}),
]

PROBE_DOWN_AT = "2026-11-26T19:04:21.384512Z"
PROBE_DOWN_EVIDENCE = {"regions": {"eu-west": "down", "us-east": "down"}, "trigger": 90412}
OPENED = {
    "actual": 81,
    "expected": 2.17,
    "window_minutes": 1.0,
    "p_value": 1.3283195720457017e-33,
    "count": 81,
    "expected_row": 2.17,
    "by": "reports",
    "level": "outage",
}
PEAK = {"count": 87, "expected": 2.375}
INVESTIGATING = {
    "state": "investigating",
    "message": "Some card payments fail at checkout. We are investigating.",
    "author": "TikTok Shop status team",
    "created_at": "2026-11-26T19:08:41.523190Z",
}
IDENTIFIED = {
    "state": "identified",
    "message": "A payment provider rejects some cards; we are switching them to another provider.",
    "author": "TikTok Shop status team",
    "created_at": "2026-11-26T19:31:05.118064Z",
}


def _status_update(update: dict[str, str]) -> dict[str, Any]:
    return {key: value for key, value in update.items() if key != "created_at"}


def _outage_event(at: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"at": at, "type": "outage_event", "outage": 4812, "kind": kind, "probe": None, "data": data}


TIMELINE = [
    OpenApiExample(
        "The outage opening",
        response_only=True,
        value={
            "service": "tiktok-shop",
            "since": "2026-11-26T18:30:00Z",
            "until": "2026-11-26T19:40:17.226514Z",
            "truncated": False,
            "items": [
                _outage_event("2026-11-26T19:03:00Z", "opened", OPENED),
                {
                    "at": PROBE_DOWN_AT,
                    "type": "probe_event",
                    "outage": None,
                    "kind": "probe_down",
                    "probe": {"id": 31, "name": "homepage"},
                    "data": {"from_state": "up", "to_state": "down", "evidence": PROBE_DOWN_EVIDENCE},
                },
                _outage_event(
                    PROBE_DOWN_AT, "probe_down", {"probe": 31, "name": "homepage", "evidence": PROBE_DOWN_EVIDENCE}
                ),
                _outage_event(INVESTIGATING["created_at"], "status_update", _status_update(INVESTIGATING)),
                _outage_event("2026-11-26T19:12:00Z", "peak", PEAK),
            ],
        },
    ),
    invalid(
        "A since that is not a time",
        {
            "since": [
                "Datetime has wrong format. Use one of these formats instead: "
                "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
            ]
        },
    ),
]


# --- outages and their status updates -----------------------------------------------------

OUTAGE: dict[str, Any] = {
    "id": 4812,
    "service": "tiktok-shop",
    "status": "open",
    "confidence": "confirmed",
    "level": "outage",
    "started_at": "2026-11-26T19:03:00Z",
    "resolved_at": None,
    "ended_at": None,
    "acknowledged_at": INVESTIGATING["created_at"],
    "team_state": "identified",
    "peak_at": "2026-11-26T19:12:00Z",
    "peak_count": PEAK["count"],
    "peak_expected": PEAK["expected"],
    "issue_types": {"payment": 2662, "server": 52, "inventory": 19, "shipping": 12},
    # By hour, so the reports of 19:00-19:03 count too; "??" is an unknown country.
    "countries": {code or "??": count for code, count in COUNTRY_HOUR.items()},
    "cause": None,
    "affected_dependents": [],
}
OUTAGES_NEXT = next_cursor("/api/v1/outages/", OUTAGE["started_at"], page_size=1, service="tiktok-shop")
OUTAGE_LIST = [
    OpenApiExample("The newest outage of TikTok Shop", value=OUTAGE, response_only=True),
    invalid("An unknown status", {"status": ['"closed" is not a valid choice. Allowed: open, resolved.']}),
]

CAUSE_EVIDENCE = {
    "cause": "cloudflare",
    "cause_name": "Cloudflare",
    "status": "confirmed",
    "points": 7.0,
    "affected": 5,
    "dependents": 6,
    "affected_services": ["doordash", "etsy", "shein", "shopify", "temu"],
    "upstream_outage": 4809,
    "upstream_outage_level": "outage",
    "upstream_probes_down": False,
    "official_level": None,
    "lag_minutes": 3.0,
}
CAUSED_OUTAGE = {
    **OUTAGE,
    "id": 4813,
    "service": "shopify",
    "team_state": "",
    "acknowledged_at": None,
    "cause": {
        "service": "cloudflare",
        "service_name": "Cloudflare",
        "status": "confirmed",
        "outage": 4809,
        "summary": "Caused by Cloudflare (5 of 6 dependent services affected, Cloudflare itself has an outage)",
        "evidence": CAUSE_EVIDENCE,
    },
    "timeline": [
        {"at": "2026-11-26T19:03:00Z", "kind": "opened", "data": OPENED},
        {"at": "2026-11-26T19:05:00Z", "kind": "cause", "data": CAUSE_EVIDENCE},
    ],
}

OUTAGE_DETAIL = [
    OpenApiExample(
        "Confirmed and acknowledged",
        response_only=True,
        value={
            **OUTAGE,
            "timeline": [
                {"at": "2026-11-26T19:03:00Z", "kind": "opened", "data": OPENED},
                {
                    "at": PROBE_DOWN_AT,
                    "kind": "probe_down",
                    "data": {"probe": 31, "name": "homepage", "evidence": PROBE_DOWN_EVIDENCE},
                },
                {"at": INVESTIGATING["created_at"], "kind": "status_update", "data": _status_update(INVESTIGATING)},
                {"at": "2026-11-26T19:12:00Z", "kind": "peak", "data": PEAK},
                {"at": IDENTIFIED["created_at"], "kind": "status_update", "data": _status_update(IDENTIFIED)},
            ],
        },
    ),
    OpenApiExample("Caused by an upstream", response_only=True, value=CAUSED_OUTAGE),
]

UPDATES_NEXT = next_cursor("/api/v1/outages/4812/updates/", INVESTIGATING["created_at"], page_size=1)
UPDATE_LIST = [
    OpenApiExample("The first status update", value=INVESTIGATING, response_only=True),
    page_size_invalid(TimeCursorPagination),
]
UPDATE_CREATE = [
    OpenApiExample(
        "The cause found", request_only=True, value={"state": "identified", "message": IDENTIFIED["message"]}
    ),
    OpenApiExample("Posted", response_only=True, value=IDENTIFIED),
    invalid(
        "An unknown state",
        {"state": ['"fixed" is not a valid choice. Allowed: investigating, identified, monitoring, resolved.']},
    ),
]


# --- webhooks -------------------------------------------------------------------------------

WEBHOOK = {
    "id": 17,
    "url": "https://hooks.acme.example/outagehub",
    "events": ["outage.opened", "outage.resolved"],
    "services": ["tiktok-shop"],
    "active": True,
    "created_at": "2026-11-12T09:14:03.771902Z",
}
WEBHOOK_LIST = [
    OpenApiExample("One subscription", value=WEBHOOK, response_only=True),
    page_size_invalid(PageNumberPagination),
]
WEBHOOK_DETAIL = [OpenApiExample("A subscription to TikTok Shop", value=WEBHOOK, response_only=True)]
WEBHOOK_CREATE = [
    OpenApiExample(
        "Outages of TikTok Shop opening and resolving",
        request_only=True,
        value={key: WEBHOOK[key] for key in ("url", "events", "services")},
    ),
    OpenApiExample(
        "Subscribed",
        response_only=True,
        value={**WEBHOOK, "secret": "whsec_nB9kvg1Sp+g7TxfWwqCeX407YcSn4vCbXYw6Hm9LLXA="},
    ),
    invalid(
        "A URL that is not http and an unknown event",
        {
            "url": ["Give an http or https URL."],
            "events": ["Unknown event; give one or more of: outage.opened, outage.updated, outage.resolved."],
        },
    ),
]

DELIVERY: dict[str, Any] = {
    "id": 2305,
    "event": "outage.opened",
    "outage": 4812,
    "status": "delivered",
    "attempts": 2,
    "last_status_code": 200,
    "last_error": "",
    "next_attempt_at": None,
    "delivered_at": "2026-11-26T19:04:33.058817Z",
    "created_at": "2026-11-26T19:04:02.615230Z",
    # The outage as it was when it opened.
    "payload": {
        "id": 2305,
        "event": "outage.opened",
        "created_at": "2026-11-26T19:04:02.614871Z",
        "outage": {
            "id": 4812,
            "service": "tiktok-shop",
            "service_name": "TikTok Shop",
            "status": "open",
            "confidence": "crowd",
            "level": "outage",
            "started_at": "2026-11-26T19:03:00Z",
            "resolved_at": None,
            "ended_at": None,
            "acknowledged_at": None,
            "peak_at": "2026-11-26T19:03:00Z",
            "peak_count": OPENED["count"],
            "peak_expected": OPENED["expected"],
            "issue_types": {"payment": 77, "server": 2, "shipping": 2},
            "countries": {"US": 48, "GB": 12, "DE": 9, "??": 7, "JP": 6, "FR": 5},
            "cause": None,
        },
    },
}
DELIVERIES_NEXT = next_cursor("/api/v1/webhooks/17/deliveries/", DELIVERY["created_at"], page_size=1)
DELIVERY_LIST = [
    OpenApiExample("Delivered on the second attempt", value=DELIVERY, response_only=True),
    page_size_invalid(TimeCursorPagination),
]
