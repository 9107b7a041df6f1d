"""Named actors for tests: a service with the default issue types, and reporters."""

from __future__ import annotations

import datetime as dt
import ipaddress

from catalog.models import Service
from reports.intake.services import report_create
from reports.models import Channel, Report

ALICE = ipaddress.ip_address("81.2.69.142")  # a GB address
BOB = ipaddress.ip_address("8.8.4.4")  # a US address
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"


def file_report(
    service: Service,
    issue_type: str = "payment",
    *,
    client=ALICE,
    user_agent: str = BROWSER,
    now: dt.datetime | None = None,
    **kwargs,
) -> Report:
    return report_create(
        service=service,
        issue_type_key=issue_type,
        channel=kwargs.pop("channel", Channel.API),
        client=client,
        user_agent=user_agent,
        now=now,
        **kwargs,
    )
