"""Fault injection: the database goes down under a running gunicorn, and no report is lost.

The test starts a PostgreSQL server of its own (initdb in a temporary directory, on a free
port) so it can stop and restart it without touching the machine's. Reports sent while it is
down wait in the broker (the filesystem broker under the data dir) and a Celery worker stores
them once it is back.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

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
