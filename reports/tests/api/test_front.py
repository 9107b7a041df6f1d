"""The intake front (reports/api/front.py) on real PostgreSQL and Redis, driven as gunicorn drives it: WSGI.

It must answer a plain report exactly as Django would (status, body, every header), hand
everything else to Django with the body still readable, and hold the rate limits atomically
and in the same log as the long way.
"""

from __future__ import annotations

import io
import json
import sys
import threading
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections

from catalog.tests.factories import make_service
from outagehub.metrics import REPORTS
from reports.api import front
from reports.api.front import ReportFront
from reports.intake import writebehind
from reports.intake.services import catalog_cache_clear
from reports.models import Report

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/api/v1/services/tiktok-shop/reports/"


@pytest.fixture(autouse=True)
def write_behind(postgres, redis_url, settings):
    settings.OUTAGEHUB_INTAKE_WRITE_BEHIND = True
    settings.OUTAGEHUB_INTAKE_REDIS_URL = redis_url
    settings.OUTAGEHUB_TRUSTED_PROXIES = ["127.0.0.1/32"]
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "1000/min"
    settings.OUTAGEHUB_NETWORK_REPORT_RATE_LIMIT = "1000/min"
    r = writebehind.client()
    r.delete(writebehind.STREAM)
    for key in r.scan_iter(f"{writebehind.KEY_PREFIX}*"):
        r.delete(key)
    catalog_cache_clear()
    front._headers.clear()
    front._hygiene.next = 0  # a test that set it leaves no state behind
    make_service()
    yield r
    r.delete(writebehind.STREAM)
    catalog_cache_clear()
    front._headers.clear()


class Spy:
    """Django's WSGI handler, noting each request it is handed."""

    def __init__(self) -> None:
        self.django = WSGIHandler()
        self.seen: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.seen.append(environ["PATH_INFO"])
        return self.django(environ, start_response)


@pytest.fixture
def apps():
    return make_apps()


def make_apps() -> tuple[ReportFront, Spy]:
    """The front and the Django behind it, built now: middlewares read some settings when built."""
    spy = Spy()
    return ReportFront(spy), spy


def call(
    app: Any,
    body: bytes | object = None,
    *,
    client: str = "81.2.69.142",
    path: str = PATH,
    query: str = "",
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    host: str = "testserver",
) -> tuple[int, dict[str, str], bytes]:
    """One request through a WSGI app, as gunicorn would make it behind a proxy on loopback."""
    data = body if isinstance(body, bytes) else json.dumps({"issue_type": "payment"} if body is None else body).encode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(data)),
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_X_FORWARDED_FOR": client,
        "HTTP_USER_AGENT": "Mozilla/5.0 (test)",
        "wsgi.input": io.BytesIO(data),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        **(headers or {}),
    }
    answer: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer["status"], answer["headers"] = int(status.split()[0]), dict(response_headers)

    chunks = app(environ, start_response)
    content = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    return answer["status"], answer["headers"], content


def without_length(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "Content-Length"}


@pytest.mark.parametrize("https", [False, True])
def test_a_plain_report_is_answered_by_the_front_with_djangos_own_headers(settings, https):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    app, django = make_apps()
    proto = {"HTTP_X_FORWARDED_PROTO": "https" if https else "http"}
    status, headers, body = call(app, client="81.2.69.142", headers=proto)
    assert (status, django.seen) == (201, [])  # Django never saw it
    # The same request the long way (a query string sends it there) from another client.
    long_status, long_headers, long_body = call(app, client="8.8.4.4", query="source=test", headers=proto)
    assert long_status == 201 and django.seen == [PATH]
    assert without_length(headers) == without_length(long_headers)
    assert ("Strict-Transport-Security" in headers) is https
    assert int(headers["Content-Length"]) == len(body)
    answer, long_answer = json.loads(body), json.loads(long_body)
    assert answer.keys() == long_answer.keys()
    assert answer["counted"] is True and answer["service"] == "tiktok-shop" and answer["issue_type"] == "payment"
    writebehind.reports_drain()
    stored = Report.objects.get(pk=answer["id"])
    assert (stored.counted, stored.issue_type.key, stored.country) == (True, "payment", "GB")
    assert answer["created_at"] == stored.created_at.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("kwargs", "status", "field"),
    [
        ({"body": {"issue_type": "teleport"}}, 400, "issue_type"),
        ({"body": {"issue_type": "payment", "country": "Narnia"}}, 400, "country"),
        ({"body": b'{"issue_type": "payment"'}, 400, None),
        ({"body": {"issue_type": "payment"}, "content_type": "text/plain"}, 415, None),
        ({"path": "/api/v1/services/no-such-service/reports/"}, 404, "service"),
        ({"host": "evil.example"}, 400, None),
    ],
)
def test_anything_else_is_handed_to_django_with_its_body_still_readable(apps, settings, kwargs, status, field):
    settings.ALLOWED_HOSTS = ["testserver"]
    app, django = apps
    code, _, body = call(app, **kwargs)
    assert code == status
    assert django.seen  # Django answered it
    if field is not None:  # Django read the body the front had read: the error names the field
        assert field in json.loads(body)["errors"]
    writebehind.reports_drain()
    assert Report.objects.count() == 0


