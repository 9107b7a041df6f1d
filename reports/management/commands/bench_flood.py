"""Benchmark: does one address flooding the report endpoint slow everyone else down?

Starts gunicorn on loopback (as many workers as cores) with a throwaway embedded database (and
the Redis of REDIS_URL, if set, for the rate limits), then measures the latency of reports from
many ordinary clients (each its own address and network, through the trusted-proxy header):
alone; while one address floods the report endpoint as fast as its connections allow; and, as
the baseline, while the same connections flood POSTs to an unknown API path, about the cheapest
answer Django gives (a JSON 404: no database, no cache).
The load generator shares the machine's cores with the server, so any flood slows the
neighbours somewhat: the figure is how much more a report flood costs them than a flood of
the cheapest requests. Also printed: what the flood achieved (its reports taken: the limit,
no more). Bounded by request counts; stops the server when done.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

URL = "/api/v1/services/bench-flood/reports/"
CHEAP = "/api/v0/flood-baseline/"  # no such endpoint: a JSON 404
CATALOG = "services:\n  - {slug: bench-flood, name: Bench Flood}\n"
TARGET_RATIO = 1.25  # neighbours' p95 under a report flood, over their p95 under a 404 flood


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        root = Path(settings.BASE_DIR)
        self.env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("OUTAGEHUB_")}
        self.env.update(
            DJANGO_SETTINGS_MODULE="outagehub.test",
            PYTHONPATH=str(root),
            OUTAGEHUB_DATA_DIR=str(folder),
            OUTAGEHUB_TRUSTED_PROXIES="127.0.0.1/32",
            OUTAGEHUB_REPORT_RATE_LIMIT="10/min",
        )
        self.root, self.folder = root, folder

    def start(self) -> None:
        manage = [sys.executable, "manage.py"]
        (self.folder / "catalog.yaml").write_text(CATALOG)
        for args in (["migrate", "--no-input", "-v", "0"], ["load_catalog", str(self.folder / "catalog.yaml")]):
            subprocess.run([*manage, *args], cwd=self.root, env=self.env, check=True, capture_output=True)  # noqa: S603
        workers = str(os.cpu_count() or 2)
        command = [sys.executable, "-m", "gunicorn", "outagehub.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", workers]
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            command, cwd=self.root, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)  # waiting for the server to listen
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _post(connection: http.client.HTTPConnection, client: str, path: str = URL) -> int:
    body = json.dumps({"issue_type": "server"})
    headers = {"Content-Type": "application/json", "X-Forwarded-For": client, "User-Agent": f"bench {client}"}
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    return response.status


def _neighbours(port: int, count: int, offset: int) -> tuple[list[float], dict[int, int]]:
    """`count` reports, one per ordinary client, one at a time: their latencies (seconds) and statuses."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    for i in range(count):
        n = offset + i
        client = f"{81 + n // 65536 % 100}.{n // 256 % 256}.{n % 256}.7"  # a network of its own each
        started = time.perf_counter()
        status = _post(connection, client)
        latencies.append(time.perf_counter() - started)
        statuses[status] = statuses.get(status, 0) + 1
    connection.close()
    return latencies, statuses


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


class Command(BaseCommand):
    help = "Benchmark: latency of ordinary reporters with and without one address flooding (loopback gunicorn)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-n", type=int, default=300, help="Reports from ordinary clients per run (default 300).")
        parser.add_argument("--flooders", type=int, default=4, help="Connections the flooding address uses.")

    def handle(self, *args: Any, n: int, flooders: int, **options: Any) -> None:
        with tempfile.TemporaryDirectory(prefix="outagehub-bench-flood-") as folder:
            server = _Server(Path(folder))
            server.start()
            try:
                _neighbours(server.port, 30, offset=10_000)  # warm up both workers
                alone, _ = _neighbours(server.port, n, offset=0)
                cheap = self._flood(server.port, flooders, lambda: _neighbours(server.port, n, offset=2 * n), CHEAP)
                flood = self._flood(server.port, flooders, lambda: _neighbours(server.port, n, offset=n), URL)
            finally:
                server.stop()
        (flooded, statuses), flood_statuses, flood_rate = flood
        (baseline, _), _, cheap_rate = cheap
        backend = "redis" if os.environ.get("REDIS_URL") else "database (embedded)"
        self.stdout.write(f"limiter: {backend}; {n} ordinary reports per run; floods on {flooders} connections")
        header = f"{'neighbours latency (ms)':<24} {'alone':>7} {'404 flood':>15} {'report flood':>13}"
        self.stdout.write(header + f" {'ratio':>6} {'target':>7}")
        for name, f in (("p50", statistics.median), ("p95", _p95)):
            a, c, b = f(alone) * 1000, f(baseline) * 1000, f(flooded) * 1000
            target = f"<= {TARGET_RATIO}" if name == "p95" else ""
            verdict = ("pass" if b / c <= TARGET_RATIO else "FAIL") if target else ""
            self.stdout.write(f"{name:<24} {a:>7.1f} {c:>15.1f} {b:>13.1f} {b / c:>6.2f} {target:>7} {verdict}")
        self.stdout.write(f"404 flood: {cheap_rate:.0f} requests/s")
        self.stdout.write(f"ordinary reports answered: {statuses}")
        self.stdout.write(
            f"flood: {sum(flood_statuses.values())} requests at {flood_rate:.0f}/s, answered {flood_statuses}"
        )

    def _flood(self, port: int, connections: int, measure: Any, path: str) -> tuple[Any, dict[int, int], float]:
        stop = threading.Event()
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        cap = 50_000  # bounded even if the measurement hangs

        def flooder() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            while not stop.is_set() and sum(statuses.values()) < cap:
                status = _post(connection, "203.0.113.66", path)
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
            connection.close()

        threads = [threading.Thread(target=flooder) for _ in range(connections)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(0.5)  # let the flood reach its limit before measuring
        try:
            result = measure()
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        return result, statuses, sum(statuses.values()) / (time.perf_counter() - started)
