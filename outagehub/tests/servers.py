"""A real gunicorn serving OutageHub from a data directory of its own, for tests that need real HTTP.

On the embedded default (a SQLite file, no DATABASE_URL), so the server's database is its own
and not the test database; with `redis_url`, its cache and rate limits are on that Redis.
Started on a free loopback port with the trusted-proxy header on, so a test can speak for many
client addresses.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CATALOG = """services:
  - slug: tiktok-shop
    name: TikTok Shop
    homepage: https://shop.tiktok.com
    issue_types: [{key: payment, label: Payment}, {key: server, label: Server}]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, tmp: Path, *, redis_url: str = "", workers: int = 2, threads: int = 8, **env: str) -> None:
        self.tmp, self.port = tmp, free_port()
        self.workers, self.threads = workers, threads
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL"} and not k.startswith("OUTAGEHUB_")
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="outagehub.test",
            PYTHONPATH=str(REPO),
            OUTAGEHUB_DATA_DIR=str(tmp / "data"),
            OUTAGEHUB_TRUSTED_PROXIES="127.0.0.1/32",
            **env,
        )
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO, env=self.env, check=True, capture_output=True, timeout=180
        )

    def start(self) -> Gunicorn:
        (self.tmp / "catalog.yaml").write_text(CATALOG)
        self.manage("migrate", "--no-input", "-v", "0")
        self.manage("load_catalog", str(self.tmp / "catalog.yaml"))
        command = [sys.executable, "-m", "gunicorn", "outagehub.wsgi", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", str(self.workers), "--threads", str(self.threads), "--timeout", "60"]
        self.log = open(self.tmp / "gunicorn.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=2).close()
                return self
            except (OSError, urllib.error.URLError):
                assert self.process.poll() is None, (self.tmp / "gunicorn.log").read_text()
                time.sleep(0.1)  # waiting for a process to listen, not for time to pass
        raise RuntimeError("gunicorn did not answer:\n" + (self.tmp / "gunicorn.log").read_text())

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
            self.log.close()

    def query(self, sql: str, *params: object) -> list[tuple]:
        """Read the server's own database (a SQLite file) directly."""
        with sqlite3.connect(self.tmp / "data" / "outagehub.sqlite3") as db:
            return db.execute(sql, params).fetchall()
