"""Outbound network access: the one place OutageHub opens connections to addresses it was given.

Probes (and later webhooks) connect to URLs and host names that users typed in. Without a guard
such a target could be ``http://169.254.169.254/`` (cloud credentials), ``http://localhost:6379/``
or any host on the operator's private network. So every connection made here:

- resolves the name once, refuses it if ANY resolved address is not a public one (a name with one
  public and one private address is refused: a connection could go to either), and
- connects to the very address that was checked, never to the name again: a DNS answer that
  changes between the check and the connection (DNS rebinding) cannot redirect us inward.

For HTTP the guard sits in the connection layer (a custom httpcore network backend), so it runs
for every connection the client opens, including each redirect hop; TLS still uses the host name
for SNI and certificate verification.

``allow_private`` comes from the caller (the ``PROBES_ALLOW_PRIVATE`` setting at the call sites):
this module reads no settings. ``also_allow`` widens the policy for one (address, port) at a time;
it never narrows it. Tests use it to allow one loopback server but not another.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import dns.exception
import dns.message
import dns.nameserver
import dns.query
import dns.rdatatype
import dns.resolver
import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# httpcore's SOCKET_OPTION, which it does not export.
SocketOptions = Iterable[tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]]
# (address, port) -> True to allow it although it is not public. Only widens the policy.
Allow = Callable[[IPAddress, int], bool]

USER_AGENT = "OutageHub-Probe/1.0 (+https://github.com/outagehub)"
REDIRECT_BODY_MAX = 64 * 1024  # bytes of a redirect's body read before following it


class BlockedAddress(Exception):
    """A connection was refused by the guard: the host resolved to a non-public address."""

    def __init__(self, host: str, address: str, reason: str = "is not a public address") -> None:
        self.host = host
        self.address = address
        super().__init__(f"refused to connect to {host}: {address} {reason}")


# Explicit lists rather than ipaddress.is_global alone: its answer changes between Python patch
# releases, and 3.11 calls 224.0.0.1, fec0::1 and ::7f00:1 "global".
_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches localhost on Linux
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, including 169.254.169.254 cloud metadata
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation (TEST-NET-1)
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation (TEST-NET-2)
        "203.0.113.0/24",  # documentation (TEST-NET-3)
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and 255.255.255.255 broadcast
    )
)
# IPv6 is allowed only inside global unicast 2000::/3: that alone rules out ::1, ::, fc00::/7
# (unique local, incl. fd00::/8), fe80::/10 (link-local), fec0::/10 (site-local), ff00::/8
# (multicast), ::/96 (IPv4-compatible) and 64:ff9b:1::/48 (local-use NAT64).
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "2001::/23",  # IETF protocol assignments: Teredo, benchmarking, ORCHID
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
    )
)
# NAT64 well-known prefix: 64:ff9b::a.b.c.d reaches a.b.c.d through the translator, so it is
# exactly as public as the IPv4 address it embeds.
_NAT64_V6 = ipaddress.IPv6Network("64:ff9b::/96")


def is_public(ip: IPAddress) -> bool:
    """True if ``ip`` is a globally routable unicast address, the only kind a probe may reach.

    IPv6 forms that embed an IPv4 address (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d,
    6to4 2002:aabb:ccdd::) are judged by the IPv4 address they lead to.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public(ip.ipv4_mapped)
        if ip in _NAT64_V6:
            return is_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None:
            return is_public(ip.sixtofour)
        if ip not in _GLOBAL_UNICAST_V6 or any(ip in net for net in _BLOCKED_V6):
            return False
    elif any(ip in net for net in _BLOCKED_V4):
        return False
    return ip.is_global and not ip.is_multicast


def _show(ip: IPAddress) -> str:
    # Python 3.11 writes ::ffff:127.0.0.1 as ::ffff:7f00:1; a refusal should be readable.
    mapped = getattr(ip, "ipv4_mapped", None)
    return f"::ffff:{mapped}" if mapped else str(ip)


def _is_allowed(ip: IPAddress, port: int, allow_private: bool, also_allow: Allow | None) -> bool:
    return allow_private or is_public(ip) or (also_allow is not None and also_allow(ip, port))


def parse_nameserver(text: str) -> tuple[str, int]:
    """Parse "ip", "ip:port" or "[ipv6]:port" into (ip, port), port 53 by default; ValueError if malformed."""
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            port = int(rest.removeprefix(":"))
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        port = int(port_text)
    ipaddress.ip_address(host)  # a resolver is given as an address, never as a name to resolve
    if not 0 < port < 65536:
        raise ValueError(f"port out of range in {text!r}")
    return host, port


def dns_resolver(nameservers: list[str] | None) -> dns.resolver.Resolver:
    """A dnspython resolver: the system's configuration, or exactly the given nameservers.

    Nameservers are operator configuration, not user input, so the private-address guard does not
    apply to them (the usual resolver is private anyway: 127.0.0.53, or 10.x in a cluster).
    """
    if not nameservers:
        return dns.resolver.Resolver()
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(*parse_nameserver(ns)) for ns in nameservers]
    return resolver


