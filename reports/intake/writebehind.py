"""Write-behind intake: a report is decided and made durable in Redis, and reaches PostgreSQL in batches.

The synchronous path (services.report_create) costs each request a database
transaction: the cooldown claims, the INSERT and a commit that waits for the
WAL flush. At outage scale that caps intake far below what the web server can
do. Here one Redis round trip does the same work:

- a Lua script claims the reporter's cooldown and an address slot (SET NX PX,
  so concurrent reports from one reporter count once on any number of web
  processes, and the keys expire by themselves: no hash outlives its cooldown),
  and appends the report, with the verdict, to a Redis stream, atomically;
- its id is reserved beforehand from the reports table's own sequence, a block
  at a time per process (so the id we answer with is the row's primary key);
- `reports_drain` (a Celery task run by beat every second or two) reads the
  stream through a consumer group, writes each batch with one multi-row INSERT
  ... ON CONFLICT (id) DO NOTHING, and acknowledges the entries only after the
  commit. A worker killed mid-batch leaves its entries pending; the next drain
  claims them once idle and writes them again, and the primary key keeps each
  report exactly once.

Durability: the 201 is sent after Redis has the entry. It survives a crash of
the web process or the worker; across a Redis restart it survives as far as
Redis persists it (appendonly yes with appendfsync always: nothing lost;
everysec: up to one second of acknowledged reports, see README).

Used only on PostgreSQL with Redis (OUTAGEHUB_INTAKE_WRITE_BEHIND); anywhere it
cannot answer (Redis down, the id sequence unreachable) intake falls back to the
synchronous path, and from there to the broker deferral.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings
from django.db import connection, transaction

from catalog.models import IssueType, Service
from reports.intake.limits import INTAKE_KEY_PREFIX, RESERVE_LUA, Limit, RateLimited, Refusal, limit_args
from reports.models import NotCountedReason, Report

logger = logging.getLogger(__name__)

STREAM = "outagehub:intake"
GROUP = "persist"
KEY_PREFIX = "outagehub:cooldown:"
ID_BLOCK = 1000  # ids reserved per database round trip (a process that stops leaves a gap: harmless)
CLAIM_IDLE_MS = 30_000  # entries a consumer read but did not acknowledge for this long are taken over
BATCH = 1000  # entries per INSERT

# KEYS: stream, current reporter, earlier reporters, address slots, network slots, rate limits.
# ARGV: cooldown ms, then how many earlier reporter keys, address slots, network slots and rate
# limits there are, the time (Unix seconds) and hit id for the limits, each limit's count and
# period, then the entry's field/value pairs. Returns {-1, index, oldest} when rate limit `index`
# is full (then nothing was written), else {counted (0/1), reason, ms until the reporter counts
# again}. The order of the checks is report_create's (services._claim_count): the reporter's
# cooldown, then a slot of its address, then a slot of its network; a reporter seen is claimed
# even if a cap refuses it.
_CLAIM_AND_APPEND = (
    RESERVE_LUA
    + """
local ms = tonumber(ARGV[1])
local earlier, slots, nets, limits = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local first_limit = 3 + earlier + slots + nets
if limits > 0 then
  local index, oldest = reserve(first_limit, limits, tonumber(ARGV[6]), ARGV[7], 8)
  if index > 0 then return {-1, index, oldest} end
end
local counted, reason, wait = 1, '', 0
local function left(key)
  local t = redis.call('PTTL', key)
  if t > 0 then return t end
  return 0
end
local function claim_any(first, last)
  for i = first, last do
    if redis.call('SET', KEYS[i], '1', 'NX', 'PX', ms) then return true end
  end
  return false
end
for i = 3, 2 + earlier do
  local t = left(KEYS[i])
  if t > 0 then counted = 0; reason = 'cooldown'; if t > wait then wait = t end end
end
if counted == 1 and not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ms) then
  counted = 0; reason = 'cooldown'; wait = math.max(wait, left(KEYS[2]))
end
local slots_end = 2 + earlier + slots
if counted == 1 and slots > 0 and not claim_any(3 + earlier, slots_end) then
  counted = 0; reason = 'address_cap'; wait = ms
