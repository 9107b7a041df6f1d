"""The report intake's common case without DRF's machinery: a valid JSON report, answered 201 (or 202).

At outage scale nearly every request is the same well-formed POST, and DRF's per-request
work (request wrapping, content negotiation, serializer construction, rendering) costs more
than filing the report. This handles exactly the requests whose answer is a success, with the
same checks, rate limit and body as ReportCreateApi; anything else (an unusual body or header,
an unknown service or issue type, a bad country, a throttled client, intake unavailable)
returns None before anything is stored, and the DRF view answers it, so every error keeps
its one body. The request body stays readable for it (Django keeps request.body).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_header_parameters

from catalog.models import Service
from outagehub.api.serializers import iso_time
from outagehub.metrics import report_counted
from reports.intake import writebehind
from reports.intake.identity import IPAddress, client_ip
from reports.intake.limits import Limit, RateLimited
from reports.intake.services import IntakeUnavailable, ReportDraft, report_submit
from reports.intake.throttles import FLOOD_GATE, ReportRateThrottle, release_request, report_limits
from reports.models import COMMENT_MAX_LENGTH, Channel, Report

FIELDS = frozenset({"issue_type", "comment", "country"})
MAX_BODY = 4096  # bytes; a larger report body goes the long way (and meets its limits there)
# Limits of ReportCreateApi.InputSerializer: a value past them goes the long way too.
LIMITS = {"issue_type": 32, "comment": COMMENT_MAX_LENGTH, "country": 64}
# Headers that change the answer (authentication, negotiation): with them, the long way.
DETOURS = ("HTTP_AUTHORIZATION", "HTTP_X_API_KEY")
JSON_ACCEPTS = frozenset({"", "*/*", "application/json", "application/*"})
ALLOW = "POST, OPTIONS"  # the view's methods, as DRF's answer names them
# Set in the WSGI environ by the intake front (front.py) on a report it tried and left to Django:
# the view goes straight to DRF instead of trying the same fast path a second time.
DECLINED = "outagehub.fastpath_declined"


def report_body(report: Report) -> dict[str, Any]:
    """ReportCreateApi.OutputSerializer's body, built directly."""
    return {
        "id": report.pk,
        "service": report.service.slug,
        "issue_type": report.issue_type.key,
        "counted": report.counted,
        "not_counted_reason": report.not_counted_reason,
        "counts_again_at": iso_time(report.counts_again_at),
        "created_at": iso_time(report.created_at),
    }


def queued_body(slug: str, draft: ReportDraft) -> dict[str, Any]:
    """ReportCreateApi.QueuedSerializer's body, built directly."""
    return {"service": slug, "issue_type": draft.issue_type, "queued": True, "created_at": iso_time(draft.created_at)}


@lru_cache(maxsize=64)
def _is_json_utf8(content_type: str) -> bool:
    """As Django reads request.content_type and its charset; kept per header value (a few in practice)."""
    media_type, params = parse_header_parameters(content_type)
    return media_type == "application/json" and params.get("charset", "utf-8").lower() in {"utf-8", "utf8"}


def plain_length(meta: Mapping[str, Any]) -> int | None:
    """The body's length if the request's headers are those of a plain report; None for anything else.

    Reads only headers (META, or a WSGI environ: the same keys), so a caller decides before
    reading the body.
    """
    if meta.get("QUERY_STRING") or any(name in meta for name in DETOURS):
        return None
    if meta.get("HTTP_ACCEPT", "").strip() not in JSON_ACCEPTS:
        return None
    if not _is_json_utf8(meta.get("CONTENT_TYPE", "")) or "HTTP_TRANSFER_ENCODING" in meta:
        return None
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return length if 0 < length <= MAX_BODY else None


