"""Writes to outages that come from outside detection: status updates from the service's team."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from reports.models import (
    ApiKey,
    EventKind,
    Outage,
    OutageEvent,
    OutageUpdate,
)


def outage_update_create(
    *,
    outage: Outage,
    state: str,
    message: str,
    author: str,
    api_key: ApiKey | None = None,
    user: Any = None,
    now: dt.datetime | None = None,
) -> OutageUpdate:
    """Store a status update, put it on the outage's timeline, and acknowledge the outage if it is the first.

    The outage's `team_state` becomes the update's state; even "resolved" leaves the outage's own
    status to the detector, which closes it when reports and probes are back to normal.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Updates of one outage take turns, so each sees the others it must be compared with.
        Outage.objects.select_for_update().filter(pk=outage.pk).first()
        update = OutageUpdate.objects.create(
            outage=outage, state=state, message=message, author=author, api_key=api_key, user=user, created_at=now
        )
        OutageEvent.objects.create(
            outage=outage,
            at=now,
            kind=EventKind.STATUS_UPDATE,
            data={"state": state, "message": message, "author": author},
        )
        first = OutageUpdate.objects.filter(outage=outage).order_by("created_at", "id").first()
        latest = OutageUpdate.objects.filter(outage=outage).order_by("-created_at", "-id").first()
        # Both from the stored updates, not this one: an update stamped earlier than others changes neither.
        assert first is not None and latest is not None  # there is at least the one just created
        Outage.objects.filter(pk=outage.pk).update(acknowledged_at=first.created_at, team_state=latest.state)
    return update
