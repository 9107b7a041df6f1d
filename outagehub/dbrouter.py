"""Read replicas: the reads of GET and HEAD requests go to a replica; everything else to the primary.

Set OUTAGEHUB_READ_REPLICA_URL (a PostgreSQL replica of DATABASE_URL, streaming replication)
and the settings add the database alias "replica", this router and this middleware. A request
that only reads (the API's GETs, the pages, feeds and badges) runs its queries there, so reads
scale with replicas and never queue behind the primary's writes. Everything else stays on the
primary: writes, and every read outside such a request (the detection tick, the drain, intake,
probes), because they read what they have just written, which a replica may not have yet. A
write inside a GET (an API key's last use, a session) goes to the primary as any write does.
The pages and API already tolerate a replica's lag of seconds: they show the detector's `as_of`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponseBase

REPLICA = "replica"
READS = frozenset({"GET", "HEAD"})

_reading: ContextVar[bool] = ContextVar("outagehub_read_only_request", default=False)


class ReadReplicaRouter:
    """Reads during a read-only request to the replica; everything else is left to the default (primary)."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        return REPLICA if _reading.get() else None

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # one database, two copies: an object read from either relates to any other

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        return db != REPLICA  # the replica follows the primary's schema by replication


class ReadOnlyRequestMiddleware:
    """Marks GET and HEAD requests as read-only for ReadReplicaRouter while they run."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        if REPLICA not in settings.DATABASES:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method not in READS:
            return self.get_response(request)
        token = _reading.set(True)
        try:
            return self.get_response(request)
        finally:
            _reading.reset(token)
