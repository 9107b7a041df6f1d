"""Real servers on 127.0.0.1 for probe tests: HTTP(S), a bare TCP listener, a DNS stub, and a test CA.

Each binds a free port and runs in daemon threads; use them as context managers::

    with HttpStub() as web:
        web.replies["/health"] = Reply.json({"status": "ok"})
        run_check("http", web.url("/health"), {}, timeout=1, allow_private=True)

Nothing here sleeps to control time: a configured ``delay`` is the server being slow on purpose,
and hanging handlers wait on an event that closing the server sets.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CHUNK = 64 * 1024


# --- HTTP --------------------------------------------------------------------------------------


@dataclass
class Reply:
    """What the HTTP stub answers on one path."""

    status: int = 200
    body: bytes = b"OK"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    stream_bytes: int = 0  # if set, the body is this many b"x", written lazily in 64 KiB chunks
    chunk_delay: float = 0.0  # seconds to wait before each streamed chunk (a trickling server)
    hang: bool = False  # read the request, then never answer (until the stub closes)

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Reply:
        return cls(status, json.dumps(data).encode(), {"Content-Type": "application/json"})

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Reply:
        return cls(status, b"", {"Location": location})


@dataclass
class Seen:
    """One request the stub received, and how many body bytes it managed to send back."""

    method: str
    path: str
    headers: dict[str, str]
    sent: int = 0
    done: threading.Event = field(default_factory=threading.Event)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def _serve(self) -> None:
        stub = self.server.stub
        seen = Seen(self.command, self.path, dict(self.headers))
        stub.seen.append(seen)
        try:
            self._answer(stub, stub.replies.get(self.path.split("?")[0], stub.default), seen)
        except OSError:
            self.close_connection = True  # the client went away: normal for limits and timeouts
        finally:
            seen.done.set()

    def _answer(self, stub: HttpStub, reply: Reply, seen: Seen) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if reply.hang or (reply.delay and stub.closing.wait(reply.delay)):
            stub.closing.wait()
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(reply.stream_bytes or len(reply.body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if not reply.stream_bytes:
            self.wfile.write(reply.body)
            seen.sent = len(reply.body)
            return
        chunk = b"x" * CHUNK
        while seen.sent < reply.stream_bytes:
            if reply.chunk_delay and stub.closing.wait(reply.chunk_delay):
                return
            piece = chunk[: reply.stream_bytes - seen.sent]
            self.wfile.write(piece)
            seen.sent += len(piece)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    stub: HttpStub

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # failed TLS handshakes and resets are what several tests provoke


class HttpStub:
    """Threaded HTTP server on 127.0.0.1; with ``tls`` (a server SSLContext) it speaks HTTPS.

    ``replies`` maps a path to a Reply; other paths get ``default`` (200 "OK"). ``seen`` lists
    the requests in arrival order; ``sni`` the server names TLS clients asked for.
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.replies: dict[str, Reply] = {}
        self.default = Reply()
        self.seen: list[Seen] = []
        self.sni: list[str | None] = []
        self.closing = threading.Event()
        self.scheme = "https" if tls else "http"
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.stub = self
        if tls is not None:
            tls.sni_callback = lambda _sslobj, name, _ctx: self.sni.append(name)
            # Handshake in the handler thread, on first read: a client that never completes one
            # must not block the accept loop.
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True, do_handshake_on_connect=False)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def __enter__(self) -> HttpStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()


# --- TCP ---------------------------------------------------------------------------------------


@contextmanager
def tcp_listener() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections (the kernel completes them) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening: connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- DNS ---------------------------------------------------------------------------------------

Answers = list[str] | Callable[[int], list[str]]


class DnsStub:
    """Authoritative-looking UDP DNS server on 127.0.0.1.

    ``records`` maps (name, type) to answers in zone-file text ("192.0.2.1", "10 mail.test.",
    '"v=spf1 -all"'), or to a function of how many times that (name, type) was asked before
    (to change the answer between queries, as in DNS rebinding). A known name asked for another
    type gets an empty answer; an unknown name NXDOMAIN. With ``drop`` set nothing is answered.
    """

    def __init__(self, records: dict[tuple[str, str], Answers] | None = None) -> None:
        self.records = {(_fqdn(name), rdtype.upper()): answers for (name, rdtype), answers in (records or {}).items()}
        self.queries: list[tuple[str, str]] = []
        self.drop = False
        self._stopping = False
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def nameserver(self) -> str:
        """The stub as a nameservers entry, "127.0.0.1:port"."""
        return f"127.0.0.1:{self._sock.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            data, peer = self._sock.recvfrom(4096)
            if self._stopping:
                return
            if not self.drop:
                self._sock.sendto(self._answer(dns.message.from_wire(data)).to_wire(), peer)

    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        question = query.question[0]
        name, rdtype = question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype)
        asked_before = self.queries.count((name, rdtype))
        self.queries.append((name, rdtype))
        response = dns.message.make_response(query)
        answers = self.records.get((name, rdtype))
        if answers is None:
            if all(known != name for known, _ in self.records):
                response.set_rcode(dns.rcode.NXDOMAIN)
            return response
        texts = answers(asked_before) if callable(answers) else answers
        response.answer.append(dns.rrset.from_text_list(name, 60, "IN", rdtype, texts))
        return response

    def __enter__(self) -> DnsStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping = True
        # Wake the blocking recvfrom with a datagram of our own rather than polling.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as waker:
            waker.sendto(b"", self._sock.getsockname())
        self._thread.join(2)
        self._sock.close()


def _fqdn(name: str) -> str:
    return name.lower() if name.endswith(".") else name.lower() + "."


# --- TLS certificates ----------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CertAuthority:
    """A throwaway CA that issues server certificates; ``pem_path`` is its certificate (for ca_file)."""

    def __init__(self, directory: Path, name: str = "OutageHub Test CA") -> None:
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        public = self.key.public_key()
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - dt.timedelta(days=1))
            .not_valid_after(_now() + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )  # keyCertSign, cRLSign
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.pem_path = directory / f"{name.replace(' ', '-').lower()}.pem"
        self.pem_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(
        self,
        hosts: tuple[str, ...] = ("localhost", "127.0.0.1"),
        *,
        expires_in: dt.timedelta = dt.timedelta(days=90),
        valid_for: dt.timedelta = dt.timedelta(days=400),
    ) -> tuple[Path, Path]:
        """A leaf certificate for ``hosts`` (names and addresses) expiring ``expires_in`` from now
        (negative: already expired), valid for ``valid_for`` before that. Returns (cert, key) paths."""
        key = ec.generate_private_key(ec.SECP256R1())
        not_after = _now() + expires_in
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_after - valid_for)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        stem = self.directory / f"leaf-{cert.serial_number:x}"
        cert_path, key_path = stem.with_suffix(".crt"), stem.with_suffix(".key")
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return cert_path, key_path

    def server_context(
        self, hosts: tuple[str, ...] = ("localhost", "127.0.0.1"), **validity: dt.timedelta
    ) -> ssl.SSLContext:
        """A server SSLContext presenting a fresh leaf certificate (see ``issue``)."""
        cert_path, key_path = self.issue(hosts, **validity)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        return context
