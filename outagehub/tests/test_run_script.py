"""`make run` (scripts/run) stops every process it started when its process group is signalled.

A Celery worker was once found running 40 minutes after `make run` had been stopped. The test
starts scripts/run as make would (a process group of its own, the embedded default in a temporary
data dir, a free port) with a probe whose target accepts connections and never answers, so the
worker is mid-task (a warm shutdown would wait out the check's 100 s timeout); signals the whole
group; and then looks for any process still carrying that data dir in its environment: there
must be none within a few seconds.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from outagehub.tests.test_topology import REPO, STARTUP_SECONDS, _free_port, _production_env, _tail

pytestmark = pytest.mark.topology

# scripts/run gives a warm Celery shutdown 10 s before it kills what is left; a little more here.
STOP_SECONDS = 15
# argv[1:] run with SIGINT at its default disposition (exec keeps a default, and an ignored one).
RESET_SIGINT_THEN_EXEC = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])"
)


def _alive_with(marker: bytes) -> list[str]:
    """Command lines of the live (not zombie) processes whose environment holds `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if marker in environ.split(b"\0") and state != "Z":
            found.append(f"{entry.name}: {command}")
    return found


class SilentServer:
    """A TCP server on loopback that accepts connections and never says a word."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                self.accepted.append(self.sock.accept()[0])
            except OSError:  # closed
                return

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_process_group_of_make_run_stops_every_process(tmp_path, signum):
    port = _free_port()
    env = _production_env(tmp_path)
    data_dir = env["OUTAGEHUB_DATA_DIR"]
    # The development settings `make run` uses, without the demo backfill (it only slows the start).
    silent = SilentServer()
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "services:\n  - slug: silent\n    name: Silent\n    homepage: https://silent.example\n"
        f"    probes:\n      - {{name: hangs, kind: http, target: 'http://127.0.0.1:{silent.port}/', "
        "interval: 10, timeout: 100}\n"
    )
    env.update(DEBUG="1", OUTAGEHUB_SIMULATOR="0", OUTAGEHUB_PORT=str(port), OUTAGEHUB_CATALOG=str(catalog))
    marker = f"OUTAGEHUB_DATA_DIR={data_dir}".encode()
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        # As make runs it from a terminal: a process group of its own, which the signal then goes
        # to, and SIGINT at its default. Whatever started these tests in the background without job
        # control (a CI runner, `cmd &` in a script) handed them SIGINT ignored, and a shell cannot
        # trap a signal that was ignored when it started: so reset it, then exec bash.
        run = subprocess.Popen(
            [sys.executable, "-c", RESET_SIGINT_THEN_EXEC, "bash", str(REPO / "scripts" / "run")],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        # bash, the worker and its two pool processes, beat, runserver: wait for all of them.
        # The worker is checking the probe once the silent server has a connection.
        # And the script itself waiting on them (its banner printed), not still starting them.
        while not (
            _answers(port) and silent.accepted and len(_alive_with(marker)) >= 6 and b"Ctrl-C" in log.read_bytes()
        ):
            assert run.poll() is None, f"scripts/run exited early\n{_tail(log)}"
            assert time.monotonic() < deadline, f"scripts/run did not start\n{_tail(log)}"
            time.sleep(0.25)  # polling interval, not a wait for time to pass
        started = _alive_with(marker)

        os.killpg(run.pid, signum)

        deadline = time.monotonic() + STOP_SECONDS
        while _alive_with(marker) and time.monotonic() < deadline:
            time.sleep(0.1)  # polling interval
        left = _alive_with(marker)
        assert left == [], f"still running {STOP_SECONDS} s after the signal: {left}\nstarted: {started}\n{_tail(log)}"
        assert run.wait(timeout=5) != 0
    finally:
        silent.close()
        for line in _alive_with(marker):
            os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)
