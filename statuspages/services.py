"""Writes for status pages: claiming due polls, polling, recording snapshots and incidents."""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from outagehub.outbound import Allow, IPAddress
from statuspages.fetcher import Fetched, FetchOutcome, fetch
from statuspages.kinds import IncidentStatus, OfficialLevel, PageKind
from statuspages.models import SNAPSHOTS_KEPT, ProviderIncident, StatusPage, StatusSnapshot
from statuspages.parsers import Incident, Snapshot, parse
from statuspages.parsers.base import unknown
from statuspages.schedule import next_poll_delay

UPDATES_KEPT = 50  # per incident, newest kept
# incident.io pages also serve Statuspage's summary here; read when the widget endpoint fails.
INCIDENTIO_WIDGET_PATH = "/api/v1/summary"
INCIDENTIO_FALLBACK_PATH = "/api/v2/summary.json"


# --- the operator's allowance for private addresses -------------------------------------------


def parse_endpoint(text: str) -> tuple[IPAddress, int]:
    """ "127.0.0.1:8199" or "[::1]:8199" as (address, port); ImproperlyConfigured naming the setting if malformed."""
    host, sep, port = text.strip().rpartition(":")
    try:
        address = ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
        number = int(port)
        if not sep or not 0 < number < 65536:
            raise ValueError
    except ValueError:
        raise ImproperlyConfigured(
            f"OUTAGEHUB_STATUSPAGES_ALLOWED_ADDRESSES: {text!r} is not address:port (127.0.0.1:8199, [::1]:8199)"
        ) from None
    return address, number


def also_allow() -> Allow | None:
    """The (address, port) pairs the operator lets status pages reach although they are private."""
    allowed = {parse_endpoint(text) for text in settings.STATUSPAGES_ALLOWED_ADDRESSES}
    if not allowed:
        return None
    return lambda ip, port: (ip, port) in allowed


# --- claiming ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PollClaim:
    page_id: int
    token: str


def claim_lease() -> dt.timedelta:
    """How long a claimed poll may take before the page is due again (a worker died holding it)."""
    return dt.timedelta(seconds=2 * settings.STATUSPAGES_TIMEOUT_SECONDS + 60)


def status_pages_claim_due(*, now: dt.datetime) -> list[PollClaim]:
    """Claim every due page: each due poll is claimed by exactly one caller.

    The claim moves `next_poll_at` past a lease with a conditional UPDATE on its old value, so two
    schedulers racing over a page cannot both win; the poll then sets the real next time.
    """
    claims = []
    due = StatusPage.objects.filter(enabled=True, service__active=True, next_poll_at__lte=now)
    for page_id, next_poll_at in due.values_list("id", "next_poll_at"):
        token = uuid.uuid4().hex
        won = StatusPage.objects.filter(pk=page_id, next_poll_at=next_poll_at).update(
            next_poll_at=now + claim_lease(), claim=token
        )
        if won:
            claims.append(PollClaim(page_id, token))
    return claims


# --- polling -----------------------------------------------------------------------------------


def status_page_poll(
    *, page_id: int, token: str, now: dt.datetime, rng: random.Random | None = None
) -> StatusPage | None:
    """Fetch and read the page a claim holds, then record what it said. None if the claim is gone.

    The fetch happens outside any transaction (it may take the whole timeout); the record then
    checks the claim again under a row lock, so a redelivered task cannot record twice.
    """
    page = StatusPage.objects.filter(pk=page_id, claim=token, enabled=True).first()
    if page is None or not token:
        return None
    fetched, snapshot = status_page_read(page, now=now)
    return status_page_record(
        page_id=page_id, token=token, fetched=fetched, snapshot=snapshot, now=now, rng=rng or random.Random()
    )


def _fetch(url: str, *, now: dt.datetime, etag: str = "", last_modified: str = "") -> Fetched:
    return fetch(
        url,
        etag=etag,
        last_modified=last_modified,
        timeout=float(settings.STATUSPAGES_TIMEOUT_SECONDS),
        max_bytes=settings.STATUSPAGES_MAX_BYTES,
        allow_private=settings.STATUSPAGES_ALLOW_PRIVATE,
        also_allow=also_allow(),
        now=now,
    )


