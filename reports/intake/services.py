"""Writes of intake: a report stored and counted, or queued while the database is down, and cooldown pruning."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from catalog.models import IssueType, Service
from catalog.selectors import issue_type_keys, service_get
from reports.intake import geo, writebehind
from reports.intake.identity import IPAddress, address_slot_hashes, network_slot_hashes, reporter_hashes
from reports.intake.limits import Limit
from reports.intake.moderation import comment_state_for
from reports.models import COMMENT_MAX_LENGTH, Channel, CommentState, NotCountedReason, Report, ReporterCooldown

logger = logging.getLogger(__name__)


# C0/C1 control characters other than newline and tab: invisible in a page,
# hostile in a terminal or a CSV export.
_CONTROL = dict.fromkeys([*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)])


def _clean_comment(comment: str) -> str:
    comment = comment.replace("\r\n", "\n").translate(_CONTROL).strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationError({"comment": [f"At most {COMMENT_MAX_LENGTH} characters (got {len(comment)})."]})
    return comment


def _clean_country(country: str) -> str:
    if not country.strip():
        return ""
    code = geo.parse_country_code(country)
    if code is None:
        raise ValidationError(
            {"country": [f"{country!r} is not an ISO 3166-1 alpha-2 country code (two letters, e.g. DE, US, GB)."]}
        )
    return code


# One statement decides, so concurrent reports from one reporter count once on
# any number of processes: insert the cooldown, or restart it only if it has
# run out; a row comes back exactly when this report counts. PostgreSQL and
# SQLite (3.35+) both run INSERT ... ON CONFLICT DO UPDATE ... WHERE atomically.
_CLAIM_SQL = f"""
INSERT INTO {ReporterCooldown._meta.db_table} (service_id, reporter, counted_until)
VALUES (%s, %s, %s)
ON CONFLICT (service_id, reporter) DO UPDATE SET counted_until = excluded.counted_until
WHERE {ReporterCooldown._meta.db_table}.counted_until <= %s
RETURNING 1
"""  # noqa: S608 - table name from the model, values are parameters


def _claim(*, service: Service, key: str, now: dt.datetime, cooldown: dt.timedelta) -> bool:
    """Start a cooldown on `key` if none is running; True if this call started it."""
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [service.pk, key, adapt(now + cooldown), adapt(now)])
        return cursor.fetchone() is not None


@dataclass(frozen=True)
class Counting:
    """Whether a report counts; if not, why, and when its reporter's cooldown for the service ends."""

    counted: bool
    reason: NotCountedReason | None = None
    counts_again_at: dt.datetime | None = None


def _cooldown_end(*, service: Service, hashes: list[str], now: dt.datetime) -> dt.datetime:
    """When the reporter's running cooldown (under any of its hashes) ends: the row that refused it."""
    running = ReporterCooldown.objects.filter(service=service, reporter__in=hashes, counted_until__gt=now)
    return running.aggregate(until=Max("counted_until"))["until"] or now


def _claim_any(*, service: Service, keys: list[str], now: dt.datetime, cooldown: dt.timedelta) -> bool:
    """Claim one of `keys` not cooling down; False when all are. One read first, so a full set costs one query."""
    taken = set(
        ReporterCooldown.objects.filter(service=service, reporter__in=keys, counted_until__gt=now).values_list(
            "reporter", flat=True
        )
    )
    return any(_claim(service=service, key=key, now=now, cooldown=cooldown) for key in keys if key not in taken)