def nameservers_answer(nameservers: list[str], *, timeout: float) -> bool:
    """True if any of ``nameservers`` answers a query at all within ``timeout`` seconds (in total).

    Any response counts, an error (NXDOMAIN, SERVFAIL, REFUSED) too: it proves the resolver is
    there and reachable, which is all a caller telling "our resolver is dead" from "their DNS is
    broken" needs. Each nameserver gets an equal share of the time, so one dead server does not
    use up the others' chance. Raises ValueError for a malformed nameserver.
    """
    endpoints = [parse_nameserver(ns) for ns in nameservers]
    query = dns.message.make_query(".", dns.rdatatype.NS)  # any resolver knows where the root is
    for host, port in endpoints:
        try:
            dns.query.udp(query, host, port=port, timeout=timeout / len(endpoints))
        except (dns.exception.DNSException, OSError):
            continue
        return True
    return False


# One answer of socket.getaddrinfo: (family, type, proto, canonname, sockaddr).
_AddrInfo = tuple[
    socket.AddressFamily, socket.SocketKind, int, str, tuple[str, int] | tuple[str, int, int, int] | tuple[int, bytes]
]


def _getaddrinfo(host: str, port: int, timeout: float) -> list[IPAddress]:
    # getaddrinfo has no timeout of its own and blocks until the system resolver gives up (often
    # 5 s x attempts). Run it in a daemon thread and stop waiting after `timeout`; the thread ends
    # on its own when the resolver does.
    results: list[list[_AddrInfo]] = []
    errors: list[OSError] = []

    def lookup() -> None:
        try:
            results.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            errors.append(exc)

    thread = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    thread.start()
    thread.join(timeout)
    if errors:
        raise errors[0]
    if not results:
        raise socket.gaierror(socket.EAI_AGAIN, f"resolving {host} timed out after {timeout:g} s")
    # The sockaddr of an IPv6 link-local answer may carry a scope ("fe80::1%eth0"); keep it.
    return [ipaddress.ip_address(sockaddr[0]) for *_, sockaddr in results[0]]


def _query(host: str, nameservers: list[str], timeout: float) -> list[IPAddress]:
    resolver = dns_resolver(nameservers)
    deadline = time.monotonic() + timeout
    addresses: list[IPAddress] = []
    for rdtype in ("A", "AAAA"):
        try:
            answer = resolver.resolve(host, rdtype, search=False, lifetime=max(deadline - time.monotonic(), 0.01))
        except dns.resolver.NXDOMAIN:
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: no such domain") from None
        except dns.resolver.NoAnswer:
            continue
        except dns.exception.Timeout:
            raise socket.gaierror(socket.EAI_AGAIN, f"resolving {host} timed out after {timeout:g} s") from None
        except dns.exception.DNSException as exc:
            raise socket.gaierror(socket.EAI_FAIL, f"resolving {host} failed: {exc}") from None
        addresses += [ipaddress.ip_address(rdata.address) for rdata in answer]
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, f"{host}: no A or AAAA records")
    return addresses


def resolve(
    host: str,
    port: int,
    *,
    allow_private: bool,
    timeout: float,
    also_allow: Allow | None = None,
    nameservers: list[str] | None = None,
) -> list[tuple[IPAddress, int]]:
    """Resolve ``host`` and check every address; return the (address, port) pairs to connect to.

    Uses the system resolver (getaddrinfo: /etc/hosts, then DNS) or, with ``nameservers``, asks
    those directly for A and AAAA records. ``timeout`` in seconds bounds the lookup.
    Raises BlockedAddress if any address is refused, socket.gaierror if the name does not resolve
    (EAI_AGAIN on timeout).
    """
    host = host.removeprefix("[").removesuffix("]")
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = _query(host, nameservers, timeout) if nameservers else _getaddrinfo(host, port, timeout)
    unique = list(dict.fromkeys(addresses))
    for ip in unique:
        if not _is_allowed(ip, port, allow_private, also_allow):
            raise BlockedAddress(host, _show(ip))
    return [(ip, port) for ip in unique]