def test_a_report_the_front_tried_and_left_to_django_is_not_tried_again_by_the_view(apps, monkeypatch):
    from reports.api import fastpath

    tried = []
    take = fastpath.report_take_answer

    def counted_take(*args: Any, **kwargs: Any) -> Any:
        tried.append(args)
        return take(*args, **kwargs)

    monkeypatch.setattr(front, "report_take_answer", counted_take)
    monkeypatch.setattr(fastpath, "report_take_answer", counted_take)
    app, django = apps
    assert call(app, {"issue_type": "teleport"})[0] == 400  # DRF names the field
    assert len(tried) == 1 and django.seen == [PATH]


def test_the_rate_limit_is_one_log_for_the_front_and_the_long_way(apps, settings):
    app, django = apps
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "3/min"
    codes = [call(app)[0], call(app, query="via=django")[0], call(app)[0]]
    assert codes == [201, 201, 201] and len(django.seen) == 1
    status, headers, body = call(app)
    assert status == 429 and int(headers["Retry-After"]) >= 1
    assert json.loads(body)["code"] == "throttled"
    assert call(app, query="via=django")[0] == 429  # the long way sees the same full log
    writebehind.reports_drain()
    assert Report.objects.count() == 3


def test_parallel_reports_from_one_address_get_exactly_the_limit_through(apps, settings):
    app, _ = apps
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "10/min"
    codes: list[int] = []
    lock = threading.Lock()

    def one() -> None:
        try:
            status = call(app)[0]
            with lock:
                codes.append(status)
        finally:
            connections.close_all()  # this thread's own connection, if it reserved ids

    threads = [threading.Thread(target=one) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201] * 10 + [429] * 30
    writebehind.reports_drain()
    assert Report.objects.count() == 10


def test_a_network_limit_refuses_a_neighbour_through_the_front(apps, settings):
    app, _ = apps
    settings.OUTAGEHUB_NETWORK_REPORT_RATE_LIMIT = "2/min"
    codes = [call(app, client=f"81.2.69.{n}")[0] for n in (10, 11, 12)]
    assert codes == [201, 201, 429]
    assert call(app, client="81.2.70.10")[0] == 201  # another /24


def test_with_redis_down_the_front_stores_the_report_at_once(apps, settings):
    app, _ = apps
    settings.OUTAGEHUB_INTAKE_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    status, _, body = call(app)
    assert status == 201
    stored = Report.objects.get(pk=json.loads(body)["id"])  # in PostgreSQL before the answer
    assert stored.counted is True


def test_a_report_through_the_front_is_counted_in_the_metrics(apps):
    app, _ = apps
    accepted = REPORTS.labels(channel="api", outcome="accepted", reason="")
    before = accepted._value.get()
    assert call(app)[0] == 201
    assert accepted._value.get() == before + 1


def test_without_write_behind_every_request_goes_to_django(apps, settings):
    app, django = apps
    settings.OUTAGEHUB_INTAKE_WRITE_BEHIND = False
    assert call(app)[0] == 201
    assert django.seen == [PATH]


def test_a_host_the_front_has_let_through_is_refused_once_the_allowed_hosts_change(apps, settings):
    # The front decides Host and scheme once per set of those headers; a changed setting forgets it.
    settings.ALLOWED_HOSTS = ["testserver", "old.example"]
    app, django = apps
    assert call(app, host="old.example")[0] == 201 and django.seen == []
    settings.ALLOWED_HOSTS = ["testserver"]
    assert call(app, host="old.example")[0] == 400
    assert django.seen == [PATH]


def test_plain_http_is_left_to_the_ssl_redirect_and_https_is_answered(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    app, django = make_apps()
    assert call(app, headers={"HTTP_X_FORWARDED_PROTO": "https"})[0] == 201 and django.seen == []
    status, headers, _ = call(app, headers={"HTTP_X_FORWARDED_PROTO": "http"})
    assert status == 301 and headers["Location"].startswith("https://")
    assert django.seen == [PATH]


def test_the_front_closes_a_connection_past_its_age_once_its_hygiene_is_due(apps):
    from django.db import connection

    app, _ = apps
    assert call(app)[0] == 201
    connection.ensure_connection()
    stale = connection.connection
    connection.close_at = 0  # past CONN_MAX_AGE
    front._hygiene.next = float("inf")  # checked a moment ago
    assert call(app)[0] == 201
    assert connection.connection is stale  # not every report: see HYGIENE_SECONDS
    front._hygiene.next = 0  # a second later
    assert call(app)[0] == 201
    assert connection.connection is not stale