def _claim_count(
    *,
    service: Service,
    hashes: list[str],
    slots: list[str],
    now: dt.datetime,
    cooldown: dt.timedelta,
    network_slots: list[str] | None = None,
) -> Counting:
    """Whether this report counts: its reporter is not cooling down, and its address has a free slot.

    `hashes[1:]` are the reporter's hashes under earlier days' salts, consulted only so a
    cooldown survives the midnight salt rotation. `slots` are the client address's reporter
    slots (empty: no cap): a new reporter counts only by claiming one, so one address that
    varies its user agent counts as at most len(slots) reporters per cooldown.
    """
    current, earlier = hashes[0], hashes[1:]
    if (
        earlier
        and ReporterCooldown.objects.filter(service=service, reporter__in=earlier, counted_until__gt=now).exists()
    ) or not _claim(service=service, key=current, now=now, cooldown=cooldown):
        until = _cooldown_end(service=service, hashes=hashes, now=now)
        return Counting(counted=False, reason=NotCountedReason.COOLDOWN, counts_again_at=until)
    # The reporter's cooldown stays claimed even when every slot is taken: it was seen, and
    # repeating itself must not later take a slot another reporter behind the address frees.
    if slots and not any(_claim(service=service, key=slot, now=now, cooldown=cooldown) for slot in slots):
        # Its own cooldown, just started, ends first: at the earliest it counts again then.
        return Counting(counted=False, reason=NotCountedReason.ADDRESS_CAP, counts_again_at=now + cooldown)
    # Then its network's (see OUTAGEHUB_REPORTERS_PER_NETWORK): many addresses of one /24 or /48
    # count as at most len(network_slots) reporters, so they cannot fake a spike on their own.
    if network_slots and not _claim_any(service=service, keys=network_slots, now=now, cooldown=cooldown):
        return Counting(counted=False, reason=NotCountedReason.NETWORK_CAP, counts_again_at=now + cooldown)
    return Counting(counted=True)


@dataclass(frozen=True)
class ReportDraft:
    """A report as it is received, before the database decides whether it counts.

    The client is already reduced to hashes (its reporter hashes and its address's slots): a
    draft that waits in the broker while the database is down holds no address either.
    """

    service: str  # slug
    issue_type: str
    channel: str
    comment: str
    country: str
    created_at: dt.datetime
    reporter_hashes: tuple[str, ...]
    address_slots: tuple[str, ...]
    # Defaults: a message queued before these existed still reads.
    network_slots: tuple[str, ...] = ()
    comment_state: str = CommentState.VISIBLE  # PENDING: held by the link and repetition filter

    def to_message(self) -> dict[str, Any]:
        """JSON for a Celery message."""
        return {**asdict(self), "created_at": self.created_at.isoformat()}

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> ReportDraft:
        fields = {**message, "created_at": dt.datetime.fromisoformat(message["created_at"])}
        fields["reporter_hashes"] = tuple(fields["reporter_hashes"])
        fields["address_slots"] = tuple(fields["address_slots"])
        fields["network_slots"] = tuple(fields.get("network_slots", ()))
        return cls(**fields)


def report_draft(
    *,
    service: str,
    issue_type_key: str,
    channel: Channel,
    client: IPAddress | None,
    user_agent: str = "",
    comment: str = "",
    country: str = "",
    now: dt.datetime | None = None,
) -> ReportDraft:
    """Check a report's own fields and reduce its client to hashes; needs no database.

    Raises ValidationError naming the field for an over-long comment or a bad country code.
    The client address hashes the reporter and finds the country, and is then forgotten.
    """
    now = now or timezone.now()
    comment = _clean_comment(comment)
    country = _clean_country(country) or geo.country_for(client)
    cooldown = dt.timedelta(seconds=settings.OUTAGEHUB_REPORT_COOLDOWN_SECONDS)
    per_address = settings.OUTAGEHUB_REPORTERS_PER_ADDRESS
    # No cap without an address: "unknown" would make every such client share one address.
    slots = address_slot_hashes(client, now, per_address) if client is not None and per_address else []
    network_slots = network_slot_hashes(client, now, settings.OUTAGEHUB_REPORTERS_PER_NETWORK)
    return ReportDraft(
        service=service,
        issue_type=issue_type_key,
        channel=channel,
        comment=comment,
        country=country,
        created_at=now,
        reporter_hashes=tuple(reporter_hashes(client, user_agent, now, cooldown)),
        address_slots=tuple(slots),
        network_slots=tuple(network_slots),
        comment_state=comment_state_for(comment),
    )


