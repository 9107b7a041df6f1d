"""Fault injection against real processes: each test drives reports over HTTP while it breaks something.

The tests start a PostgreSQL server and a Redis server of their own (in temporary directories,
on free ports) so they can stop and restart them without touching the machine's. Every report
answered 201 (or 202, taken to store later) must end up stored exactly once; any other answer
must be a 503 with Retry-After, never a 500 and never a 201 that is then lost.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import require
from outagehub.tests.test_topology import ALICE, BOB, REPO, STARTUP_SECONDS, Topology, _free_port, _production_env

pytestmark = pytest.mark.topology

MARKER = "fault injection test"


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class OwnPostgres:
    """A throwaway PostgreSQL cluster: trust auth, loopback only, its socket in its own directory."""

    def __init__(self, root: Path, bindir: Path) -> None:
        self.root, self.bindir, self.port = root, bindir, _free_port()
        self.data, self.log = root / "pgdata", root / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        argv = [str(self.bindir / command[0]), *command[1:]]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            argv = ["runuser", "-u", "postgres", "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}"

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[OwnPostgres]:
    bindir = _postgres_bin()
    require(bindir is not None and (os.geteuid() != 0 or shutil.which("runuser") is not None), "PostgreSQL binaries")
    server = OwnPostgres(Path("/tmp") / f"outagehub-pg-{tmp_path.name}", bindir)
    server.init()
    server.start()
    try:
        yield server
    finally:
        subprocess.run(
            ["runuser", "-u", "postgres", "--"] * (os.geteuid() == 0)
            + [str(bindir / "pg_ctl"), "-D", str(server.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(server.root, ignore_errors=True)


def _post_form(topology: Topology, client: str, token: str) -> tuple[int, str]:
    body = f"csrfmiddlewaretoken={token}&issue_type=server&comment={MARKER.replace(' ', '+')}".encode()
    request = urllib.request.Request(
        f"{topology.url}/s/tiktok-shop/report/",
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={token}",
            "X-Forwarded-For": client,
            "User-Agent": "Mozilla/5.0 (form)",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_reports_sent_while_the_database_is_down_are_stored_once_it_is_back(tmp_path, own_postgres):
    env = _production_env(tmp_path)
    env.update(DATABASE_URL=own_postgres.url, OUTAGEHUB_SIMULATOR="0")
    topology = Topology(tmp=tmp_path, env=env, database_url=own_postgres.url)
    try:
        topology.manage("migrate", "--no-input", "-v", "0")
        topology.manage("load_catalog", str(REPO / "catalog" / "demo.yaml"))
        topology.manage("collectstatic", "--no-input", "-v", "0")
        gunicorn = ("gunicorn", "outagehub.wsgi", "--bind", f"127.0.0.1:{topology.port}", "--workers", "2")
        topology.start("gunicorn", *gunicorn, "--control-socket", str(tmp_path / "gunicorn.ctl"))
        topology.wait_until("answer from gunicorn", STARTUP_SECONDS, topology.answers)
        # A visitor opens the page (and gets a CSRF token) while all is well.
        status, page = topology.request("GET", "/s/tiktok-shop/")
        assert status == 200, page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

        own_postgres.stop()
        down_at = time.time()
        status, body = topology.request(
            "POST",
            "/api/v1/services/tiktok-shop/reports/",
            {"issue_type": "payment", "comment": MARKER},
            **{"X-Forwarded-For": ALICE, "User-Agent": "Mozilla/5.0 (api)"},
        )
        assert status == 202, f"{body}\n{topology.diagnostics()}"
        assert body["queued"] is True and body["service"] == "tiktok-shop" and body["issue_type"] == "payment"
        status, html = _post_form(topology, BOB, token)
        assert status == 202, f"{html}\n{topology.diagnostics()}"
        assert "your report was received" in html
        # What waits in the broker holds no address and no user agent.
        waiting = "".join(p.read_text(errors="replace") for p in (tmp_path / "data").rglob("*") if p.is_file())
        assert "payment" in waiting  # the messages are there...
        assert ALICE not in waiting and BOB not in waiting and "Mozilla/5.0 (api)" not in waiting

        own_postgres.start()
        celery = ("celery", "-A", "outagehub", "worker", "-l", "INFO", "--concurrency", "1")
        topology.start("worker", *celery, "--without-gossip", "--without-mingle", "--queues", "celery")
        ours = (
            "SELECT i.key, r.channel, r.country, r.counted, extract(epoch FROM r.created_at) FROM reports_report r"
            f" JOIN catalog_issuetype i ON i.id = r.issue_type_id WHERE r.comment = '{MARKER}' ORDER BY r.channel"
        )
        rows = topology.wait_until("the deferred reports stored", 120, lambda: len(topology.sql(ours)) == 2 and ours)
        stored = topology.sql(rows)
        assert [row[:4] for row in stored] == [("payment", "api", "GB", True), ("server", "web", "US", True)]
        # Stored at the time they were sent, not when the worker caught up.
        assert all(down_at - 1 <= float(row[4]) <= down_at + 30 for row in stored), (down_at, stored)
    finally:
        topology.stop()


# --- Redis, load, and the exactly-once check shared by the tests below -----------------------


class OwnRedis:
    """A throwaway Redis, persisted as docker-compose.yml configures it (append-only file)."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, _free_port()
        root.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        subprocess.run(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root)),
                *("--appendonly", "yes", "--save", "", "--daemonize", "yes"),
                *("--pidfile", str(self.root / "redis.pid"), "--logfile", str(self.root / "redis.log")),
            ],
            check=True,
            timeout=30,
        )
        deadline = time.monotonic() + 30
        while not self._ping():
            assert time.monotonic() < deadline, f"redis did not start:\n{_tail(self.root / 'redis.log')}"
            time.sleep(0.05)  # polling interval

    def stop(self) -> None:
        """A clean stop (SIGTERM: Redis writes its append-only file and exits), as a restart does."""
        pid = int((self.root / "redis.pid").read_text())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists() and not _zombie(pid):
            assert time.monotonic() < deadline, "redis did not stop"
            time.sleep(0.05)  # polling interval

    def kill(self) -> None:
        pid_file = self.root / "redis.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    require(shutil.which("redis-server") is not None, "redis-server")
    server = OwnRedis(Path("/tmp") / f"outagehub-redis-{tmp_path.name}")
    server.start()
    try:
        yield server
    finally:
        server.kill()
        shutil.rmtree(server.root, ignore_errors=True)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no output)"