def status_page_read(page: StatusPage, *, now: dt.datetime) -> tuple[Fetched, Snapshot | None]:
    """One conditional fetch of the page and its reading (None unless the fetch gave a body)."""
    fetched = _fetch(page.url, now=now, etag=page.etag, last_modified=page.last_modified)
    snapshot = parse(page.kind, fetched.body, fetched.headers, now=now) if fetched.outcome == FetchOutcome.OK else None
    widget_failed = fetched.outcome == FetchOutcome.FAILED or (snapshot is not None and not snapshot.known)
    if page.kind == PageKind.INCIDENTIO and widget_failed:
        fallback = _fetch(incidentio_fallback_url(page.url), now=now)
        if fallback.outcome == FetchOutcome.OK:
            read = parse(PageKind.ATLASSIAN, fallback.body, fallback.headers, now=now)
            if read.known:
                why = snapshot.reason if snapshot else fetched.error
                note = f"widget summary unreadable ({why}); read {INCIDENTIO_FALLBACK_PATH}"
                # No validators: they would belong to the fallback, not to the URL polled next time.
                fallback = Fetched(FetchOutcome.OK, fallback.status_code, fallback.body, fallback.headers)
                return fallback, Snapshot(read.level, read.components, read.incidents, note[:300], read.description)
    return fetched, snapshot


def incidentio_fallback_url(url: str) -> str:
    """Where an incident.io page keeps its Statuspage-compatible summary: beside the widget endpoint."""
    base, sep, _ = url.partition("?")[0].rpartition(INCIDENTIO_WIDGET_PATH)
    if sep:
        return base + INCIDENTIO_FALLBACK_PATH
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{INCIDENTIO_FALLBACK_PATH}"


def status_page_record(
    *,
    page_id: int,
    token: str,
    fetched: Fetched,
    snapshot: Snapshot | None,
    now: dt.datetime,
    rng: random.Random,
) -> StatusPage | None:
    """Apply one poll to the page: level, snapshot, incidents, validators, next poll. Idempotent per claim.

    A failure (network, HTTP error, 429, an unreadable body) makes the level UNKNOWN and the last
    good snapshot stale: never OPERATIONAL. A 304 confirms the last good snapshot.
    """
    with transaction.atomic():
        page = StatusPage.objects.select_for_update().filter(pk=page_id, claim=token).first()
        if page is None:
            return None
        page.attempted_at, page.claim = now, ""
        if fetched.outcome == FetchOutcome.NOT_MODIFIED and page.snapshot is not None:
            _succeeded(page, now, page.snapshot.level, "")
        elif fetched.outcome == FetchOutcome.OK and snapshot is not None and snapshot.known:
            _succeeded(page, now, snapshot.level, snapshot.reason)
            page.etag, page.last_modified = fetched.etag, fetched.last_modified
            _snapshot_store(page, snapshot, now)
            incidents_sync(page=page, incidents=snapshot.incidents, now=now)
        else:
            reason = _failure_reason(fetched, snapshot)
            if page.level != OfficialLevel.UNKNOWN or page.snapshot is None:
                _snapshot_store(page, unknown(reason), now)
            page.level, page.reason, page.stale = OfficialLevel.UNKNOWN, reason, True
            page.failures += 1
            if fetched.outcome != FetchOutcome.RATE_LIMITED:
                # Validators of a body we could not use would only bring back a 304 for it.
                page.etag = page.last_modified = ""
        retry_after = fetched.retry_after if fetched.outcome == FetchOutcome.RATE_LIMITED else None
        delay = next_poll_delay(
            interval=page.interval_seconds,
            jitter=settings.STATUSPAGES_JITTER_SECONDS,
            failures=page.failures,
            retry_after=retry_after,
            rng=rng,
        )
        page.next_poll_at = now + delay
        page.save()
        return page


def _succeeded(page: StatusPage, now: dt.datetime, level: str, reason: str) -> None:
    page.level, page.reason, page.stale = level, reason, False
    page.fetched_at, page.failures = now, 0


def _failure_reason(fetched: Fetched, snapshot: Snapshot | None) -> str:
    if fetched.outcome == FetchOutcome.NOT_MODIFIED:
        return "304 Not Modified, but no earlier reading to keep"
    if fetched.outcome == FetchOutcome.RATE_LIMITED:
        return f"rate limited: {fetched.error}"
    if snapshot is not None:
        return f"unreadable body: {snapshot.reason}"
    return fetched.error or "fetch failed"


