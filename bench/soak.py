"""Soak (full bench only): sustained intake at half the measured maximum, with a worker and a Redis restart.

Checks that every report answered 2xx is stored, that web memory stays flat, and that detection
lag (now minus the oldest service's last processed minute) comes back under two minutes after
each fault.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.procs import Procs, Redis
    from bench.run import Plan

LAG_TARGET = 120.0  # seconds


def detection_lag(slugs: list[str]) -> float:
    """Seconds between now and the oldest last processed minute's end among `slugs`."""
    from django.db import close_old_connections

    from reports.models import DetectorState

    close_old_connections()
    found = list(DetectorState.objects.filter(service__slug__in=slugs).values_list("last_minute", flat=True))
    minutes = [m for m in found if m is not None]
    if len(minutes) < len(slugs):
        return float("inf")
    return (dt.datetime.now(dt.UTC) - (min(minutes) + dt.timedelta(minutes=1))).total_seconds()


def soak(plan: Plan, procs: Procs, redis: Redis, *, rate: float) -> None:
    from bench.load import CONNECTIONS, wrk
    from bench.procs import tree_rss_of, wait_for
    from bench.run import INTAKE_SLUG, PORT, WORKERS, Figure
    from reports.intake import writebehind
    from reports.models import Report

    slugs = [INTAKE_SLUG]
    web = procs.gunicorn("web", "outagehub.wsgi:application", PORT, WORKERS)
    before = Report.objects.filter(service__slug=INTAKE_SLUG).count()
    results: list[Any] = []
    load = threading.Thread(
        target=lambda: results.append(wrk(PORT, seconds=plan.soak_seconds, slug=INTAKE_SLUG, rate=rate, tag=6))
    )
    started = time.monotonic()
    load.start()
    third = plan.soak_seconds / 3
    time.sleep(min(60.0, third / 2))
    web_start = tree_rss_of(web.pid)
    recovered: list[float] = []

    def after_fault(fault_at: float) -> None:
        deadline = fault_at + third - 5
        while time.monotonic() < deadline:
            lag = detection_lag(slugs)
            if lag < LAG_TARGET:
                recovered.append(time.monotonic() - fault_at)
                return
            time.sleep(5)
        recovered.append(float("inf"))

    time.sleep(max(0.0, started + third - time.monotonic()))
    procs.stop("worker", sig=signal.SIGKILL)  # a crash, not a shutdown: its batch must be redelivered
    worker = procs.celery_worker("worker")
    after_fault(time.monotonic())
    # The new worker's baseline once it has worked a while (drains every second): measured at once,
    # it was a process still importing Django, and the end of the soak looked like 50x growth.
    time.sleep(max(0.0, started + 2 * third - 60 - time.monotonic()))
    worker_start = tree_rss_of(worker.pid)
    time.sleep(max(0.0, started + 2 * third - time.monotonic()))
    redis.restart()
    after_fault(time.monotonic())
    load.join(plan.soak_seconds + 120)
    web_end, worker_end = tree_rss_of(web.pid), tree_rss_of(worker.pid)
    wait_for("the write-behind drain", lambda: writebehind.backlog() == 0, 180)
    result = results[0]
    stored = Report.objects.filter(service__slug=INTAKE_SLUG).count() - before
    minutes = plan.soak_seconds / 60
    plan.figures.append(
        Figure(
            f"soak {minutes:.0f} min at {rate:,.0f} req/s: stored - accepted",
            stored - result.accepted,
            "",
            f"0..{CONNECTIONS}, no errors",
            0 <= stored - result.accepted <= CONNECTIONS and result.non_2xx + result.socket_errors == 0,
            result.accepted,
        )
    )
    for name, start, end in (("web", web_start, web_end), ("worker", worker_start, worker_end)):
        ratio = end / start if start else 0
        plan.figures.append(
            Figure(
                f"memory: {name} RSS at the end of the soak",
                end / 1024,
                "MiB",
                "<= 1.10x",
                0 < ratio <= 1.10,
                start / 1024,
                ratio,
            )
        )
    for name, seconds in zip(("worker killed", "Redis restarted"), recovered, strict=False):
        plan.figures.append(
            Figure(f"soak: detection lag < 2 min after {name}", seconds, "s", "recovers", seconds != float("inf"))
        )
