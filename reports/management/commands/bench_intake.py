from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.test import Client, override_settings

from catalog.models import IssueType
from catalog.services import service_create
from reports.intake.services import report_create
from reports.models import Channel, Report


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Benchmark report intake against a bare INSERT baseline measured in the same process, "
        "inside a transaction that is rolled back (nothing is kept)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-n", type=int, default=2000, help="Reports per measurement (default 2000).")

    def handle(self, *args: Any, n: int, **options: Any) -> None:
        rows: list[tuple[str, float]] = []
        try:
            with transaction.atomic():
                self._run(n, rows)
                raise _Rollback
        except _Rollback:
            pass
        baseline = rows[0][1]
        self.stdout.write(f"database: {connection.vendor}, {n} reports each")
        self.stdout.write(f"{'path':<44} {'µs/report':>10} {'reports/s':>10} {'x baseline':>11}")
        for name, seconds in rows:
            per = seconds / n * 1e6
            self.stdout.write(f"{name:<44} {per:>10.0f} {n / seconds:>10.0f} {seconds / baseline:>11.2f}")

    def _run(self, n: int, rows: list[tuple[str, float]]) -> None:
        service = service_create(slug="bench-intake", name="Bench Intake")
        payment = IssueType.objects.get(service=service, key="payment")
        ips = [ipaddress.ip_address(f"81.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}") for i in range(4 * n)]

        def measure(name: str, fn: Callable[[int], object]) -> None:
            started = time.perf_counter()
            for i in range(n):
                fn(i)
            rows.append((name, time.perf_counter() - started))

        measure(
            "baseline: bare Report INSERT",
            lambda i: Report.objects.create(service=service, issue_type=payment, channel=Channel.API, counted=True),
        )
        measure(
            "report_create, new reporter (counted)",
            lambda i: report_create(service=service, issue_type_key="payment", channel=Channel.API, client=ips[i]),
        )
        measure(
            "report_create, repeat reporter (not counted)",
            lambda i: report_create(service=service, issue_type_key="payment", channel=Channel.API, client=ips[0]),
        )
        body = json.dumps({"issue_type": "payment", "comment": "checkout fails"})
        with override_settings(OUTAGEHUB_REPORT_RATE_LIMIT=f"{10 * n}/min", ALLOWED_HOSTS=["testserver"]):
            measure(
                "POST /api/v1/…/reports/ (full stack)",
                lambda i: Client(REMOTE_ADDR=str(ips[n + i])).post(
                    "/api/v1/services/bench-intake/reports/", body, content_type="application/json"
                ),
            )