def _components(snapshot: Snapshot) -> list[dict[str, str]]:
    return [{"name": c.name, "level": c.level} for c in snapshot.components]


def _snapshot_store(page: StatusPage, snapshot: Snapshot, now: dt.datetime) -> None:
    """Keep the reading if it differs from the previous one, and at most SNAPSHOTS_KEPT per page."""
    open_ids = sorted(i.provider_id for i in snapshot.incidents if i.open)
    last = page.snapshots.first()
    same = last is not None and (last.level, last.components, last.incidents, last.description) == (
        snapshot.level,
        _components(snapshot),
        open_ids,
        snapshot.description,
    )
    if same and last is not None:
        if snapshot.known:
            page.snapshot = last
        return
    stored = StatusSnapshot.objects.create(
        page=page,
        fetched_at=now,
        level=snapshot.level,
        description=snapshot.description[:300],
        components=_components(snapshot),
        incidents=open_ids,
        reason=snapshot.reason,
    )
    if snapshot.known:
        page.snapshot = stored
    keep = set(page.snapshots.values_list("id", flat=True)[:SNAPSHOTS_KEPT])
    if page.snapshot_id is not None:
        keep.add(page.snapshot_id)
    page.snapshots.exclude(id__in=keep).delete()


# --- incidents ---------------------------------------------------------------------------------


def _update_json(update: Any) -> dict[str, Any]:
    return {
        "id": update.provider_id,
        "at": update.at.isoformat() if update.at else None,
        "status": update.status,
        "body": update.body,
    }


def _merged_updates(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {u["id"]: u for u in old} | {u["id"]: u for u in new}
    ordered = sorted(by_id.values(), key=lambda u: u.get("at") or "")
    return ordered[-UPDATES_KEPT:]


def incidents_sync(*, page: StatusPage, incidents: tuple[Incident, ...], now: dt.datetime) -> int:
    """Upsert the page's incidents by provider id; those still open here but gone from the page are over.

    A provider's summary lists only what is going on, so an incident that leaves it has ended:
    it is resolved (completed, for a maintenance) at the time we noticed. Returns how many rows changed.
    """
    existing = {i.provider_id: i for i in page.incidents.filter(provider_id__in=[i.provider_id for i in incidents])}
    changed = 0
    for incident in incidents:
        values: dict[str, Any] = {
            "title": incident.title,
            "status": incident.status,
            "level": incident.level,
            "maintenance": incident.maintenance,
            "started_at": incident.started_at,
            "resolved_at": incident.resolved_at,
            "components": list(incident.components),
            "url": incident.url,
        }
        row = existing.get(incident.provider_id)
        if row is None:
            values["updates"] = _merged_updates([], [_update_json(u) for u in incident.updates])
            row = ProviderIncident(
                page=page, provider_id=incident.provider_id, first_seen_at=now, updated_at=now, **values
            )
            if not incident.open and row.resolved_at is None:
                row.resolved_at = now
            row.save()
            existing[incident.provider_id] = row
            changed += 1
            continue
        values["updates"] = _merged_updates(row.updates, [_update_json(u) for u in incident.updates])
        if not incident.open and values["resolved_at"] is None:
            values["resolved_at"] = row.resolved_at or now
        dirty = [name for name, value in values.items() if getattr(row, name) != value]
        if dirty:
            for name in dirty:
                setattr(row, name, values[name])
            row.updated_at = now
            row.save(update_fields=[*dirty, "updated_at"])
            changed += 1
    gone = page.incidents.open().exclude(provider_id__in=[i.provider_id for i in incidents])
    for row in gone:
        row.status = IncidentStatus.COMPLETED if row.maintenance else IncidentStatus.RESOLVED
        row.resolved_at, row.updated_at = now, now
        row.save(update_fields=["status", "resolved_at", "updated_at"])
        changed += 1
    return changed


# --- for tests and commands --------------------------------------------------------------------


def status_page_poll_now(*, page: StatusPage, now: dt.datetime, rng: random.Random | None = None) -> StatusPage | None:
    """Claim this one page whatever its schedule and poll it (the `status_page_poll` command, tests)."""
    token = uuid.uuid4().hex
    if not StatusPage.objects.filter(pk=page.pk).update(claim=token, next_poll_at=now + claim_lease()):
        return None
    return status_page_poll(page_id=page.pk, token=token, now=now, rng=rng)
