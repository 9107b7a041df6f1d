"""The service page's outage history: a bar per day and the open outage, memoized by a digest of their outages.

A service flapping all quarter has hundreds of outages in its history; reading them all on every
view costs more than everything else on the page. The database digests the same rows instead
(reports.selectors.outages.service_outage_spans_digest), and the bars are computed again only when
that digest changes: an outage opened, resolved, reopened or edited is a new key, never a stale
bar. An outage without an end runs until `now`, so while one exists `now` is part of the key too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from catalog.models import Service
from outagehub.memo import memo_key, memoized
from reports.models import OutageStatus
from reports.selectors.outages import OutageSpan, service_outage_spans, service_outage_spans_digest
from reports.web.history import Day, history_days

HISTORY_MEMO_SECONDS = 600  # a changed outage is a new key: this only ages out keys no longer asked for
MEMO_VERSION = 1  # bump when what is memoized changes shape


@dataclass(frozen=True)
class ServiceHistory:
    days: list[Day]  # history_days of the outages read
    open_outage: OutageSpan | None  # the open one among them
    outages: int  # how many were read


def service_history(*, service: Service, now: dt.datetime, days: int, limit: int) -> ServiceHistory:
    """The bars of the last `days` UTC days from the service's outages since then (at most `limit`, newest first)."""
    since = now - dt.timedelta(days=days)

    def compute() -> ServiceHistory:
        spans = service_outage_spans(service=service, since=since, limit=limit)
        return ServiceHistory(
            days=history_days(spans, today=now.date(), days=days, now=now),
            open_outage=next((o for o in spans if o.status == OutageStatus.OPEN), None),
            outages=len(spans),
        )

    digest = service_outage_spans_digest(service=service, since=since, limit=limit)
    if digest is None:
        return compute()
    # The window's start moves with `now`, but an outage that starts before it is the same
    # outage whatever second that is: the digest of the rows decides, with the day and `now`
    # itself for an outage that is still running.
    key = memo_key(
        "service-history", MEMO_VERSION, service.pk, days, limit, digest, now.date(), now if digest.unended else None
    )
    return memoized(key, compute, timeout=HISTORY_MEMO_SECONDS)
