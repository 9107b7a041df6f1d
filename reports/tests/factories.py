"""Named actors for tests: a service with the default issue types, and reporters."""

from __future__ import annotations

import datetime as dt
import ipaddress

from reports.models import Channel, Report, Service
from reports.services import report_create, service_create

ALICE = ipaddress.ip_address("81.2.69.142")  # a GB address
BOB = ipaddress.ip_address("8.8.4.4")  # a US address
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"


def make_service(slug: str = "tiktok-shop", name: str = "TikTok Shop", **kwargs) -> Service:
    return service_create(slug=slug, name=name, homepage=f"https://{slug}.example", **kwargs)


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