def _issue_type_or_error(service: Service, key: str) -> IssueType:
    if not service.active:
        raise ValidationError({"service": [f"{service.name} is not taking reports."]})
    issue_type = IssueType.objects.filter(service=service, key=key, active=True).first()
    if issue_type is None:
        allowed = ", ".join(issue_type_keys(service=service)) or "none"
        raise ValidationError({"issue_type": [f"{key!r} is not an issue type of {service.name}. Allowed: {allowed}."]})
    return issue_type


def _report_store(
    *, service: Service, issue_type: IssueType, draft: ReportDraft, report_id: int | None = None
) -> Report:
    cooldown = dt.timedelta(seconds=settings.OUTAGEHUB_REPORT_COOLDOWN_SECONDS)
    counting = _claim_count(
        service=service,
        hashes=list(draft.reporter_hashes),
        slots=list(draft.address_slots),
        now=draft.created_at,
        cooldown=cooldown,
        network_slots=list(draft.network_slots),
    )
    report = Report.objects.create(
        id=report_id,
        service=service,
        issue_type=issue_type,
        created_at=draft.created_at,
        comment=draft.comment,
        comment_state=draft.comment_state,
        country=draft.country,
        channel=draft.channel,
        counted=counting.counted,
        network_flagged=counting.reason == NotCountedReason.NETWORK_CAP,
    )
    report.not_counted_reason, report.counts_again_at = counting.reason, counting.counts_again_at
    return report


@transaction.atomic
def report_create(
    *,
    service: Service,
    issue_type_key: str,
    channel: Channel,
    client: IPAddress | None,
    user_agent: str = "",
    comment: str = "",
    country: str = "",
    now: dt.datetime | None = None,
    report_id: int | None = None,
) -> Report:
    """Store a report and decide whether it counts.

    A report that does not count carries `not_counted_reason` (a NotCountedReason) and
    `counts_again_at` (when its reporter's cooldown for the service ends).

    Raises ValidationError naming the field for an unknown issue type, an
    over-long comment or a bad country code. The client address is used to
    hash the reporter and look up the country, and is then forgotten.
    `report_id` is an id reserved for it already (see report_take); None: the next one.
    """
    issue_type = _issue_type_or_error(service, issue_type_key)
    draft = report_draft(
        service=service.slug,
        issue_type_key=issue_type_key,
        channel=channel,
        client=client,
        user_agent=user_agent,
        comment=comment,
        country=country,
        now=now,
    )
    return _report_store(service=service, issue_type=issue_type, draft=draft, report_id=report_id)


# --- write-behind (PostgreSQL with Redis): see writebehind.py ----------------------------

CATALOG_CACHE_SECONDS = 5.0  # how long a web process reuses a service's active issue types


@dataclass(frozen=True)
class _CatalogEntry:
    service: Service
    issue_types: dict[str, IssueType]  # active ones, by key, in the catalog's order


_catalog: dict[str, _CatalogEntry | None] = {}
_catalog_loaded: dict[str, float] = {}


def _catalog_get(slug: str) -> _CatalogEntry | None:
    """An active service and its active issue types, reused for CATALOG_CACHE_SECONDS per process.

    A report path that asks the database for them on every request spends most of its time
    there; a service retired or an issue type added shows up here within seconds.
    """
    loaded = _catalog_loaded.get(slug)
    if loaded is not None and time.monotonic() - loaded < CATALOG_CACHE_SECONDS:
        return _catalog[slug]
    service = service_get(slug=slug)
    entry = None
    if service is not None:
        types = {t.key: t for t in IssueType.objects.filter(service=service, active=True)}
        for issue_type in types.values():
            issue_type.service = service  # the answer reads report.service through it
        entry = _CatalogEntry(service=service, issue_types=types)
    if len(_catalog) > 10_000:  # unknown slugs must not grow it without bound
        _catalog.clear()
        _catalog_loaded.clear()
    _catalog[slug], _catalog_loaded[slug] = entry, time.monotonic()
    return entry


