"""Production topology smoke test: gunicorn, a Celery worker and Celery beat as separate processes.

Each process gets the production settings (DEBUG off) from the environment,
like a deployment would. Locally they share SQLite and the filesystem broker
under a temporary data dir; in CI (DATABASE_URL and REDIS_URL set) a fresh
PostgreSQL database and a Redis db number no other test uses.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import IN_CI, require

pytestmark = pytest.mark.topology

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's bin: gunicorn and celery live beside python
ALICE, BOB = "81.2.69.142", "8.8.4.4"  # public addresses in GB and the US
MARKER = "topology smoke test"  # the comment on our reports, to tell them from simulated ones
REDIS_DB = 15  # no other test uses it; flushed before and after
STARTUP_SECONDS = 60
# The simulator fills whole minutes: its first tick fills the minute before it.
SIMULATOR_SECONDS = 90

# Variables of the pytest process (outagehub.test sets some) that must not leak into production processes.
_OWN_ENV = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no output)"


@dataclass
class Topology:
    tmp: Path
    env: dict[str, str]
    database_url: str  # empty: SQLite under the data dir
    port: int = field(default_factory=_free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self, name: str) -> Path:
        return self.tmp / f"{name}.log"

    def diagnostics(self) -> str:
        parts = []
        for name in ["setup", *self.processes]:
            process = self.processes.get(name)
            state = "" if process is None else f" (exit code {process.poll()})"
            parts.append(f"--- {name}{state}, last lines ---\n{_tail(self.log(name))}")
        return "\n".join(parts)

    def manage(self, *args: str) -> str:
        """Run a management command to completion with the topology's environment."""
        result = subprocess.run(
            [str(BIN / "python"), str(REPO / "manage.py"), *args],
            env=self.env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        with self.log("setup").open("a") as out:
            out.write(f"$ manage.py {' '.join(args)}\n{result.stdout}{result.stderr}")
        assert result.returncode == 0, f"manage.py {' '.join(args)} failed\n{self.diagnostics()}"
        return result.stdout

    def start(self, name: str, *command: str) -> None:
        with self.log(name).open("wb") as out:
            # A session of its own, so a process that ignores SIGTERM can be
            # killed together with the children it forked (gunicorn and
            # Celery workers).
            self.processes[name] = subprocess.Popen(
                [str(BIN / command[0]), *command[1:]],
                env=self.env,
                cwd=self.tmp,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def wait_until(self, what: str, seconds: float, check: Callable[[], Any]) -> Any:
        """Poll `check` until it returns something truthy, failing with the processes' output at the deadline."""
        deadline = time.monotonic() + seconds
        while True:
            for name, process in self.processes.items():
                assert process.poll() is None, f"{name} exited while waiting for {what}\n{self.diagnostics()}"
            result = check()
            if result:
                return result
            assert time.monotonic() < deadline, f"no {what} within {seconds} s\n{self.diagnostics()}"
            time.sleep(0.25)  # polling interval, not a wait for time to pass

    def request(self, method: str, path: str, body: dict[str, Any] | None = None, **headers: str) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, raw, kind = response.status, response.read(), response.headers.get_content_type()
        except urllib.error.HTTPError as exc:
            status, raw, kind = exc.code, exc.read(), exc.headers.get_content_type()
        return status, json.loads(raw) if kind == "application/json" else raw.decode()

    def answers(self) -> bool:
        try:
            return self.request("GET", "/api/v1/services/")[0] == 200
        except OSError:  # not listening yet
            return False

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        """Rows of a read-only query on the topology's database, from outside the processes."""
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url) as conn:
                return conn.execute(query).fetchall()
        conn = sqlite3.connect(self.tmp / "data" / "outagehub.sqlite3", timeout=20)
        try:
            return conn.execute(query).fetchall()
        finally:
            conn.close()


def _with_database(url: str, database: str) -> str:
    return urllib.parse.urlsplit(url)._replace(path=f"/{database}").geturl()


@contextmanager
def _fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on `server_url`'s server, dropped afterwards (connections and all)."""
    import psycopg
    from psycopg import sql

    name = f"outagehub_topology_{secrets.token_hex(4)}"
    admin_url = _with_database(server_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(server_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def _private_redis_db(server_url: str) -> Iterator[str]:
    """`server_url` pointed at a db number no other test uses, emptied before and after."""
    import redis

    url = urllib.parse.urlsplit(server_url)._replace(path=f"/{REDIS_DB}").geturl()
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def _production_env(tmp: Path) -> dict[str, str]:
    """Production settings for processes started in `tmp`, on the embedded default (no DATABASE_URL, REDIS_URL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTAGEHUB_") and k not in _OWN_ENV}
    env.update(
        DJANGO_SETTINGS_MODULE="outagehub.settings",
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        OUTAGEHUB_SECURE_SSL_REDIRECT="0",
        OUTAGEHUB_SIMULATOR="1",
        OUTAGEHUB_SIMULATOR_INTERVAL_SECONDS="2",
        OUTAGEHUB_DATA_DIR=str(tmp / "data"),
        OUTAGEHUB_STATIC_ROOT=str(tmp / "static"),
        OUTAGEHUB_REPORT_RATE_LIMIT="1000/min",
        # The test client stands in for a reverse proxy on this machine.
        OUTAGEHUB_TRUSTED_PROXIES="127.0.0.1/32",
        # The probe below checks this very gunicorn on loopback.
        OUTAGEHUB_PROBES_ALLOW_PRIVATE="1",
        OUTAGEHUB_PROBES_SCHEDULER_INTERVAL_SECONDS="2",
    )
    return env


@pytest.fixture
def topology(tmp_path: Path) -> Iterator[Topology]:
    """The production environment for the processes; they are stopped (and the servers cleaned) afterwards."""
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if IN_CI:
        require(bool(database_url), "DATABASE_URL (PostgreSQL)")
        require(bool(redis_url), "REDIS_URL")
    env = _production_env(tmp_path)
    with ExitStack() as stack:
        # Without the variables: SQLite and the filesystem broker under the data dir.
        if database_url:
            database_url = env["DATABASE_URL"] = stack.enter_context(_fresh_postgres_database(database_url))
        if redis_url:
            env["REDIS_URL"] = stack.enter_context(_private_redis_db(redis_url))
        topology = Topology(tmp=tmp_path, env=env, database_url=database_url)
        stack.callback(topology.stop)  # before the database is dropped
        yield topology


def _post_report(topology: Topology, client: str, user_agent: str) -> tuple[int, Any]:
    return topology.request(
        "POST",
        "/api/v1/services/tiktok-shop/reports/",
        {"issue_type": "payment", "comment": MARKER},
        **{"X-Forwarded-For": client, "User-Agent": user_agent},
    )


def _dump(topology: Topology, tables: Sequence[str]) -> str:
    return "\n".join(repr(row) for table in tables for row in topology.sql(f"SELECT * FROM {table}"))


def test_reports_flow_through_gunicorn_and_simulated_traffic_through_beat_and_worker(topology: Topology) -> None:
    topology.manage("migrate", "--no-input", "-v", "0")
    topology.manage("load_catalog", str(REPO / "catalog" / "demo.yaml"))
    topology.manage("collectstatic", "--no-input", "-v", "0")
    # A heavy payment outage on TikTok Shop: even in the quietest minute of
    # the day the simulator writes dozens of payment reports a minute. No
    # tick runs yet, so the worker's first tick fills the minute before it.
    topology.manage(
        "shell",
        "-c",
        "import datetime as dt; from django.utils import timezone; "
        "from catalog.selectors import service_get; from reports.simulation.services import simulated_outage_schedule; "
        "now = timezone.now(); "
        "simulated_outage_schedule(service=service_get(slug='tiktok-shop'), issue_type_key='payment', "
        "starts_at=now - dt.timedelta(minutes=5), ends_at=now + dt.timedelta(minutes=30), factor=50)",
    )
    # The demo's probes point at the internet; this test's probe points at
    # our own gunicorn, and our own gunicorn is the canary (we are "online").
    topology.env["OUTAGEHUB_PROBES_CANARIES"] = f"127.0.0.1:{topology.port}"
    topology.manage(
        "shell",
        "-c",
        "from probes.models import Probe; from catalog.models import Service; "
        "Probe.objects.update(enabled=False); "
        "Probe.objects.create(service=Service.objects.get(slug='tiktok-shop'), name='self', kind='http', "
        f"target='http://127.0.0.1:{topology.port}/healthz', interval_seconds=10, timeout_seconds=5, "
        "regions=['local', 'eu'], config={'body_contains': 'ok'})",
    )
    simulated_payments = (
        "SELECT count(*) FROM reports_report r"
        " JOIN catalog_service s ON s.id = r.service_id JOIN catalog_issuetype i ON i.id = r.issue_type_id"
        f" WHERE s.slug = 'tiktok-shop' AND i.key = 'payment' AND r.comment <> '{MARKER}'"
    )
    assert topology.sql(simulated_payments) == [(0,)]

    # gunicorn's control socket defaults to one per user ($HOME/.gunicorn): keep ours apart.
    gunicorn = ("gunicorn", "outagehub.wsgi", "--bind", f"127.0.0.1:{topology.port}", "--workers", "2")
    topology.start("gunicorn", *gunicorn, "--control-socket", str(topology.tmp / "gunicorn.ctl"))
    celery = ("celery", "-A", "outagehub")
    worker = (*celery, "worker", "-l", "INFO", "--concurrency", "1", "--without-gossip", "--without-mingle")
    topology.start("worker", *worker, "--queues", "celery,probes.local")
    # A second region is a second queue, served by a worker of its own ("in Europe").
    topology.start("worker-eu", *worker, "--queues", "probes.eu", "--hostname", "eu@%h")
    topology.start("beat", *celery, "beat", "-l", "INFO", "--schedule", str(topology.tmp / "beat-schedule"))
    topology.wait_until("answer from gunicorn", STARTUP_SECONDS, topology.answers)

    # The web tier under production settings: the page renders with the
    # collected, hashed static files, which whitenoise serves.
    status, page = topology.request("GET", "/s/tiktok-shop/")
    assert status == 200, f"{page}\n{topology.diagnostics()}"
    assert "Is TikTok Shop down?" in page
    stylesheet = page.split('<link rel="stylesheet" href="', 1)[1].split('"', 1)[0]
    assert stylesheet.startswith("/static/reports/site.") and stylesheet.endswith(".css"), stylesheet
    assert topology.request("GET", stylesheet)[0] == 200

    _, before = topology.request("GET", "/api/v1/services/tiktok-shop/")
    posted = [
        _post_report(topology, ALICE, "Mozilla/5.0 (alice)"),
        _post_report(topology, BOB, "Mozilla/5.0 (bob)"),
        _post_report(topology, ALICE, "Mozilla/5.0 (alice)"),
    ]
    assert [status for status, _ in posted] == [201, 201, 201], f"{posted}\n{topology.diagnostics()}"
    assert [body["counted"] for _, body in posted] == [True, True, False], posted
    # The countries come from the forwarded addresses, not from the proxy's
    # 127.0.0.1 (which has none): X-Forwarded-For from a trusted proxy is believed.
    # On PostgreSQL with Redis a 201 means queued durably (write-behind): the drain stores it within seconds.
    ours = f"SELECT country, channel, counted FROM reports_report WHERE comment = '{MARKER}' ORDER BY id"
    stored = topology.wait_until("our three reports stored", 60, lambda: len(rows := topology.sql(ours)) >= 3 and rows)
    assert stored == [("GB", "api", True), ("US", "api", True), ("GB", "api", False)]

    status, after = topology.request("GET", "/api/v1/services/tiktok-shop/")
    assert status == 200, after
    # Simulated reports may land in between, so at least ours: the two counted ones.
    assert after["reports"]["last_15_minutes"] >= before["reports"]["last_15_minutes"] + 2, (before, after)
    assert after["reports"]["last_24_hours"] >= before["reports"]["last_24_hours"] + 2, (before, after)

    # Beat sends the simulator task every 2 s; only the worker writes reports.
    topology.wait_until(
        "simulated payment report written by the worker",
        SIMULATOR_SECONDS,
        lambda: topology.sql(simulated_payments)[0][0] > 0,
    )

    # Beat claims the probe's slot and sends one check to each region's queue,
    # probes.local and probes.eu; each region's worker checks gunicorn's
    # /healthz and records an up result, and the quorum of both is up.
    self_probe = (
        "SELECT r.region, r.outcome, r.status_code FROM probes_probe p"
        " JOIN probes_proberesult r ON r.probe_id = p.id WHERE p.name = 'self' ORDER BY r.region"
    )
    topology.wait_until(
        "probe results from both regions' workers",
        SIMULATOR_SECONDS,
        lambda: {row[0] for row in topology.sql(self_probe)} == {"eu", "local"},
    )
    rows = topology.sql(self_probe)
    assert {(outcome, code) for _, outcome, code in rows} == {("up", 200)}, f"{rows}\n{topology.diagnostics()}"
    probe_state = "SELECT state FROM probes_probe WHERE name = 'self'"
    topology.wait_until("probe up by quorum", SIMULATOR_SECONDS, lambda: topology.sql(probe_state) == [("up",)])
    status, probes = topology.request("GET", "/api/v1/probes/?service=tiktok-shop")
    assert status == 200
    assert [(p["name"], p["state"]) for p in probes["results"]] == [("self", "up")]

    # Client addresses are hashed and forgotten: not in any stored row, nor in any log.
    stored = _dump(topology, ["reports_report", "reports_reportercooldown"])
    for address in (ALICE, BOB):
        assert address not in stored
        for name in topology.processes:
            assert address not in topology.log(name).read_text(errors="replace"), f"{address} in the {name} log"


def test_the_embedded_broker_keeps_its_files_under_the_data_dir(tmp_path: Path) -> None:
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    send = "from outagehub.celery import app; app.send_task('reports.tasks.reports_prune_cooldowns')"

    result = subprocess.run(
        [str(BIN / "python"), "-c", send],
        env=_production_env(tmp_path),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "data" / "broker").iterdir())) == 1  # the message
    assert list(workdir.iterdir()) == [], "the broker wrote outside OUTAGEHUB_DATA_DIR"


# Detection reads a minute 20 s after it closes and ticks every 30 s; the outage starts a minute
# after the command and its first minute closes within the next: about 3 minutes, bounded at 7.
OUTAGE_SECONDS = 420


def test_simulate_outage_opens_an_outage_on_the_production_topology(topology: Topology) -> None:
    """The scenario of the report: a fresh production install, then `manage.py simulate --outage`.

    Production defaults throughout: the demo simulator off (OUTAGEHUB_SIMULATOR=0), the default
    simulator and detection intervals, gunicorn with two workers, one Celery worker, beat.
    """
    for name in ("OUTAGEHUB_SIMULATOR_INTERVAL_SECONDS", "OUTAGEHUB_PROBES_SCHEDULER_INTERVAL_SECONDS"):
        topology.env.pop(name)
    topology.env["OUTAGEHUB_SIMULATOR"] = "0"
    topology.manage("migrate", "--no-input", "-v", "0")
    topology.manage("load_catalog", str(REPO / "catalog" / "demo.yaml"))
    topology.manage("collectstatic", "--no-input", "-v", "0")
    # The demo's probes check the internet, which a test must not need.
    topology.manage("shell", "-c", "from probes.models import Probe; Probe.objects.update(enabled=False)")
    gunicorn = ("gunicorn", "outagehub.wsgi", "--bind", f"127.0.0.1:{topology.port}", "--workers", "2")
    topology.start("gunicorn", *gunicorn, "--control-socket", str(topology.tmp / "gunicorn.ctl"))
    topology.start("worker", "celery", "-A", "outagehub", "worker", "-l", "INFO", "--queues", "celery,probes.local")
    topology.start("beat", "celery", "-A", "outagehub", "beat", "-l", "INFO", "--schedule", str(topology.tmp / "beat"))
    topology.wait_until("answer from gunicorn", STARTUP_SECONDS, topology.answers)
    # Detection has started: every service has a detector, which has seen next to nothing.
    detectors = "SELECT count(*) FROM reports_detectorstate"
    topology.wait_until("the first detection tick", STARTUP_SECONDS, lambda: topology.sql(detectors)[0][0] >= 14)

    # What Compose's health checks read: /readyz, and the heartbeat files of the worker and beat.
    ready = {"status": "ok", "checks": {"database": "ok", "broker": "ok"}, "down": []}
    assert topology.request("GET", "/readyz") == (200, ready)
    data = topology.tmp / "data"
    topology.wait_until(
        "worker and beat heartbeats",
        STARTUP_SECONDS,
        lambda: all((data / f"{kind}-heartbeat").exists() for kind in ("worker", "beat")),
    )
    output = topology.manage(
        "simulate", "--outage", "tiktok-shop:payment", "--at", "+1m", "--for", "15m", "--factor", "20"
    )

    assert "outage scheduled: tiktok-shop:payment x20" in output
    opened = (
        "SELECT o.level, o.confidence, o.issue_types FROM reports_outage o"
        " JOIN catalog_service s ON s.id = o.service_id"
        " WHERE s.slug = 'tiktok-shop' AND o.status = 'open'"
    )
    rows = topology.wait_until("an open outage of tiktok-shop", OUTAGE_SECONDS, lambda: topology.sql(opened))
    [(level, confidence, issue_types)] = rows
    assert (level, confidence) == ("outage", "crowd"), rows
    issue_types = issue_types if isinstance(issue_types, dict) else json.loads(issue_types)
    assert max(issue_types, key=issue_types.get) == "payment", issue_types
    # Only the injected outage's service gets traffic with the demo simulator off: no other outage.
    assert topology.sql("SELECT count(*) FROM reports_outage") == [(1,)]
    status, service = topology.request("GET", "/api/v1/services/tiktok-shop/")
    assert status == 200 and service["status"] == "outage", service
    # Both heartbeats kept fresh all along (the checks allow a minute).
    for kind in ("worker", "beat"):
        assert time.time() - (data / f"{kind}-heartbeat").stat().st_mtime < 60, kind
    # Metrics from loopback: detection is current (it just processed the outage's first minute).
    status, text = topology.request("GET", "/metrics")
    assert status == 200, text
    lag = float(re.search(r"^outagehub_detection_lag_seconds (\S+)$", text, re.M).group(1))
    assert 0 <= lag < 120, text