end
if counted == 1 and nets > 0 and not claim_any(slots_end + 1, slots_end + nets) then
  counted = 0; reason = 'network_cap'; wait = ms
end
local entry = {}
for i = 8 + 2 * limits, #ARGV do entry[#entry + 1] = ARGV[i] end
entry[#entry + 1] = 'counted'
entry[#entry + 1] = tostring(counted)
entry[#entry + 1] = 'reason'
entry[#entry + 1] = reason
redis.call('XADD', KEYS[1], '*', unpack(entry))
return {counted, reason, wait}
"""
)

_local = threading.local()
_ids_lock = threading.Lock()
_ids: list[int] = []


def enabled() -> bool:
    return bool(settings.OUTAGEHUB_INTAKE_WRITE_BEHIND)


def client() -> Any:
    """This process's Redis client for intake (redis-py reconnects after a fork by itself)."""
    url = settings.OUTAGEHUB_INTAKE_REDIS_URL
    cached = getattr(_local, "client", None)
    if cached is None or _local.url != url:
        # Short timeouts: a hung Redis must send intake to its fallback, not hold a worker.
        cached = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        _local.client, _local.url = cached, url
    return cached


_CLAIM_AND_APPEND_SHA = hashlib.sha1(_CLAIM_AND_APPEND.encode()).hexdigest()  # noqa: S324 - Redis names scripts so


def _connection() -> Any:
    """This thread's own connection to the intake Redis, for the report script (see _claim_and_append).

    A new one after a fork (a child must never share its parent's socket) or a change of URL.
    """
    r = client()
    conn = getattr(_local, "conn", None)
    if conn is None or _local.conn_pid != os.getpid() or _local.conn_client is not r:
        pool = r.connection_pool
        conn = pool.connection_class(**pool.connection_kwargs)
        _local.conn, _local.conn_pid, _local.conn_client = conn, os.getpid(), r
    return conn


def _claim_and_append(keys: list[str], args: list[Any]) -> Any:
    """Run the report script: one request and its reply on this thread's connection.

    Not through redis-py's command machinery: its pool, retries and per-command observability
    cost each report more CPU than the round trip itself. Nothing is retried here: on any error
    the caller stores the report another way, under the same id, so a script that did run
    before the error still leaves the report stored once.
    """
    conn = _connection()
    try:
        return _evalsha(conn, keys, args)
    except redis.exceptions.NoScriptError:
        client().script_load(_CLAIM_AND_APPEND)  # a Redis started afresh knows no scripts yet
        return _evalsha(conn, keys, args)


def _evalsha(conn: Any, keys: list[str], args: list[Any]) -> Any:
    try:
        conn.send_command("EVALSHA", _CLAIM_AND_APPEND_SHA, len(keys), *keys, *args)
        return conn.read_response()
    except redis.ResponseError:
        raise  # the server answered (NoScriptError among them): the connection is fine
    except BaseException:
        conn.disconnect()  # a reply may be half read: never reuse the socket
        raise


def report_id_next() -> int:
    """A report id from the reports table's sequence, reserved a block at a time per process."""
    with _ids_lock:
        if not _ids:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [Report._meta.db_table, ID_BLOCK],
                )
                _ids.extend(sorted((row[0] for row in cursor.fetchall()), reverse=True))
        return _ids.pop()


@dataclass(frozen=True)
class Verdict:
    counted: bool
    reason: NotCountedReason | None
    counts_again_at: dt.datetime | None


@lru_cache(maxsize=1)
def _concrete() -> tuple[tuple[str, str, bool, Any], ...]:
    """(attname, column, is a datetime, field) of every concrete Report field, in model order."""
    return tuple(
        (f.attname, str(f.column), f.get_internal_type() == "DateTimeField", f) for f in Report._meta.concrete_fields
    )


def report_new(*, service: Service, issue_type: IssueType, **values: Any) -> Report:
    """An unsaved Report of `service` and `issue_type`, not counted; `values` by attname, the rest defaults.

    Built as Django builds a row read from the database, one value per field in order: with
    keyword arguments Model.__init__ cost more than deciding the report.
    """
    values.update(service_id=service.pk, issue_type_id=issue_type.pk, counted=False)
    args = [values[name] if name in values else field.get_default() for name, _, _, field in _concrete()]
    model: Any = Report  # django-stubs types keyword construction only
    report: Report = model(*args)
    Report.service.field.set_cached_value(report, service)
    Report.issue_type.field.set_cached_value(report, issue_type)
    return report


def row_of(report: Report) -> dict[str, Any]:
    """Every column of an unsaved report as JSON values (`counted` is decided in Redis).

    The whole row travels, not a chosen few fields, so a column added to Report later is
    carried through the stream without touching this module.
    """
    row: dict[str, Any] = {}
    for name, column, is_time, _ in _concrete():
        value = getattr(report, name)
        row[column] = value.astimezone(dt.UTC).isoformat() if is_time and value is not None else value
    row.pop("counted", None)
    return row


_ROW_JSON = json.JSONEncoder(separators=(",", ":")).encode  # json.dumps with options builds an encoder per call


def report_append(
    *,
    report: Report,
    reporter_hashes: tuple[str, ...],
    address_slots: tuple[str, ...],
    network_slots: tuple[str, ...] = (),
    limits: tuple[Limit, ...] = (),
) -> Verdict:
    """Decide whether `report` (unsaved, its id reserved) counts and append it to the intake stream, atomically.

    With `limits`, first takes a place in each of those rate limits (kept under INTAKE_KEY_PREFIX,
    where throttles.ReportRateThrottle keeps them too), in the same step: raises RateLimited, with
    nothing taken or stored, when one is full. Raises redis.RedisError (or OSError) when Redis
    cannot take it; then nothing was stored.
    """
    cooldown_ms = settings.OUTAGEHUB_REPORT_COOLDOWN_SECONDS * 1000
    prefix = f"{KEY_PREFIX}{report.service_id}:"
    if cooldown_ms <= 0:
        # No cooldown: every report counts (SET with PX 0 is an error).
        reporter_hashes, address_slots, network_slots = reporter_hashes[:1], (), ()
        cooldown_ms = 1
    keys = [
        STREAM,
        *(prefix + h for h in reporter_hashes),
        *(prefix + "slot:" + s for s in address_slots),
        *(prefix + "net:" + s for s in network_slots),
        *(INTAKE_KEY_PREFIX + limit.key for limit in limits),
    ]
    now = report.created_at.timestamp()
    counts = [len(reporter_hashes) - 1, len(address_slots), len(network_slots), len(limits)]
    args = [cooldown_ms, *counts, repr(now), f"{now!r}:{report.pk}", *limit_args(limits)]
    args += ["row", _ROW_JSON(row_of(report))]
    counted, reason, wait_ms = _claim_and_append(keys, args)
    if counted == -1:
        raise RateLimited(Refusal(limits[int(reason) - 1], float(wait_ms)))
    if counted:
        return Verdict(True, None, None)
    reason = NotCountedReason(reason.decode() if isinstance(reason, bytes) else reason)
    return Verdict(False, reason, report.created_at + dt.timedelta(milliseconds=int(wait_ms)))


# --- draining: stream -> PostgreSQL ---------------------------------------------------------


def _consumer() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _group_ensure(r: Any) -> None:
    try:
        # From the stream's start: entries appended before the first drain belong to the group too.
        r.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


# Typed loosely: redis-py's stubs describe every decoding and protocol at once.
def _batches(r: Any, consumer: str, count: int) -> Iterator[list[tuple[bytes, dict[bytes, bytes]]]]:
    """This consumer's own unacknowledged entries, then others' abandoned ones, then new ones."""
    own = r.xreadgroup(GROUP, consumer, {STREAM: "0"}, count=count)
    if own and own[0][1]:
        yield own[0][1]
    start = "0-0"
    while True:
        start, claimed, *_ = r.xautoclaim(STREAM, GROUP, consumer, CLAIM_IDLE_MS, start_id=start, count=count)
        if claimed:
            yield claimed
        if start in (b"0-0", "0-0"):
            break
    while True:
        fresh = r.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=count)
        if not fresh or not fresh[0][1]:
            return
        yield fresh[0][1]
        if len(fresh[0][1]) < count:
            # Caught up with the stream. Chasing its tail would write a handful of reports per
            # batch, and a batch's fixed cost (a transaction, two statements, an acknowledgement)
            # paid per handful cost several times what the web process spent taking them, on
            # the CPU the web process needs in a flood. The next drain, a second later, takes
            # what arrived meanwhile in one batch.
            return


def _rows(entries: list[tuple[bytes, dict[bytes, bytes]]]) -> list[dict[str, Any]]:
    rows = []
    for entry_id, f in entries:
        if not f:
            continue  # deleted after its batch committed, before it was acknowledged: done already
        try:
            row = json.loads(f[b"row"])
            row["counted"] = f[b"counted"] == b"1"
            # What Redis decided, as report_create stores it: counted, and a network cap flagged.
            row["network_flagged"] = f.get(b"reason") == NotCountedReason.NETWORK_CAP.encode()
        except (KeyError, ValueError):
            # Not an entry this code wrote: it could never be stored, and retrying it would block
            # every entry behind it. Logged whole (it holds no address or hash) and acknowledged.
            logger.error("dropped an unreadable intake entry %s: %r", entry_id, f)
            continue
        rows.append(row)
    return rows


def _insert(rows: list[dict[str, Any]]) -> int:
    """One multi-row INSERT; a row already stored (a redelivered entry) is skipped by its id. Rows written."""
    if not rows:
        return 0
    # A service or issue type deleted since the report was taken: its reports go with it (as CASCADE would).
    pairs = IssueType.objects.filter(pk__in={r["issue_type_id"] for r in rows}).values_list("pk", "service_id")
    known = set(pairs)
    kept = [r for r in rows if (r["issue_type_id"], r["service_id"]) in known]
    if len(kept) < len(rows):
        logger.warning("dropped %d queued reports of deleted services or issue types", len(rows) - len(kept))
    if not kept:
        return 0
    columns = _concrete()
    # One array per column, unnested into rows: a statement of a dozen parameters whatever the
    # batch size. A VALUES list of one placeholder per value made psycopg parse a statement of
    # ~10,000 placeholders per batch, which cost the drain more CPU than the web process spent
    # taking the reports.
    arrays: list[list[Any]] = [[] for _ in columns]
    for row in kept:
        for values, (_, column, is_time, field) in zip(arrays, columns, strict=True):
            # A column added after the entry was queued gets its default, as a fresh report would.
            value = row[column] if column in row else field.get_default()
            if is_time and isinstance(value, str):
                value = dt.datetime.fromisoformat(value)
            values.append(value)
    names = ", ".join(connection.ops.quote_name(column) for _, column, _, _ in columns)
    unnest = ", ".join(f"%s::{field.db_type(connection)}[]" for _, _, _, field in columns)
    sql = (
        f"INSERT INTO {Report._meta.db_table} ({names}) SELECT * FROM unnest({unnest}) "  # noqa: S608
        "ON CONFLICT (id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return cursor.rowcount


def reports_drain(*, max_seconds: float = 5.0, batch: int = BATCH) -> int:
    """Write queued reports to PostgreSQL; returns how many rows were written.

    Safe on any number of workers at once (a consumer group gives each entry to one
    consumer) and after a crash (entries are acknowledged only after their batch commits;
    one written twice is skipped by its id). Stops when the stream is empty or after
    `max_seconds`, so a flood does not hold a worker for long: the next drain goes on.
    """
    r = client()
    _group_ensure(r)
    consumer = _consumer()
    written = 0
    deadline = time.monotonic() + max_seconds
    for entries in _batches(r, consumer, batch):
        with transaction.atomic():
            written += _insert(_rows(entries))
        # After the commit: an entry is forgotten only once its row is in PostgreSQL.
        ids = [i for i, _ in entries]
        pipe = r.pipeline(transaction=False)
        pipe.xack(STREAM, GROUP, *ids)
        pipe.xdel(STREAM, *ids)
        pipe.execute()
        if time.monotonic() > deadline:
            break
    return written


def backlog() -> int:
    """Reports taken but not yet in PostgreSQL (entries in the stream)."""
    return int(client().xlen(STREAM))
