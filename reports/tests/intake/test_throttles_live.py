"""The report limiter under real concurrency: parallel requests to a live gunicorn (2 workers x 8 threads).

Run on both limiter backends: the embedded default (the log in the server's SQLite database)
and Redis (REDIS_URL; skipped locally without it, required in CI).
"""

from __future__ import annotations

import json
import os
import random
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import require
from outagehub.tests.servers import Gunicorn

URL = "/api/v1/services/tiktok-shop/reports/"


@pytest.fixture(scope="module", params=["embedded", "redis"])
def server(request, tmp_path_factory) -> Iterator[Gunicorn]:
    redis_url = ""
    if request.param == "redis":
        redis_url = os.environ.get("REDIS_URL", "")
        require(bool(redis_url), "REDIS_URL")
    gunicorn = Gunicorn(
        tmp_path_factory.mktemp(f"gunicorn-{request.param}"),
        redis_url=redis_url,
        OUTAGEHUB_REPORT_RATE_LIMIT="10/min",
        OUTAGEHUB_NETWORK_REPORT_RATE_LIMIT="20/min",
    )
    gunicorn.start()
    yield gunicorn
    gunicorn.stop()


def post(server: Gunicorn, client: str, comment: str) -> tuple[int, str | None]:
    body = json.dumps({"issue_type": "payment", "comment": comment}).encode()
    headers = {"Content-Type": "application/json", "X-Forwarded-For": client, "User-Agent": f"agent {client}"}
    request = urllib.request.Request(server.url + URL, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Retry-After")


def in_parallel(server: Gunicorn, clients: list[str], comment: str) -> list[tuple[int, str | None]]:
    """Every request released at once (a barrier), each on its own connection."""
    start = threading.Barrier(len(clients))

    def one(client: str) -> tuple[int, str | None]:
        start.wait()
        return post(server, client, comment)

    with ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(one, clients))


def a_network() -> str:
    """A random public /24 (as "a.b.c"), new for each test so runs on one Redis do not meet."""
    return f"{random.choice([81, 82, 85, 91, 93])}.{random.randrange(256)}.{random.randrange(256)}"


def test_sixty_parallel_reports_from_one_address_let_exactly_the_limit_through(server):
    client = f"{a_network()}.7"
    answers = in_parallel(server, [client] * 60, comment="one address")
    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 10, 429: 50}
    assert all(1 <= int(retry) <= 60 for status, retry in answers if status == 429), answers
    stored = server.query("SELECT count(*) FROM reports_report WHERE comment = ?", "one address")
    assert stored == [(10,)]


def test_many_addresses_of_one_network_are_limited_together_and_flagged(server):
    network = a_network()
    clients = [f"{network}.{host}" for host in range(1, 61)]  # 60 addresses, one each
    statuses = Counter(status for status, _ in in_parallel(server, clients, comment="one network"))
    assert statuses == {201: 20, 429: 40}  # OUTAGEHUB_NETWORK_REPORT_RATE_LIMIT
    rows = server.query(
        "SELECT counted, network_flagged, count(*) FROM reports_report WHERE comment = ? GROUP BY 1, 2", "one network"
    )
    # OUTAGEHUB_REPORTERS_PER_NETWORK (3) count; the other 17 are stored, flagged, not counted.
    assert sorted(rows) == [(0, 1, 17), (1, 0, 3)]


def test_a_flooding_address_does_not_lock_out_its_neighbours_elsewhere(server):
    flooder = f"{a_network()}.9"
    in_parallel(server, [flooder] * 30, comment="flood")
    assert post(server, flooder, "flood")[0] == 429
    assert post(server, f"{a_network()}.10", "someone else")[0] == 201