def catalog_cache_clear() -> None:
    """Forget the services report_take has seen (tests; an operator never needs to: it expires)."""
    _catalog.clear()
    _catalog_loaded.clear()


def report_take(
    *,
    slug: str,
    issue_type_key: str,
    channel: Channel,
    client: IPAddress | None,
    user_agent: str = "",
    comment: str = "",
    country: str = "",
    now: dt.datetime | None = None,
    limits: tuple[Limit, ...] = (),
) -> Report:
    """Decide whether a report counts and queue it durably in Redis for PostgreSQL (writebehind.py).

    Returns the Report as it will be stored, with its id (not saved by this call: a worker
    writes it within seconds). Raises Service.DoesNotExist and ValidationError as report_submit
    does. Where Redis cannot take it, stores it synchronously under the same id instead, so a
    report whose append did reach Redis before the error is still stored once.

    `limits`: rate limits checked and taken in the same Redis step (RateLimited when one is full:
    nothing taken); with Redis down they are not checked, as the limiter fails open.
    """
    entry = _catalog_get(slug)
    if entry is None:
        raise Service.DoesNotExist(f"No service with slug {slug!r}.")
    issue_type = entry.issue_types.get(issue_type_key)
    if issue_type is None:
        allowed = ", ".join(entry.issue_types) or "none"
        raise ValidationError(
            {"issue_type": [f"{issue_type_key!r} is not an issue type of {entry.service.name}. Allowed: {allowed}."]}
        )
    draft = report_draft(
        service=slug,
        issue_type_key=issue_type_key,
        channel=channel,
        client=client,
        user_agent=user_agent,
        comment=comment,
        country=country,
        now=now,
    )
    report = writebehind.report_new(  # counted: decided in Redis, below
        service=entry.service,
        issue_type=issue_type,
        id=writebehind.report_id_next(),
        created_at=draft.created_at,
        comment=draft.comment,
        country=draft.country,
        channel=draft.channel,
        comment_state=draft.comment_state,
    )
    try:
        verdict = writebehind.report_append(
            report=report,
            reporter_hashes=draft.reporter_hashes,
            address_slots=draft.address_slots,
            network_slots=draft.network_slots,
            limits=limits,
        )
    except (RedisError, OSError) as exc:
        logger.warning("intake stream unavailable (%s): storing a report synchronously", type(exc).__name__)
        return _report_store_once(entry=entry, issue_type=issue_type, draft=draft, report_id=report.pk)
    report.counted = verdict.counted
    report.network_flagged = verdict.reason == NotCountedReason.NETWORK_CAP  # as report_create stores it
    report.not_counted_reason, report.counts_again_at = verdict.reason, verdict.counts_again_at
    return report


def _report_store_once(*, entry: _CatalogEntry, issue_type: IssueType, draft: ReportDraft, report_id: int) -> Report:
    try:
        with transaction.atomic():
            return _report_store(service=entry.service, issue_type=issue_type, draft=draft, report_id=report_id)
    except IntegrityError:
        # The append had reached Redis after all, and a drain stored it first.
        return Report.objects.get(pk=report_id)


# What a lost database connection raises (a restart, a failover, a full pool): intake then
# defers the report (report_defer) instead of losing it. Not IntegrityError and the like: those
# are bugs or bad data, and retrying them would not help.
DATABASE_DOWN = (InterfaceError, OperationalError)


def report_defer(*, draft: ReportDraft) -> bool:
    """Hand a report to the broker while the database is down; False if the broker is down too.

    A worker stores it once the database is back (tasks.reports_ingest), so a database restart
    loses no report. The draft holds hashes, not the address.
    """
    from reports.tasks import reports_ingest  # tasks import this module

    try:
        reports_ingest.delay(draft.to_message())
    except (KombuError, OSError):
        logger.exception("database and broker both unavailable: a report of %s was refused", draft.service)
        return False
    logger.warning("database unavailable: a report of %s waits in the broker", draft.service)
    return True