def connect_tcp(
    host: str,
    port: int,
    *,
    allow_private: bool,
    timeout: float,
    also_allow: Allow | None = None,
    nameservers: list[str] | None = None,
) -> socket.socket:
    """A TCP connection to ``host``, guarded and pinned to a checked address.

    ``timeout`` (seconds) bounds resolution and connection together, and is left set on the
    returned socket. Tries the addresses in resolver order. Raises BlockedAddress,
    socket.gaierror, TimeoutError or another OSError (ConnectionRefusedError...).
    """
    deadline = time.monotonic() + timeout
    endpoints = resolve(
        host, port, allow_private=allow_private, timeout=timeout, also_allow=also_allow, nameservers=nameservers
    )
    last_error: OSError = TimeoutError(f"connecting to {host} timed out after {timeout:g} s")
    for ip, ip_port in endpoints:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock = socket.socket(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.settimeout(remaining)
            sock.connect((str(ip), ip_port))
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        sock.settimeout(timeout)
        return sock
    if isinstance(last_error, TimeoutError):
        last_error = TimeoutError(f"connecting to {host} timed out after {timeout:g} s")
    raise last_error


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write also ends at the client's deadline.

    httpx's timeouts bound each step; a server trickling one byte per step would keep a request
    open for ever. The deadline bounds the request as a whole.
    """

    def __init__(self, stream: httpcore.NetworkStream, deadline: float) -> None:
        self._stream = stream
        self._deadline = deadline

    def _left(self, timeout: float | None, error: type[Exception]) -> float:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise error("the request's total timeout has passed")
        return remaining if timeout is None else min(timeout, remaining)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(ssl_context, server_hostname, self._left(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """httpcore network backend whose every TCP connection goes through the guard.

    httpcore hands us the origin's host name; we resolve and check it, then let the stock backend
    connect to the checked address literal (which needs no DNS). TLS is started by httpcore
    afterwards with the origin's host name, so SNI and certificate checks are unaffected.
    With a ``deadline`` (time.monotonic() value) every connection ends by then.
    """

    def __init__(
        self,
        *,
        allow_private: bool,
        also_allow: Allow | None = None,
        nameservers: list[str] | None = None,
        deadline: float | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.also_allow = also_allow
        self.nameservers = nameservers
        self.deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: SocketOptions | None = None,
    ) -> httpcore.NetworkStream:
        budget = 30.0 if timeout is None else timeout  # the clients we build always set one
        if self.deadline is not None:
            budget = min(budget, self.deadline - time.monotonic())
            if budget <= 0:
                raise httpcore.ConnectTimeout("the request's total timeout has passed")
        deadline = time.monotonic() + budget
        try:
            endpoints = resolve(
                host,
                port,
                allow_private=self.allow_private,
                timeout=budget,
                also_allow=self.also_allow,
                nameservers=self.nameservers,
            )
        except socket.gaierror as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        last_error: Exception = httpcore.ConnectTimeout(f"connecting to {host} timed out after {budget:g} s")
        for ip, ip_port in endpoints:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                stream = super().connect_tcp(str(ip), ip_port, remaining, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            return stream if self.deadline is None else _DeadlineStream(stream, self.deadline)
        raise last_error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: SocketOptions | None = None
    ) -> httpcore.NetworkStream:
        raise BlockedAddress(path, path, "is a unix socket")


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, *, verify: ssl.SSLContext | bool, backend: GuardedBackend) -> None:
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx 0.28 has no parameter for the network backend: replace its pool (built as in the
        # no-proxy branch of HTTPTransport.__init__, httpx's default limits) with one using ours.
        # httpx and httpcore are pinned; outagehub/tests/test_outbound.py fails if this stops
        # taking effect.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=backend,
        )


class _CappedStream(httpx.SyncByteStream):
    """A response body that ends after ``limit`` bytes."""

    def __init__(self, stream: httpx.SyncByteStream, limit: int) -> None:
        self._stream = stream
        self._limit = limit

    def __iter__(self) -> Iterator[bytes]:
        left = self._limit
        for chunk in self._stream:
            yield chunk[:left]
            left -= len(chunk)
            if left <= 0:
                return

    def close(self) -> None:
        self._stream.close()


def _cap_redirect_body(response: httpx.Response) -> None:
    # httpx reads a redirect's body in full before following it; nobody needs more than a little.
    # httpx types the stream as sync or async; this hook is only on our sync client.
    if response.has_redirect_location and isinstance(response.stream, httpx.SyncByteStream):
        response.stream = _CappedStream(response.stream, REDIRECT_BODY_MAX)


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """Client TLS context verifying against the system CA store, plus the CAs in ``ca_file`` if given."""
    # create_default_context(cafile=...) would load that file *instead of* the system store: an
    # operator adding an internal CA would silently lose every public one.
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def http_client(
    *,
    allow_private: bool,
    timeout: float,
    verify: ssl.SSLContext | bool = True,
    max_redirects: int = 5,
    total_timeout: float | None = None,
    also_allow: Allow | None = None,
    nameservers: list[str] | None = None,
) -> httpx.Client:
    """An httpx client whose every connection, redirects included, is guarded and pinned.

    ``timeout`` (seconds) applies to each of connect (resolution included), read, write and pool
    wait; ``total_timeout`` (seconds from now), if given, bounds all the client's requests
    together, redirects and body included. Redirects are followed up to ``max_redirects`` (then
    httpx.TooManyRedirects); 0 means do not follow, return the 3xx. ``verify=True`` means the
    system CA store (tls_context adds an extra bundle to it). BlockedAddress propagates out of
    requests unchanged.
    """
    backend = GuardedBackend(
        allow_private=allow_private,
        also_allow=also_allow,
        nameservers=nameservers,
        deadline=None if total_timeout is None else time.monotonic() + total_timeout,
    )
    return httpx.Client(
        transport=_GuardedTransport(verify=tls_context() if verify is True else verify, backend=backend),
        timeout=httpx.Timeout(timeout),
        follow_redirects=max_redirects > 0,
        max_redirects=max_redirects,
        # No proxies from the environment: a proxy would make the connections for us, around the guard.
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
        event_hooks={"response": [_cap_redirect_body]},
    )