@dataclass
class Load:
    """Reports posted over HTTP, each with its own client address and a numbered comment."""

    topology: Topology
    marker: str
    answers: dict[int, tuple[int, str | None]] = field(default_factory=dict)
    sent: int = 0

    @staticmethod
    def client(n: int) -> str:
        # A public address in a /24 of its own for each report: no per-address or per-network limit applies.
        return f"{20 + n // 65536}.{n // 256 % 256}.{n % 256}.9"

    def post(self, n: int) -> tuple[int, str | None]:
        body = json.dumps({"issue_type": "payment", "comment": f"{self.marker} {n}"}).encode()
        request = urllib.request.Request(
            f"{self.topology.url}/api/v1/services/tiktok-shop/reports/",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Forwarded-For": self.client(n),
                "User-Agent": f"Mozilla/5.0 (load {n})",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers.get("Retry-After")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Retry-After")
        except OSError:  # no answer at all: the client cannot know, and neither may we count it as taken
            return 0, None

    def send(self, count: int, threads: int = 4) -> None:
        numbers = range(self.sent, self.sent + count)
        self.sent += count
        with ThreadPoolExecutor(threads) as pool:
            for n, answer in zip(numbers, pool.map(self.post, numbers), strict=True):
                self.answers[n] = answer

    @property
    def taken(self) -> set[int]:
        return {n for n, (status, _) in self.answers.items() if status in (201, 202)}

    def assert_refusals_are_503_with_retry_after(self) -> None:
        refused = {n: a for n, a in self.answers.items() if a[0] not in (201, 202)}
        bad = {n: a for n, a in refused.items() if a[0] != 503 or not a[1]}
        assert not bad, f"answers other than 201/202 or 503 with Retry-After: {bad}"

    def stored(self) -> dict[int, int]:
        rows = self.topology.sql(
            f"SELECT comment, count(*) FROM reports_report WHERE comment LIKE '{self.marker} %' GROUP BY comment"
        )
        return {int(comment.rsplit(" ", 1)[1]): count for comment, count in rows}

    def assert_taken_stored_exactly_once(self, seconds: float = 120) -> None:
        """Every report answered 201/202 is stored once, and nothing else is; waits for late writers."""
        self.topology.wait_until("every report taken stored", seconds, lambda: self.taken <= set(self.stored()))
        stored = self.stored()
        doubled = {n: c for n, c in stored.items() if c != 1}
        assert not doubled, f"stored more than once: {doubled}"
        assert set(stored) == self.taken, f"stored but refused: {set(stored) - self.taken}"


def _fault_env(tmp_path: Path, postgres: OwnPostgres, redis_server: OwnRedis, **extra: str) -> Topology:
    env = _production_env(tmp_path)
    env.update(DATABASE_URL=postgres.url, REDIS_URL=redis_server.url, OUTAGEHUB_SIMULATOR="0", **extra)
    topology = Topology(tmp=tmp_path, env=env, database_url=postgres.url)
    topology.manage("migrate", "--no-input", "-v", "0")
    topology.manage("load_catalog", str(REPO / "catalog" / "demo.yaml"))
    topology.manage("collectstatic", "--no-input", "-v", "0")
    # The demo's probes check the internet, which a test must not need.
    topology.manage("shell", "-c", "from probes.models import Probe; Probe.objects.update(enabled=False)")
    return topology


def _start_web(topology: Topology) -> None:
    gunicorn = ("gunicorn", "outagehub.wsgi", "--bind", f"127.0.0.1:{topology.port}", "--workers", "2")
    topology.start("gunicorn", *gunicorn, "--control-socket", str(topology.tmp / "gunicorn.ctl"))


def _start_worker(topology: Topology, name: str = "worker") -> None:
    topology.start(
        name,
        "celery",
        "-A",
        "outagehub",
        "worker",
        "-l",
        "INFO",
        "--concurrency",
        "2",
        "--without-gossip",
        "--without-mingle",
        "--queues",
        "celery,probes.local",
        "--hostname",
        f"{name}@%h",
    )


def _start_beat(topology: Topology, name: str = "beat") -> None:
    topology.start(name, "celery", "-A", "outagehub", "beat", "-l", "INFO", "--schedule", str(topology.tmp / name))


def _start_all(topology: Topology) -> None:
    """gunicorn, a Celery worker and beat (which schedules the write-behind drain), answering."""
    _start_web(topology)
    _start_worker(topology)
    _start_beat(topology)
    topology.wait_until("answer from gunicorn", STARTUP_SECONDS, topology.answers)


def test_redis_stopped_mid_load_and_started_again_loses_and_doubles_no_report(tmp_path, own_postgres, own_redis):
    topology = _fault_env(tmp_path, own_postgres, own_redis)
    load = Load(topology, "redis fault")
    try:
        _start_all(topology)
        load.send(40)
        assert load.taken == set(range(40)), load.answers

        own_redis.stop()
        load.send(40)
        # Readiness says what is down, so a load balancer can tell.
        status, body = topology.request("GET", "/readyz")
        assert (status, body["down"]) == (503, ["broker"]), body

        own_redis.start()
        load.send(40)
        topology.wait_until("ready again", 30, lambda: topology.request("GET", "/readyz")[0] == 200)
        load.send(20)

        load.assert_refusals_are_503_with_retry_after()
        load.assert_taken_stored_exactly_once()
        # Intake kept taking reports while Redis was down (the database is the record), not only after.
        assert load.taken & set(range(40, 80)), load.answers
        assert load.taken >= set(range(120, 140)), "not taking reports after Redis came back"
    finally:
        topology.stop()


def _get(topology: Topology, path: str) -> tuple[int, str | None, str]:
    """Status, Retry-After and body of a GET, whatever the status."""
    try:
        with urllib.request.urlopen(topology.url + path, timeout=30) as response:
            return response.status, response.headers.get("Retry-After"), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Retry-After"), exc.read().decode()


READS = ("/api/v1/outages/", "/api/v1/services/tiktok-shop/series/", "/s/tiktok-shop/", "/")


def test_postgres_restarted_mid_load_answers_503_never_500_and_recovers_without_restarts(
    tmp_path, own_postgres, own_redis
):
    topology = _fault_env(tmp_path, own_postgres, own_redis)
    load = Load(topology, "postgres fault")
    try:
        _start_all(topology)
        load.send(30)
        assert load.taken == set(range(30)), load.answers
        assert all(_get(topology, path)[0] == 200 for path in READS)

        own_postgres.stop()
        load.send(40)  # write-behind: taken without the database (201), or queued in the broker (202)
        for path in READS:
            status, retry_after, body = _get(topology, path)
            assert status == 503 and retry_after, (path, status, body)
            assert "Traceback" not in body and "OperationalError" not in body, body
        status, body = topology.request("GET", "/readyz")
        assert (status, body["down"]) == (503, ["database"]), body

        own_postgres.start()
        # Back without restarting gunicorn or the worker: reads answer again, reports keep coming.
        topology.wait_until("reads answer again", 60, lambda: _get(topology, READS[0])[0] == 200)
        assert all(_get(topology, path)[0] == 200 for path in READS)
        load.send(20)

        load.assert_refusals_are_503_with_retry_after()
        load.assert_taken_stored_exactly_once()
        assert load.taken & set(range(30, 70)), "took nothing while the database was down"
        assert load.taken >= set(range(70, 90)), "not taking reports after the database came back"
    finally:
        topology.stop()


def test_a_worker_killed_mid_task_loses_and_doubles_nothing_and_detection_catches_up(tmp_path, own_postgres, own_redis):
    # Detection ticks every 2 s, so the worker is nearly always inside a task when it is killed.
    topology = _fault_env(tmp_path, own_postgres, own_redis, OUTAGEHUB_DETECTION_INTERVAL_SECONDS="2")
    load = Load(topology, "worker fault")
    try:
        _start_all(topology)
        load.send(30)
        ticked = "SELECT count(*) FROM reports_detectorstate WHERE last_minute IS NOT NULL"
        topology.wait_until("detection running", STARTUP_SECONDS, lambda: topology.sql(ticked)[0][0] >= 14)
        log = topology.log("worker")
        topology.wait_until("a detection task under way", 30, lambda: "detection_run" in log.read_text())

        worker = topology.processes.pop("worker")
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its pool, mid-task, no warm shutdown
        worker.wait(timeout=10)
        load.send(30)
        # Minutes close while no worker runs: detection must catch them up, not skip them.
        behind = "SELECT max(last_minute) FROM reports_detectorstate"
        killed_at = topology.sql(behind)[0][0]
        topology.wait_until(
            "a minute closed while the worker was dead",
            150,
            lambda: (
                topology.sql("SELECT date_trunc('minute', now() - interval '20 seconds')")[0][0]
                > killed_at + dt.timedelta(minutes=1)
            ),
        )
        _start_worker(topology, "worker-2")
        load.send(30)

        load.assert_refusals_are_503_with_retry_after()
        load.assert_taken_stored_exactly_once()
        caught_up = (
            "SELECT count(*) FROM reports_detectorstate"
            " WHERE last_minute >= date_trunc('minute', now() - interval '20 seconds') - interval '2 minutes'"
        )
        topology.wait_until("detection caught up", 120, lambda: topology.sql(caught_up)[0][0] >= 14)
        # Every minute processed once: no gap where the worker was dead, no minute twice.
        gaps = topology.sql(
            "SELECT service_id, count(*), count(DISTINCT minute),"
            " (extract(epoch FROM max(minute) - min(minute)) / 60)::int + 1 FROM reports_serviceminute"
            " GROUP BY service_id"
        )
        assert gaps and all(total == distinct == span for _, total, distinct, span in gaps), gaps
        assert (
            topology.sql(
                "SELECT count(*) FROM reports_outage WHERE status = 'open' GROUP BY service_id HAVING count(*) > 1"
            )
            == []
        )
        doubled_events = "SELECT outage_id, kind, at FROM reports_outageevent GROUP BY 1, 2, 3 HAVING count(*) > 1"
        assert topology.sql(doubled_events) == []
    finally:
        topology.stop()


class Targets:
    """Loopback HTTP targets for probes and webhooks, counting what they receive.

    /ok and /canary answer at once; /hang reads the request and never answers; /drip sends its
    headers and then one byte every 0.2 s of a megabyte; /hook takes webhook deliveries.
    """

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.hooks: list[tuple[str, dict[str, Any]]] = []  # (webhook-id, body)
        self.closing = threading.Event()
        self.lock = threading.Lock()
        targets = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                with targets.lock:
                    targets.hits[path] = targets.hits.get(path, 0) + 1
                if path == "/hang":
                    targets.closing.wait()
                    self.close_connection = True
                    return
                if path == "/drip":
                    self.send_response(200)
                    self.send_header("Content-Length", str(1 << 20))
                    self.end_headers()
                    # The server being slow on purpose, not the test waiting for time.
                    while not targets.closing.wait(0.2):
                        try:
                            self.wfile.write(b"x")
                            self.wfile.flush()
                        except OSError:  # the check gave up: what we want
                            return
                    return
                self._answer(200, b"ok")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with targets.lock:
                    targets.hooks.append((self.headers.get("webhook-id", ""), json.loads(body or b"{}")))
                self._answer(204, b"")

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


PROBE_TIMEOUT = 2  # seconds, for the hanging and the dripping target


def test_two_schedulers_at_once_duplicate_no_probe_run_detection_minute_or_webhook(tmp_path, own_postgres, own_redis):
    """Two beats send every periodic task twice; each slot, minute and delivery must still happen once.

    The probes include a target that hangs and one that drips bytes: their checks end on time
    (down, timeout) and the worker goes on with everything else. The hanging probe going down
    opens an outage, which is announced to a webhook receiver exactly once.
    """
    targets = Targets()
    topology = _fault_env(
        tmp_path,
        own_postgres,
        own_redis,
        OUTAGEHUB_PROBES_CANARIES=targets.url("/canary"),
        OUTAGEHUB_DETECTION_INTERVAL_SECONDS="5",
    )
    load = Load(topology, "two beats")
    try:
        topology.manage(
            "shell",
            "-c",
            "from catalog.models import Service; from probes.models import Probe; "
            "from reports.api.auth import api_key_create; from reports.outages.webhooks import webhook_create; "
            "shop = Service.objects.get(slug='tiktok-shop'); "
            f"Probe.objects.create(service=shop, name='ok', kind='http', target='{targets.url('/ok')}', "
            "interval_seconds=10, timeout_seconds=5, regions=['local']); "
            f"Probe.objects.create(service=shop, name='hang', kind='http', target='{targets.url('/hang')}', "
            f"interval_seconds=10, timeout_seconds={PROBE_TIMEOUT}, failure_threshold=2, regions=['local']); "
            f"Probe.objects.create(service=shop, name='drip', kind='http', target='{targets.url('/drip')}', "
            f"interval_seconds=10, timeout_seconds={PROBE_TIMEOUT}, failure_threshold=2, regions=['local']); "
            "key, _ = api_key_create(name='ops', scopes=['webhooks']); "
            f"webhook_create(owner=key, url='{targets.url('/hook')}', events=['outage.opened'])",
        )
        _start_web(topology)
        _start_worker(topology)
        _start_beat(topology, "beat-a")
        _start_beat(topology, "beat-b")
        topology.wait_until("answer from gunicorn", STARTUP_SECONDS, topology.answers)
        load.send(30)

        opened = lambda: [body for _, body in targets.hooks if body.get("event") == "outage.opened"]  # noqa: E731
        topology.wait_until("the probe outage announced", 240, opened)
        load.send(30)
        # A few more rounds of both schedulers, for any duplicate to show.
        results = (
            "SELECT count(*) FROM probes_proberesult r JOIN probes_probe p ON p.id = r.probe_id WHERE p.name = '{}'"
        )
        done = topology.sql(results.format("ok"))[0][0]
        topology.wait_until("more probe rounds", 60, lambda: topology.sql(results.format("ok"))[0][0] >= done + 3)
        load.send(30)
        topology.wait_until(
            "webhook deliveries settled",
            30,
            lambda: topology.sql("SELECT count(*) FROM reports_webhookdelivery WHERE status = 'pending'") == [(0,)],
        )

        load.assert_refusals_are_503_with_retry_after()
        load.assert_taken_stored_exactly_once()
        # Probes: each slot checked once, though both beats asked for it.
        slots = topology.sql(
            "SELECT p.name, count(*), count(DISTINCT (r.slot, r.region)) FROM probes_proberesult r"
            " JOIN probes_probe p ON p.id = r.probe_id GROUP BY p.name ORDER BY p.name"
        )
        assert all(total == distinct for _, total, distinct in slots), slots
        ok_results = topology.sql(results.format("ok"))[0][0]
        # One check per stored result (and at most one more, still on its way to the database).
        assert ok_results <= targets.hits.get("/ok", 0) <= ok_results + 1, (targets.hits, ok_results)
        # The hanging and the dripping target: down on a timeout, each within its deadline.
        slow = topology.sql(
            "SELECT p.name, r.outcome, r.error, r.latency_ms FROM probes_proberesult r"
            " JOIN probes_probe p ON p.id = r.probe_id WHERE p.name IN ('hang', 'drip')"
        )
        assert {name for name, *_ in slow} == {"hang", "drip"}, slow
        assert all((o, e) == ("down", "timeout") for _, o, e, _ in slow), slow
        assert all(ms <= PROBE_TIMEOUT * 1000 + 1500 for *_, ms in slow), slow
        # One outage, announced once, with one delivery row.
        assert topology.sql("SELECT confidence FROM reports_outage") == [("probe",)]
        assert len(opened()) == 1 and len({hook_id for hook_id, _ in targets.hooks}) == len(targets.hooks), (
            targets.hooks
        )
        assert topology.sql("SELECT event, status, count(*) FROM reports_webhookdelivery GROUP BY 1, 2") == [
            ("outage.opened", "delivered", 1)
        ]
        # Detection: every minute of a service processed once.
        minutes = topology.sql(
            "SELECT service_id, count(*), count(DISTINCT minute) FROM reports_serviceminute GROUP BY service_id"
        )
        assert minutes and all(total == distinct for _, total, distinct in minutes), minutes
        doubled_events = "SELECT outage_id, kind, at FROM reports_outageevent GROUP BY 1, 2, 3 HAVING count(*) > 1"
        assert topology.sql(doubled_events) == []
        # The worker stayed healthy through the hanging checks: its heartbeat is fresh.
        assert time.time() - (tmp_path / "data" / "worker-heartbeat").stat().st_mtime < 60
    finally:
        topology.stop()
        targets.close()
