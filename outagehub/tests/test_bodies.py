"""Chunked request bodies over a real gunicorn, sent byte by byte on a raw socket."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from outagehub.tests.servers import Gunicorn

URL = "/api/v1/services/tiktok-shop/reports/"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Gunicorn]:
    gunicorn = Gunicorn(tmp_path_factory.mktemp("gunicorn"), workers=1, threads=2, OUTAGEHUB_MAX_BODY_BYTES="4096")
    gunicorn.start()
    yield gunicorn
    gunicorn.stop()


def chunked(body: bytes, size: int) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def send_raw(server: Gunicorn, head: str, body: bytes) -> tuple[int, dict]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head.encode() + body)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    payload = answer.split(b"\r\n\r\n", 1)[1]
    return status, json.loads(payload) if payload.startswith(b"{") else {"raw": payload.decode()}


def head(content_type: str = "application/json") -> str:
    return (
        f"POST {URL} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\nX-Forwarded-For: 81.2.69.142\r\n\r\n"
    )


@pytest.mark.parametrize("chunk_size", [1, 7, 4096])
def test_a_chunked_report_without_content_length_is_read_whole(server, chunk_size):
    body = json.dumps({"issue_type": "server", "comment": f"sent in chunks of {chunk_size}"}).encode()
    status, answer = send_raw(server, head(), chunked(body, chunk_size))
    assert status == 201, answer
    assert answer["issue_type"] == "server"
    stored = server.query("SELECT count(*) FROM reports_report WHERE comment = ?", f"sent in chunks of {chunk_size}")
    assert stored == [(1,)]


def test_a_chunked_body_over_the_size_limit_is_a_413_naming_the_limit(server):
    body = json.dumps({"issue_type": "server", "comment": "x" * 5000}).encode()
    status, answer = send_raw(server, head(), chunked(body, 1000))
    assert status == 413
    assert answer["code"] == "too_large"
    assert "4096 bytes" in answer["errors"]["body"][0]


def test_a_chunked_malformed_body_is_a_400_not_an_empty_report(server):
    status, answer = send_raw(server, head(), chunked(b'{"issue_type": "serv', 5))
    assert status == 400
    assert "JSON parse error" in answer["errors"]["body"][0]
