"""`make bench` / `make bench-quick`: every performance target measured against its baseline in one run.

    python -m bench.run [--quick]

Needs PostgreSQL on loopback (BENCH_DATABASE_URL, a database it drops and recreates), and
starts its own Redis (append-only file, fsync every second), gunicorn and Celery processes on
loopback ports; stops them all when done or on error. Load is bounded in time and goes to
127.0.0.1 only. Prints one table: figure, value, baseline, ratio, target, pass/fail; exits 1
if any target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bench.procs import BIN, ROOT, Procs, Redis, tree_rss_of, wait_for


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str
    ok: bool
    baseline: float | None = None
    ratio: float | None = None


@dataclass
class Plan:
    quick: bool
    ingest_seconds: float
    memory_seconds: float
    reads_small: int
    reads_large: int
    read_samples: int
    detect_sizes: list[int]
    soak_seconds: float
    scale_seconds: float
    figures: list[Figure] = field(default_factory=list)


QUICK = dict(
    ingest_seconds=20,  # per side, in turns of 5 s: fewer turns read 0.05x apart from run to run
    memory_seconds=30,
    reads_small=50_000,
    reads_large=250_000,
    read_samples=200,
    detect_sizes=[100, 1000],
    soak_seconds=0,
    scale_seconds=8,
)
FULL = dict(
    ingest_seconds=30,
    memory_seconds=600,
    reads_small=100_000,
    reads_large=10_000_000,
    read_samples=300,
    detect_sizes=[100, 1000, 5000],
    soak_seconds=600,
    scale_seconds=30,
)

PORT = int(os.environ.get("BENCH_PORT", "8106"))
REDIS_PORT = int(os.environ.get("BENCH_REDIS_PORT", "6406"))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/outagehub_bench")
WORKERS = os.cpu_count() or 2
INTAKE_SLUG = "bench-intake"


def environment(data: Path) -> dict[str, str]:
    """Production settings (DEBUG off) on loopback, as an operator would run them behind a proxy."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "outagehub.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "OUTAGEHUB_SECURE_SSL_REDIRECT": "0",
        "OUTAGEHUB_TRUSTED_PROXIES": "127.0.0.1/32",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "OUTAGEHUB_INTAKE_WRITE_BEHIND": "1",
        "OUTAGEHUB_DATA_DIR": str(data),
        "OUTAGEHUB_STATIC_ROOT": str(data / "static"),
        "OUTAGEHUB_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def database_recreate() -> None:
    url = urlparse(DATABASE_URL)
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", admin, "-q", "-c", sql], check=True)  # noqa: S603, S607


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


# --- the measurements -------------------------------------------------------------------------


BARE_PORT = PORT + 2
INGEST_ROUND_SECONDS = 5