def body_fields(body: bytes) -> dict[str, str] | None:
    """The report's fields if `body` is a plain, valid report; None for anything else."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # a body nested too deeply: the long way says so
        return None
    if not isinstance(data, dict) or not data.keys() <= FIELDS or "issue_type" not in data:
        return None
    fields = {}
    for name, value in data.items():
        if value is None and name != "issue_type":
            value = ""
        # DRF's CharField trims whitespace and refuses blank required values: such values go the long way.
        if not isinstance(value, str) or value != value.strip() or len(value) > LIMITS[name] or "\x00" in value:
            return None
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError:  # a lone surrogate: the long way names the field
                return None
        fields[name] = value
    return fields if fields["issue_type"] else None


# As DRF's JSONRenderer writes it: compact, UTF-8 (U+2028/2029 escaped in _json). Built once:
# json.dumps with options builds an encoder per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _json(body: dict[str, Any]) -> bytes:
    text = _ENCODE(body)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def report_post_fast(request: HttpRequest, slug: str) -> HttpResponse | None:
    """File a report and answer it, or None when the DRF view must answer (nothing was stored then)."""
    if DECLINED in request.META or plain_length(request.META) is None:
        return None
    fields = body_fields(request.body)
    if fields is None:
        return None
    if writebehind.enabled():
        answer = report_take_answer(request.META, fields, slug)
    else:
        answer = _create_answer(request, fields, slug)
    if answer is None:
        return None
    status, content = answer
    response = HttpResponse(content, status=status, content_type="application/json")
    response["Allow"] = ALLOW
    return response


def _create_answer(request: HttpRequest, fields: dict[str, str], slug: str) -> tuple[int, bytes] | None:
    """Without write-behind: the throttle, then the report stored at once (or deferred to the broker)."""
    if not ReportRateThrottle().allow_request(request, None):
        return None  # over the limit: the long way answers the 429 (a refusal reserves nothing)
    meta = request.META
    try:
        result = _submit(meta, slug, fields, client_ip(meta))
    except (Service.DoesNotExist, ValidationError, IntakeUnavailable):
        # Refused, nothing stored: give back the place the check reserved, and the long way
        # (which checks the limit again) answers with its error body.
        release_request(request)
        return None
    # Taken: the place the check reserved stays taken (only reports taken count against the limit).
    return _answer_of(slug, result)


def report_take_answer(meta: Mapping[str, Any], fields: dict[str, str], slug: str) -> tuple[int, bytes] | None:
    """Write-behind: the rate limits are taken in the script that claims the cooldown and queues the report.

    One Redis round trip for the whole decision, and the limits are only ever taken by a report
    that is taken. Returns the answer's status and body, or None when the long way must answer:
    refused by a limit (just now, or moments ago: the flood gate then answers it at once), or
    an error it names.
    """
    ip = client_ip(meta)
    now = time.time()
    limits = report_limits(ip)
    if FLOOD_GATE.wait([limit.key for limit in limits], now) > 0:
        return None
    try:
        result = _submit(meta, slug, fields, ip, limits=limits)
    except RateLimited as exc:
        FLOOD_GATE.block(exc.refusal.limit.key, now + exc.refusal.wait(now))
        return None
    except (Service.DoesNotExist, ValidationError, IntakeUnavailable):
        return None
    return _answer_of(slug, result)


def _answer_of(slug: str, result: Report | ReportDraft) -> tuple[int, bytes]:
    if isinstance(result, ReportDraft):
        return 202, _json(queued_body(slug, result))
    report_counted(channel="api", counted=result.counted, reason=result.not_counted_reason)
    return 201, _json(report_body(result))


def _submit(
    meta: Mapping[str, Any],
    slug: str,
    fields: dict[str, str],
    ip: IPAddress | None,
    *,
    limits: tuple[Limit, ...] = (),
) -> Report | ReportDraft:
    return report_submit(
        slug=slug,
        issue_type_key=fields["issue_type"],
        comment=fields.get("comment", ""),
        country=fields.get("country", ""),
        channel=Channel.API,
        client=ip,
        user_agent=meta.get("HTTP_USER_AGENT", ""),
        limits=limits,
    )
