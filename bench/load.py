"""Load on loopback: wrk for intake (bounded by duration), a sequential client for read latencies."""

from __future__ import annotations

import http.client
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "report.lua"
INTAKE_PATH = "/api/v1/services/{slug}/reports/"


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def accepted(self) -> int:
        return self.requests - self.non_2xx

    @classmethod
    def total(cls, runs: list[WrkResult]) -> WrkResult:
        """Several runs as one: their requests over their seconds, their errors added up."""
        return cls(
            requests=sum(r.requests for r in runs),
            seconds=sum(r.seconds for r in runs),
            non_2xx=sum(r.non_2xx for r in runs),
            socket_errors=sum(r.socket_errors for r in runs),
        )


# wrk's connections: also how many requests a run may leave in flight (stored, never seen answered).
CONNECTIONS = 16


def wrk(
    port: int,
    *,
    seconds: float,
    slug: str,
    connections: int = CONNECTIONS,
    threads: int = 2,
    rate: float = 0,
    tag: int = 0,
) -> WrkResult:
    """POST reports at 127.0.0.1:`port` for `seconds`, from fresh client addresses.

    `rate` > 0 paces the load to about that many requests per second (wrk's delay()); 0: flat out.
    `tag` selects a disjoint address range, so runs in one benchmark never share a client.
    """
    if shutil.which("wrk") is None:
        raise RuntimeError("bench: wrk not found (apt-get install wrk)")
    delay = connections * 1000.0 / rate if rate > 0 else 0
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    argv += ["-s", str(LUA), f"http://127.0.0.1:{port}{INTAKE_PATH.format(slug=slug)}"]
    argv += ["--", INTAKE_PATH.format(slug=slug), f"{delay:.3f}", str(tag)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout  # noqa: S603
    return parse_wrk(out)


def parse_wrk(out: str) -> WrkResult:
    """What wrk printed: requests, duration, non-2xx answers and socket errors."""
    # wrk writes the duration with its own unit: "812.5ms", "20.01s", "10.00m" (a 10-minute soak).
    done = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m|h)\b", out)
    if done is None:
        raise RuntimeError(f"bench: cannot read wrk's output:\n{out}")
    took = float(done.group(2)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[done.group(3)]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        requests=int(done.group(1)),
        seconds=took,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in sock.groups()) if sock else 0,
    )


def p95_ms(port: int, path: str, *, count: int, address_base: int = 0) -> float:
    """95th percentile latency of `count` sequential GETs of `path`, each from its own client address."""
    times = []
    for i in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = address_base + i
        headers = {"X-Forwarded-For": f"93.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}", "Host": "127.0.0.1"}
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        times.append((time.perf_counter() - started) * 1000)
        conn.close()
        if response.status != 200:
            raise RuntimeError(f"bench: GET {path} answered {response.status}")
    return statistics.quantiles(times, n=20)[18]


def warm(port: int, *, slug: str, seconds: float = 60.0) -> int:
    """Post reports one at a time until 20 in a row answer fast (every worker has loaded the app); how many.

    gunicorn's workers import most of Django on their first request, which on a busy machine
    takes seconds; a measurement must not include it.
    """
    deadline = time.monotonic() + seconds
    fast, n = 0, 0
    while fast < 20 and time.monotonic() < deadline:
        n += 1
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json", "X-Forwarded-For": f"94.0.{n // 256 % 256}.{n % 256}"}
        started = time.perf_counter()
        conn.request("POST", INTAKE_PATH.format(slug=slug), body=b'{"issue_type": "server"}', headers=headers)
        conn.getresponse().read()
        conn.close()
        fast = fast + 1 if time.perf_counter() - started < 0.25 else 0
    return n