def measure_ingest(plan: Plan, procs: Procs) -> float:
    """Bare WSGI vs the full report path under the same gunicorn; returns the app's requests/s.

    Both servers are up at once and take turns (bare, app, app, bare, ...: a slow minute on this
    shared machine weighs on both sides alike); each side's rate is its requests over its seconds.
    Measured one after the other, the same code read anywhere from 0.25x to 0.34x from run to run.
    """
    from bench.load import CONNECTIONS, WrkResult, warm, wrk
    from reports.intake import writebehind
    from reports.models import Report

    procs.gunicorn("bare", "bench.bare:application", BARE_PORT, WORKERS)
    procs.gunicorn("web", "outagehub.wsgi:application", PORT, WORKERS)
    warm(BARE_PORT, slug=INTAKE_SLUG)
    before = Report.objects.filter(service__slug=INTAKE_SLUG).count() + warm(PORT, slug=INTAKE_SLUG)
    wrk(BARE_PORT, seconds=2, slug=INTAKE_SLUG, tag=99)  # warm-up
    warm_up = wrk(PORT, seconds=2, slug=INTAKE_SLUG, tag=1)
    rounds = max(1, round(plan.ingest_seconds / INGEST_ROUND_SECONDS))
    bares: list[WrkResult] = []
    apps: list[WrkResult] = []
    for i in range(rounds):
        turns = [(bares, BARE_PORT, 98), (apps, PORT, 10 + i)]  # the app's own address range each turn
        for results, port, tag in turns if i % 2 == 0 else turns[::-1]:
            results.append(wrk(port, seconds=INGEST_ROUND_SECONDS, slug=INTAKE_SLUG, tag=tag))
    procs.stop("bare")
    bare, app = WrkResult.total(bares), WrkResult.total(apps)
    ratio = app.rps / bare.rps
    plan.figures.append(
        Figure("ingest: requests/s, full report path", app.rps, "req/s", ">= 0.30x bare", ratio >= 0.3, bare.rps, ratio)
    )
    errors = app.non_2xx + app.socket_errors + warm_up.non_2xx + warm_up.socket_errors
    plan.figures.append(Figure("ingest: errors (non-2xx, socket)", errors, "", "0", errors == 0))
    accepted = warm_up.accepted + app.accepted
    started = time.monotonic()
    wait_for("the write-behind drain", lambda: writebehind.backlog() == 0, 120)
    lag = time.monotonic() - started
    stored = Report.objects.filter(service__slug=INTAKE_SLUG).count() - before
    # wrk counts the answers it read; a request in flight when it stopped (one per connection and
    # run) may be stored unseen.
    in_flight = CONNECTIONS * (len(apps) + 1)
    plan.figures.append(
        Figure(
            "ingest: stored - accepted (after drain)",
            stored - accepted,
            "",
            f"0..{in_flight} (in flight at stop)",
            0 <= stored - accepted <= in_flight,
            accepted,
        )
    )
    plan.figures.append(Figure("ingest: seconds to drain backlog after load", lag, "s", "< 30", lag < 30))
    return app.rps


def measure_memory(plan: Plan, procs: Procs) -> None:
    """RSS of web and worker after warm-up vs at the end of a sustained load."""
    from bench.load import wrk

    web, worker = procs.running["web"], procs.running["worker"]
    result: list[Any] = []
    import threading

    thread = threading.Thread(
        target=lambda: result.append(wrk(PORT, seconds=plan.memory_seconds, slug=INTAKE_SLUG, tag=3)), daemon=True
    )
    thread.start()
    time.sleep(max(5.0, plan.memory_seconds * 0.2))
    web_start, worker_start = tree_rss_of(web.pid), tree_rss_of(worker.pid)
    thread.join(plan.memory_seconds + 90)
    web_end, worker_end = tree_rss_of(web.pid), tree_rss_of(worker.pid)
    minutes = plan.memory_seconds / 60
    for name, start, end in (("web", web_start, web_end), ("worker", worker_start, worker_end)):
        ratio = end / start if start else 0
        plan.figures.append(
            Figure(
                f"memory: {name} RSS after {minutes:.1f} min load",
                end / 1024,
                "MiB",
                "<= 1.10x",
                0 < ratio <= 1.10,
                start / 1024,
                ratio,
            )
        )


