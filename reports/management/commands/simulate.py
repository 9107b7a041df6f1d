from __future__ import annotations

import datetime as dt
import json
import math
import random
import time
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from catalog.selectors import service_get
from reports.selectors.status import reports_exist
from reports.simulation.model import MINUTE, SimOutage, SimReport, cascade, generate, parse_duration
from reports.simulation.selectors import sim_dependents, sim_services
from reports.simulation.services import (
    simulated_cascade_schedule,
    simulated_history_ensure,
    simulated_outage_schedule,
    simulator_backfill,
    simulator_tick,
)


def _duration(text: str) -> dt.timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


class Command(BaseCommand):
    help = (
        "Generate realistic report traffic for the catalog's services (those with demo_traffic), "
        "optionally with an injected outage. Without --url it writes through the service layer; "
        "with --url it posts to a running OutageHub over HTTP in real time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--backfill", metavar="DURATION", help="Generate history for the last DURATION (e.g. 24h).")
        parser.add_argument("--if-empty", action="store_true", help="Backfill only if no report exists yet.")
        parser.add_argument("--outage", metavar="SLUG:ISSUE", help="Inject an outage of one issue type.")
        parser.add_argument(
            "--cascade",
            action="store_true",
            help="With --outage of an upstream: the services whose depends_on names it go down too, each a few "
            "minutes later (log-normal lag, median 3 min, 1 to 15), on their most reported issue type.",
        )
        parser.add_argument(
            "--cascade-share", type=float, default=1.0, help="With --cascade: the share of dependents hit (default 1)."
        )
        parser.add_argument(
            "--at", default="+0m", help="Outage start relative to now: +10m, or --at=-2h for the past. Default now."
        )
        parser.add_argument("--for", dest="duration", default="30m", help="Outage duration (default 30m).")
        parser.add_argument("--factor", type=float, default=20.0, help="Multiple of normal traffic (default 20).")
        parser.add_argument("--url", help="Base URL of an OutageHub to post to, e.g. http://127.0.0.1:8000.")
        parser.add_argument("--minutes", type=int, default=1, help="With --url: minutes to run (0: until Ctrl-C).")
        parser.add_argument("--seed", type=int, help="Random seed, for repeatable traffic.")

    def handle(self, *args: Any, **opts: Any) -> None:
        rng = random.Random(opts["seed"])
        now = timezone.now()
        outage = self._outage(opts, now)
        if not math.isfinite(opts["cascade_share"]) or not 0 < opts["cascade_share"] <= 1:
            raise CommandError("--cascade-share takes a share of dependents above 0 and at most 1, e.g. 0.5")
        if opts["url"]:
            if not opts["url"].startswith(("http://", "https://")):
                raise CommandError("--url must start with http:// or https://")
            outages = [outage] if outage else []
            if outage and opts["cascade"]:
                upstream = service_get(slug=outage.slug)
                if upstream is None:
                    raise CommandError(f"no active service {outage.slug!r}")
                outages += cascade(outage, sim_dependents(service=upstream), rng, share=opts["cascade_share"])
            self._post_realtime(opts["url"].rstrip("/"), outages, opts["minutes"], rng)
            return
        if outage and opts["cascade"]:
            self._schedule_cascade(outage, opts["cascade_share"], rng)
        elif outage:
            self._schedule(outage, now, rng)
        if opts["backfill"] and not (opts["if_empty"] and reports_exist()):
            span = abs(_duration(opts["backfill"]))
            start = (now - span).replace(second=0, microsecond=0)
            written = simulator_backfill(start=start, end=now, rng=rng)
            self.stdout.write(f"backfilled {written} reports from {start:%Y-%m-%d %H:%M} UTC")
        written = simulator_tick(now=now, rng=rng)
        self.stdout.write(f"generated {written} reports up to {now:%Y-%m-%d %H:%M} UTC")

    def _outage(self, opts: dict[str, Any], now: dt.datetime) -> SimOutage | None:
        if not opts["outage"]:
            return None
        slug, _, issue_type = opts["outage"].partition(":")
        if not slug or not issue_type:
            raise CommandError("--outage takes SLUG:ISSUE_TYPE, e.g. tiktok-shop:payment")
        if not math.isfinite(opts["factor"]) or opts["factor"] <= 1:
            raise CommandError("--factor needs a finite factor above 1 (a multiple of normal traffic)")
        start = now + _duration(opts["at"])
        return SimOutage(slug, issue_type, start, start + abs(_duration(opts["duration"])), opts["factor"])

    def _schedule(self, outage: SimOutage, now: dt.datetime, rng: random.Random) -> None:
        service = service_get(slug=outage.slug)
        if service is None:
            raise CommandError(f"no active service {outage.slug!r}")
        try:
            simulated_outage_schedule(
                service=service,
                issue_type_key=outage.issue_type,
                starts_at=outage.start,
                ends_at=outage.end,
                factor=outage.factor,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            f"outage scheduled: {outage.slug}:{outage.issue_type} x{outage.factor:g} "
            f"from {outage.start:%H:%M} to {outage.end:%H:%M} UTC"
        )
        backfilled = simulated_history_ensure(service=service, now=now, rng=rng)
        if backfilled:
            self.stdout.write(
                f"{outage.slug}'s detector had under an hour of history (it calls no outage before): "
                f"backfilled {backfilled} reports of its normal traffic over the last 3 h and restarted it"
            )
        if not settings.OUTAGEHUB_SIMULATOR:
            self.stdout.write(
                f"OUTAGEHUB_SIMULATOR is off: Celery beat generates only {outage.slug}'s traffic, "
                "minute by minute, until the outage ends (a worker and beat must be running)"
            )

    def _schedule_cascade(self, outage: SimOutage, share: float, rng: random.Random) -> None:
        upstream = service_get(slug=outage.slug)
        if upstream is None:
            raise CommandError(f"no active service {outage.slug!r}")
        try:
            rows = simulated_cascade_schedule(
                upstream=upstream,
                issue_type_key=outage.issue_type,
                starts_at=outage.start,
                ends_at=outage.end,
                factor=outage.factor,
                rng=rng,
                share=share,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        for row in rows:
            self.stdout.write(
                f"outage scheduled: {row.service.slug}:{row.issue_type_key} x{row.factor:.3g} "
                f"from {row.starts_at:%H:%M} to {row.ends_at:%H:%M} UTC"
            )
        if len(rows) == 1:
            self.stdout.write(f"no service with demo traffic depends on {outage.slug}: nothing cascades")

    def _post_realtime(self, url: str, outages: list[SimOutage], minutes: int, rng: random.Random) -> None:
        """Each minute, post the minute that just ended. The server stamps the time.

        Each simulated reporter has its own address, sent in X-Forwarded-For:
        the server must list this machine in OUTAGEHUB_TRUSTED_PROXIES or every
        report comes from one address and is rate-limited.
        """
        services = sim_services()
        done = 0
        while minutes == 0 or done < minutes:
            start = timezone.now().replace(second=0, microsecond=0)
            sent = failed = 0
            for report in generate(services, start, start + MINUTE, outages, rng):
                ok = self._post(url, report)
                sent, failed = sent + ok, failed + (not ok)
            done += 1
            self.stdout.write(f"{start:%H:%M} posted {sent} reports ({failed} refused)")
            if minutes == 0 or done < minutes:
                time.sleep(max(0.0, (start + MINUTE - timezone.now()).total_seconds()))

    def _post(self, url: str, report: SimReport) -> bool:
        body = json.dumps({"issue_type": report.issue_type, "comment": report.comment}).encode()
        request = urllib.request.Request(  # noqa: S310 - scheme checked in handle()
            f"{url}/api/v1/services/{report.slug}/reports/",
            data=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": report.user_agent,
                "X-Forwarded-For": report.ip,
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - scheme checked in handle()
                return response.status == 201
        except (urllib.error.URLError, TimeoutError) as exc:
            self.stderr.write(f"{report.slug}: {exc}")
            return False
