"""A tiny HTTP server of status page fixtures: the demo's official pages, on loopback, offline.

    python -m statuspages.demo.server --port 8190

Serves every kind the poller reads (catalog/demo.yaml points its services here) with times
relative to when the server started, so the incidents look current. It answers conditional GETs
(ETag / Last-Modified -> 304) like the real ones. Tests reuse ``FixtureServer`` with their own routes.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import email.utils
import errno
import hashlib
import re
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DEFAULT_PORT = 8190
_TOKEN = re.compile(r"\{\{(?:(epoch|rfc822):)?t([+-]\d+[smhd])?\}\}")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def render(template: str, anchor: dt.datetime) -> str:
    """Fill `{{t-25m}}` (ISO 8601), `{{epoch:t-25m}}` (Unix seconds), `{{rfc822:t-25m}}` relative to `anchor`."""

    def fill(match: re.Match[str]) -> str:
        style, offset = match.groups()
        at = anchor
        if offset:
            at += int(offset[:-1]) * dt.timedelta(**{_UNITS[offset[-1]]: 1})
        if style == "epoch":
            return str(int(at.timestamp()))
        if style == "rfc822":
            return email.utils.format_datetime(at, usegmt=True)
        return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    return _TOKEN.sub(fill, template)


def fixture(name: str, anchor: dt.datetime, encoding: str = "utf-8") -> bytes:
    """A fixture file rendered at `anchor`, encoded (`utf-16` writes a BOM, as AWS does)."""
    return render((FIXTURES / name).read_text(encoding="utf-8"), anchor).encode(encoding)


@dataclass
class Route:
    """What one path answers. `body` may be a callable, called per request."""

    body: bytes | Callable[[], bytes] = b""
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True  # send ETag / Last-Modified and answer 304 when they match
    drip: float = 0.0  # seconds between single bytes of the body (a trickling server)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FixtureServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold the body back 40 ms on every request.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self.server.requests.append((self.path, dict(self.headers)))
        route = self.server.routes.get(self.path.split("?")[0])
        if route is None:
            self._send(404, b'{"error": "not found"}', {"Content-Type": "application/json"})
            return
        body = route.body() if callable(route.body) else route.body
        headers = {"Content-Type": route.content_type, **route.headers}
        if route.conditional and route.status == 200:
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
            headers |= {"ETag": etag, "Last-Modified": email.utils.format_datetime(self.server.started, usegmt=True)}
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", {k: v for k, v in headers.items() if k != "Content-Type"})
                return
        self._send(route.status, body, headers, drip=route.drip)

    def _send(self, status: int, body: bytes, headers: dict[str, str], drip: float = 0.0) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not drip:
                self.wfile.write(body)
                return
            for i in range(len(body)):
                if self.server.closing.wait(drip):
                    return
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client gave up: what timeouts do


class FixtureServer(ThreadingHTTPServer):
    """Threaded HTTP server; `routes` maps a path to a Route; `requests` lists (path, headers) received."""

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.closing = threading.Event()
        self.started = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self._thread: threading.Thread | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> FixtureServer:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.shutdown()
        self.server_close()


def demo_routes(anchor: dt.datetime) -> dict[str, Route]:
    """The demo catalog's pages, one service per kind (and incident.io's fallback)."""
    json_ = "application/json"
    return {
        "/tiktok-shop/api/v2/summary.json": Route(fixture("atlassian_incident.json", anchor)),
        "/stripe/api/v2/summary.json": Route(fixture("atlassian_ok.json", anchor)),
        "/shopify/api/v1/summary": Route(fixture("incidentio.json", anchor)),
        # Walmart's widget endpoint is gone: the poller falls back to the Statuspage-compatible summary.
        "/walmart/api/v1/summary": Route(b'{"error": "not found"}', status=404, conditional=False),
        "/walmart/api/v2/summary.json": Route(fixture("atlassian_ok.json", anchor).replace(b"Stripe", b"Walmart")),
        "/paypal/summary.json": Route(fixture("instatus.json", anchor)),
        "/doordash/index.json": Route(fixture("betterstack.json", anchor), content_type="application/vnd.api+json"),
        "/etsy/incidents.json": Route(fixture("gcp.json", anchor)),
        # AWS serves UTF-16 with a byte-order mark and no charset.
        "/amazon/public/currentevents": Route(fixture("aws.json", anchor, "utf-16"), content_type=json_),
        "/instagram/history.atom": Route(fixture("feed.atom", anchor), content_type="application/atom+xml"),
        "/temu/history.rss": Route(fixture("feed_open.rss", anchor), content_type="application/rss+xml"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    try:
        server = FixtureServer(args.host, args.port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        # Another demo already serves the same fixtures there: use those.
        print(f"status page fixtures: {args.host}:{args.port} is in use; assuming another demo serves them")
        return 0
    server.routes = demo_routes(server.started)
    print(f"status page fixtures on http://{args.host}:{server.port}/ ({len(server.routes)} pages)")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