def measure_scale_out(plan: Plan, procs: Procs) -> None:
    """Two web processes and two workers on one PostgreSQL and Redis: nothing lost, nothing twice."""
    import threading

    from bench.load import CONNECTIONS, warm, wrk
    from reports.intake import writebehind
    from reports.models import Report, ServiceMinute

    procs.gunicorn("web2", "outagehub.wsgi:application", PORT + 1, WORKERS)
    procs.celery_worker("worker2")
    warm(PORT + 1, slug=INTAKE_SLUG)
    wait_for("the write-behind drain", lambda: writebehind.backlog() == 0, 120)
    before = Report.objects.filter(service__slug=INTAKE_SLUG).count()
    results: list[Any] = []
    threads = [
        threading.Thread(
            target=lambda p=p, t=t: results.append(wrk(p, seconds=plan.scale_seconds, slug=INTAKE_SLUG, tag=t))
        )
        for p, t in ((PORT, 4), (PORT + 1, 5))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(plan.scale_seconds + 90)
    wait_for("the write-behind drain", lambda: writebehind.backlog() == 0, 120)
    accepted = sum(r.accepted for r in results)
    stored = Report.objects.filter(service__slug=INTAKE_SLUG).count() - before
    in_flight = CONNECTIONS * len(results)
    ok = 0 <= stored - accepted <= in_flight and all(r.non_2xx == 0 for r in results)
    plan.figures.append(
        Figure(
            "scale-out 2 web + 2 workers: stored - accepted",
            stored - accepted,
            "",
            f"0..{in_flight}, no errors",
            ok,
            accepted,
        )
    )
    # Let the two workers race on detection ticks for a while: each minute must be processed once.
    from reports.tasks import detection_tick_all

    for _ in range(3):
        detection_tick_all.delay()
        time.sleep(2)
    minutes = ServiceMinute.objects.filter(service__slug=INTAKE_SLUG)
    duplicates = minutes.count() - minutes.values("minute").distinct().count()
    plan.figures.append(Figure("scale-out: detection minutes done twice", duplicates, "", "0", duplicates == 0))
    procs.stop("web2")
    procs.stop("worker2")


def settle() -> None:
    """Vacuum, analyze and checkpoint after a bulk load, before reads are timed.

    What autovacuum and the checkpointer do on their own within minutes of a bulk load, done
    now: otherwise the reads of a freshly loaded 10 million rows are timed against that work
    (setting hint bits, scanning for the visibility map, flushing gigabytes), which no
    history that grew over weeks would be read against. Both histories are settled alike.
    """
    from django.db import connection

    from reports.models import CountryHour, Outage, Report, ReportMinute, ServiceMinute

    tables = ", ".join(m._meta.db_table for m in (Report, ReportMinute, CountryHour, ServiceMinute, Outage))
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {tables}")
        cursor.execute("CHECKPOINT")


def measure_reads(plan: Plan, procs: Procs) -> None:
    """p95 of series/, the service page and outages/ at a small and a large history."""
    from django.utils import timezone

    from bench.datagen import bench_services, reports_generate
    from bench.load import p95_ms
    from reports.models import Report

    services = bench_services(count=10)
    now = timezone.now()
    slug = services[0].slug
    paths = {
        "series/ (24 h, 15 min)": (f"/api/v1/services/{slug}/series/?bucket=15m", 25.0),
        "service page": (f"/s/{slug}/", 100.0),
        "outages/": ("/api/v1/outages/", 25.0),
    }
    started = time.monotonic()
    reports_generate(services=services, reports=plan.reads_small, end=now, days=90, seed=1)
    small_load = time.monotonic() - started
    settle()
    small = {
        name: p95_ms(PORT, path, count=plan.read_samples, address_base=i * 10_000)
        for i, (name, (path, _)) in enumerate(paths.items())
    }
    started = time.monotonic()
    reports_generate(services=services, reports=plan.reads_large - plan.reads_small, end=now, days=90, seed=2)
    large_load = time.monotonic() - started
    settle()
    total = Report.objects.count()
    large = {
        name: p95_ms(PORT, path, count=plan.read_samples, address_base=(i + 5) * 10_000)
        for i, (name, (path, _)) in enumerate(paths.items())
    }
    label = f"{plan.reads_large / 1e6:g}M" if plan.reads_large >= 1e6 else f"{plan.reads_large // 1000}k"
    for name, (_, limit) in paths.items():
        ratio = large[name] / small[name]
        plan.figures.append(
            Figure(
                f"reads: {name} p95 at {label} (baseline {plan.reads_small // 1000}k)",
                large[name],
                "ms",
                f"<= 1.5x, < {limit:.0f} ms",
                ratio <= 1.5 and large[name] < limit,
                small[name],
                ratio,
            )
        )
    rate = (plan.reads_large - plan.reads_small) / large_load
    plan.figures.append(
        Figure(f"generator: reports/s loading {label}", rate, "rows/s", "(info)", True, plan.reads_small / small_load)
    )
    plan.figures.append(Figure("storage: reports stored", total, "rows", "(info)", True))
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('reports_report'), pg_relation_size('reports_report')")
        everything, heap = cursor.fetchone()
    plan.figures.append(
        Figure("storage: bytes per report (table + indexes)", everything / total, "B", "(info)", True, heap / total)
    )


def measure_detection(plan: Plan) -> None:
    """One minute's detection for N services on one worker (this process), for each size."""
    from bench.detectcost import detection_minute_seconds

    per_service: dict[int, float] = {}
    for size in plan.detect_sizes:
        seconds = detection_minute_seconds(services=size)
        per_service[size] = seconds / size
        if size == 1000:
            plan.figures.append(Figure("detection: one minute, 1,000 services", seconds, "s", "< 10 s", seconds < 10))
    smallest, largest = min(plan.detect_sizes), max(plan.detect_sizes)
    ratio = per_service[largest] / per_service[smallest]
    plan.figures.append(
        Figure(
            f"detection: ms/service at {largest:,} (baseline {smallest})",
            per_service[largest] * 1000,
            "ms",
            "<= 1.5x (linear)",
            ratio <= 1.5,
            per_service[smallest] * 1000,
            ratio,
        )
    )


def print_table(figures: list[Figure]) -> None:
    def num(x: float | None) -> str:
        if x is None:
            return "-"
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"

    rows = [("figure", "value", "baseline", "ratio", "target", "result")]
    for f in figures:
        rows.append(
            (
                f.name,
                f"{num(f.value)} {f.unit}".strip(),
                num(f.baseline),
                "-" if f.ratio is None else f"{f.ratio:.2f}x",
                f.target,
                "pass" if f.ok else "FAIL",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    for i, row in enumerate(rows):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the under-five-minutes variant")
    parser.add_argument(
        "--only",
        choices=["ingest", "memory", "scale", "soak", "reads", "detection"],
        action="append",
        help="measure only these (repeatable); default: everything",
    )
    args = parser.parse_args()
    only = set(args.only or ["ingest", "memory", "scale", "soak", "reads", "detection"])
    plan = Plan(quick=args.quick, **(QUICK if args.quick else FULL))  # type: ignore[arg-type]
    data = Path(tempfile.mkdtemp(prefix="outagehub-bench-"))
    env = environment(data)
    os.environ.update({k: v for k, v in env.items() if k not in ("PYTHONPATH",)})
    started = time.monotonic()
    redis = Redis(REDIS_PORT, data / "redis")
    procs = Procs(env, data)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        mode = "quick" if plan.quick else "full"
        print(f"bench: {time.monotonic() - started:4.0f}s setting up in {data} ({mode})", flush=True)
        database_recreate()
        redis.start()
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "collectstatic", "--no-input", "-v", "0")
        import django

        django.setup()
        from catalog.services import service_create

        service_create(slug=INTAKE_SLUG, name="Bench Intake")
        procs.celery_worker("worker")
        procs.celery_beat()
        print(f"bench: {time.monotonic() - started:4.0f}s ingest", flush=True)
        max_rps = measure_ingest(plan, procs)  # always: the soak's rate and the later steps' web process
        if not plan.soak_seconds and "memory" in only:  # the full bench measures memory across its soak
            print(f"bench: {time.monotonic() - started:4.0f}s memory under sustained load", flush=True)
            measure_memory(plan, procs)
        if "scale" in only:
            print(f"bench: {time.monotonic() - started:4.0f}s two web processes and two workers", flush=True)
            measure_scale_out(plan, procs)
        if plan.soak_seconds and "soak" in only:
            from bench.soak import soak

            print(f"bench: {time.monotonic() - started:4.0f}s soak", flush=True)
            procs.stop("web")
            soak(plan, procs, redis, rate=max_rps / 2)  # leaves its web process running, for the reads
        # Reads and detection measure this machine without background work competing.
        procs.stop("beat")
        procs.stop("worker")
        if "reads" in only:
            print(f"bench: {time.monotonic() - started:4.0f}s reads as history grows", flush=True)
            measure_reads(plan, procs)
        procs.stop("web")
        if "detection" in only:
            print(f"bench: {time.monotonic() - started:4.0f}s detection cost", flush=True)
            measure_detection(plan)
    except BaseException:
        print("\nbench: stopped by an error; the figures measured before it:", flush=True)
        print_table(plan.figures)
        raise
    finally:
        procs.stop_all()
        redis.stop()
    print(
        f"\nOutageHub benchmark ({'quick' if plan.quick else 'full'}), {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores, gunicorn -w {WORKERS}, {time.monotonic() - started:.0f} s\n"
    )
    print_table(plan.figures)
    return 0 if all(f.ok for f in plan.figures) else 1


if __name__ == "__main__":
    sys.exit(main())
