"""The report rate limiter: what counts against it, and on a real Redis, what happens when that Redis dies."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from django.test import Client

from catalog.tests.factories import make_service
from conftest import require
from outagehub import breaker
from reports.models import Report

pytestmark = pytest.mark.django_db

URL = "/api/v1/services/tiktok-shop/reports/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A throwaway redis-server on its own port (never the machine's)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)  # waiting for a process to listen, not for time to pass
        raise RuntimeError("redis-server did not start")

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def unread_bytes(self) -> int:
        """Bytes clients sent that the (paused) server has not read: grows with every attempt to use it.

        Summed over the kernel's sockets on the server's port (/proc/net/tcp), connections
        waiting to be accepted and connections closed by a timed-out client included.
        """
        port = f":{self.port:04X}"
        total = 0
        with open("/proc/net/tcp") as table:
            for line in list(table)[1:]:
                fields = line.split()
                if fields[1].endswith(port) and fields[3] != "0A":  # 0A: the listening socket itself
                    total += int(fields[4].split(":")[1], 16)
        return total

    def stop(self) -> None:
        if self.process:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def own_redis(settings) -> Iterator[RedisServer]:
    require(shutil.which("redis-server") is not None, "redis-server")
    server = RedisServer(free_port())
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{server.port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    yield server
    server.stop()


def post(client: Client) -> int:
    body = json.dumps({"issue_type": "payment"})
    return client.post(URL, data=body, content_type="application/json").status_code


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    fake = FakeClock()
    breaker.CACHE.clock = fake
    return fake


def test_rate_limit_holds_in_redis_and_fails_open_when_redis_dies(own_redis, settings, clock):
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "2/min"
    make_service()
    client = Client(REMOTE_ADDR="81.2.69.142")
    assert [post(client), post(client), post(client)] == [201, 201, 429]

    own_redis.stop()
    # Redis is gone: reports are still taken, never a 500, never lost.
    assert [post(client), post(client)] == [201, 201]
    assert Report.objects.count() == 4

    own_redis.start()  # a fresh, empty Redis: limiting resumes once the breaker lets the cache be tried again
    clock.advance(breaker.CACHE.cooldown)
    assert [post(client), post(client), post(client)] == [201, 201, 429]


def test_a_hung_redis_costs_one_timeout_then_is_skipped_until_the_cooldown(own_redis, settings, clock, caplog):
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "2/min"
    make_service()
    client = Client(REMOTE_ADDR="81.2.69.142")
    assert [post(client), post(client), post(client)] == [201, 201, 429]
    own_redis.pause()  # accepts connections, answers nothing: every call waits for the socket timeout
    try:
        assert post(client) == 201  # fails open after one timeout...
        assert caplog.text.count("cache unavailable (TimeoutError)") == 1
        sent = own_redis.unread_bytes()
        assert sent > 0  # the attempt that timed out is waiting in the kernel
        assert [post(client) for _ in range(5)] == [201] * 5  # ...then does not wait on Redis again
        assert own_redis.unread_bytes() == sent
    finally:
        own_redis.resume()
    clock.advance(breaker.CACHE.cooldown)  # the cooldown over, the cache is tried (and limits) again
    assert post(client) == 429


def test_rate_limit_key_in_redis_holds_no_address(own_redis, settings):
    import redis

    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "5/min"
    make_service()
    post(Client(REMOTE_ADDR="81.2.69.142"))
    keys = redis.Redis(port=own_redis.port).keys("*")
    assert keys, "the limiter wrote nothing to Redis"
    assert not any(b"81.2.69.142" in k for k in keys)


def test_rate_limit_uses_the_configured_redis(redis_url, settings):
    """In CI, the machine's Redis (REDIS_URL) backs the cache."""
    assert settings.CACHES["default"]["BACKEND"] == "outagehub.cache.PrefixedRedisCache"  # Django's RedisCache
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "1/min"
    make_service()
    client = Client(REMOTE_ADDR="81.2.69.142")
    assert [post(client), post(client)] == [201, 429]


def send(client: Client, method: str, body: object = None) -> int:
    data = json.dumps({"issue_type": "payment"} if body is None else body)
    return getattr(client, method)(URL, data=data, content_type="application/json").status_code


def test_a_wrong_method_is_a_405_even_over_the_report_limit(settings):
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "1/min"
    make_service()
    client = Client(REMOTE_ADDR="81.2.69.142")
    assert [send(client, "post"), send(client, "post")] == [201, 429]
    assert [send(client, "put"), send(client, "patch"), send(client, "delete")] == [405, 405, 405]


@pytest.mark.parametrize(
    "body",
    [{"issue_type": "login"}, {"issue_type": "payment", "country": "XX"}, {"bogus": 1}, [1, 2]],
)
def test_refused_reports_do_not_use_up_the_limit(settings, body):
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "2/min"
    make_service()
    client = Client(REMOTE_ADDR="81.2.69.142")
    assert [send(client, "post", body) for _ in range(5)] == [400] * 5
    assert [send(client, "put") for _ in range(3)] == [405] * 3
    assert [send(client, "post"), send(client, "post"), send(client, "post")] == [201, 201, 429]


def test_an_unknown_service_does_not_use_up_the_limit(settings):
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "1/min"
    make_service()
    client = Client(REMOTE_ADDR="81.2.69.142")
    body = json.dumps({"issue_type": "payment"})
    elsewhere = "/api/v1/services/nope/reports/"
    assert [client.post(elsewhere, data=body, content_type="application/json").status_code for _ in range(3)] == [
        404
    ] * 3
    assert [send(client, "post"), send(client, "post")] == [201, 429]


def test_an_invalid_web_form_does_not_use_up_the_limit(settings):
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "1/min"
    make_service()
    visitor = Client(REMOTE_ADDR="81.2.69.142", HTTP_USER_AGENT="Firefox")
    submit = "/s/tiktok-shop/report/"
    assert [visitor.post(submit, {"issue_type": "login"}).status_code for _ in range(3)] == [400] * 3
    assert visitor.post(submit, {"issue_type": "payment", "comment": "x" * 600}).status_code == 400
    assert visitor.post(submit, {"issue_type": "payment"}).status_code == 302
    assert visitor.post(submit, {"issue_type": "payment"}).status_code == 429
    assert send(Client(REMOTE_ADDR="81.2.69.142"), "post") == 429  # one limit for the form and the API
