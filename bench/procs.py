"""Processes the benchmarks start on loopback: Redis, gunicorn, Celery; and their resident memory.

Everything started here is stopped by `Procs.stop_all` (also on error): a benchmark leaves
nothing running.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_for(what: str, check: object, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise RuntimeError(f"bench: {what} did not come up within {seconds:.0f} s")


def rss_kib(pid: int) -> int:
    """Resident memory of one process in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids


def tree_rss_of(pid: int) -> int:
    """KiB of a process and its children (a gunicorn master and workers, a Celery worker and its pool)."""
    return rss_kib(pid) + sum(rss_kib(c) for c in children(pid))


class Procs:
    """The benchmark's own processes, by name."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(  # noqa: S603 - our own binaries, fixed arguments
            argv,
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running[name] = proc
        return proc

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        proc = self.running.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)

    # --- the pieces ------------------------------------------------------------------------

    def gunicorn(self, name: str, app: str, port: int, workers: int) -> subprocess.Popen[bytes]:
        proc = self.start(
            name,
            str(BIN / "gunicorn"),
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        )
        wait_for(f"gunicorn {app}", lambda: port_open(port) and len(children(proc.pid)) >= workers)
        time.sleep(1.0)  # the workers import the app after they fork
        return proc

    def celery_worker(self, name: str, queues: str = "celery", concurrency: int = 1) -> subprocess.Popen[bytes]:
        return self.start(
            name,
            str(BIN / "celery"),
            "-A",
            "outagehub",
            "worker",
            "--loglevel",
            "WARNING",
            "--concurrency",
            str(concurrency),
            "--pool",
            "prefork",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"{name}@%h",
            "--queues",
            queues,
        )

    def celery_beat(self, name: str = "beat") -> subprocess.Popen[bytes]:
        schedule = self.logs / f"{name}-schedule"
        return self.start(
            name, str(BIN / "celery"), "-A", "outagehub", "beat", "--loglevel", "WARNING", "-s", str(schedule)
        )


class Redis:
    """A redis-server of the benchmark's own, persisting to an append-only file as README documents."""

    def __init__(self, port: int, data: Path, fsync: str = "everysec") -> None:
        self.port, self.data, self.fsync = port, data, fsync
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("bench: redis-server not found (apt-get install redis-server)")
        self.data.mkdir(parents=True, exist_ok=True)
        argv = [server, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.data), "--save", ""]
        argv += ["--appendonly", "yes", "--appendfsync", self.fsync, "--maxmemory-policy", "noeviction"]
        log = (self.data / "redis.log").open("ab")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603
        wait_for("redis-server", lambda: port_open(self.port))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: Redis flushes its append-only file and exits
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