class IntakeUnavailable(Exception):
    """Neither the database nor the broker can take a report: the caller answers 503 with Retry-After."""

    retry_after = 60  # seconds


def report_submit(
    *,
    slug: str,
    issue_type_key: str,
    channel: Channel,
    client: IPAddress | None,
    user_agent: str = "",
    comment: str = "",
    country: str = "",
    now: dt.datetime | None = None,
    limits: tuple[Limit, ...] = (),
) -> Report | ReportDraft:
    """File a report for the service `slug`, from the web form or the API alike.

    Returns the stored Report (counted or not), or, while the database is down or restarting,
    the ReportDraft that now waits in the broker for `reports_ingest`, so no report is lost.
    Raises Service.DoesNotExist for no active service `slug`, ValidationError naming the field
    for a bad one, and IntakeUnavailable when the broker cannot take the draft either.

    `limits` are report_take's, for the write-behind path only (RateLimited when one is full);
    elsewhere the caller checks its limits with a throttle first.
    """
    fields: dict[str, Any] = {
        "issue_type_key": issue_type_key,
        "channel": channel,
        "client": client,
        "user_agent": user_agent,
        "comment": comment,
        "country": country,
        "now": now,
    }
    try:
        if writebehind.enabled():
            return report_take(slug=slug, limits=limits, **fields)
        service = service_get(slug=slug)
        if service is None:
            raise Service.DoesNotExist(f"No service with slug {slug!r}.")
        return report_create(service=service, **fields)
    except DATABASE_DOWN:
        pass
    draft = report_draft(service=slug, **fields)
    if not report_defer(draft=draft):
        raise IntakeUnavailable
    return draft


def report_ingest(*, draft: ReportDraft) -> Report | None:
    """Store a report that waited in the broker while the database was down (see tasks.reports_ingest).

    Counted as it would have been when it arrived: its cooldowns start at its own time. A report
    for a service or issue type that has gone meanwhile is dropped (logged): None.
    """
    service = Service.objects.filter(slug=draft.service).first()
    try:
        if service is None:
            raise ValidationError({"service": [f"No service {draft.service!r}."]})
        with transaction.atomic():
            issue_type = _issue_type_or_error(service, draft.issue_type)
            return _report_store(service=service, issue_type=issue_type, draft=draft)
    except ValidationError as exc:
        logger.warning("dropped a deferred report of %s at %s: %s", draft.service, draft.created_at, exc.messages)
        return None


def cooldowns_prune(*, now: dt.datetime | None = None) -> int:
    """Delete cooldowns that have run out; returns how many."""
    now = now or timezone.now()
    deleted, _ = ReporterCooldown.objects.filter(counted_until__lte=now).delete()
    return deleted


PRUNE_BATCH = 10_000  # reports deleted per statement: short transactions, no long table lock


def reports_prune(*, now: dt.datetime, days: int | None = None, max_seconds: float = 300.0) -> int:
    """Delete raw reports older than `days` (default OUTAGEHUB_REPORT_RETENTION_DAYS; 0 keeps all).

    Returns how many were deleted. The rollups (ReportMinute, CountryHour, ServiceMinute),
    outages and their timelines are the record and stay, so charts and history older than
    the retention still show; only comments and raw rows go. Deletes in batches, oldest
    first, for at most `max_seconds` (the next hourly run goes on), so no one statement
    holds the table for long.
    """
    days = settings.OUTAGEHUB_REPORT_RETENTION_DAYS if days is None else days
    if days <= 0:
        return 0
    cutoff = now - dt.timedelta(days=days)
    deadline = time.monotonic() + max_seconds
    deleted = 0
    while True:
        ids = list(
            Report.objects.filter(created_at__lt=cutoff)
            .order_by("created_at")
            .values_list("pk", flat=True)[:PRUNE_BATCH]
        )
        if ids:
            deleted += Report.objects.filter(pk__in=ids).delete()[0]
        if len(ids) < PRUNE_BATCH or time.monotonic() > deadline:
            return deleted
