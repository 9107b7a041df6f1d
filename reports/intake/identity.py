"""Who is reporting, without knowing who they are.

The client address is used for three things only, all in memory: the
reporter hash (counting once per cooldown), the rate-limit key (hashed too)
and the country lookup. It is never stored or logged.

An IPv6 client is identified by its /64, not its full address: one host
commonly owns a whole /64 and picks a fresh address from it at will, so
counting addresses would let it report and file as many times as it likes.
An IPv4 client is its address.

OutageHub must see client addresses. Behind a reverse proxy, list the proxy
in OUTAGEHUB_TRUSTED_PROXIES and have it send X-Forwarded-For. A proxy that
talks to us over a unix socket has no address (gunicorn sets REMOTE_ADDR to
"", other servers to "unix:..."): the literal entry "unix" in
OUTAGEHUB_TRUSTED_PROXIES trusts such a peer. A request whose client is
unknown (no address, and no trusted proxy naming one) gets None: all such
requests share one reporter identity and one rate-limit bucket, and the
first of them logs a warning.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import logging
import socket
import threading
from collections.abc import Iterable, Mapping
from functools import lru_cache

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# In OUTAGEHUB_TRUSTED_PROXIES: trust a peer connected over a unix socket.
UNIX_SOCKET = "unix"
IPV6_CLIENT_PREFIX = 64  # bits of an IPv6 address that identify one client
# Bits that identify one network, for per-network limits: an IPv4 /24 and an IPv6 /48 are the
# smallest blocks routed on the Internet, commonly one site, office or hosting customer.
IPV4_NETWORK_PREFIX = 24
IPV6_NETWORK_PREFIX = 48

logger = logging.getLogger(__name__)
_warned_unknown_client = threading.Event()


def parse_ip(value: str) -> IPAddress | None:
    """Parse an address as proxies write it: bare, `[v6]:port` or `v4:port`."""
    value = value.strip()
    try:
        # The common case, a bare IPv4 address, in C at a quarter of ipaddress's cost: inet_pton
        # takes exactly the dotted quads ipaddress takes (four decimal octets, no leading zeros;
        # tests/intake/test_identity.py checks the two agree).
        return ipaddress.IPv4Address(socket.inet_pton(socket.AF_INET, value))
    except (OSError, ValueError):
        pass
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client seen through a dual-stack socket is still an IPv4 client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs if cidr != UNIX_SOCKET)


def trusted_networks() -> tuple[IPNetwork, ...]:
    return _networks(tuple(settings.OUTAGEHUB_TRUSTED_PROXIES))


def trusts_unix_socket() -> bool:
    return UNIX_SOCKET in settings.OUTAGEHUB_TRUSTED_PROXIES


def _is_unix_socket_peer(remote_addr: str) -> bool:
    return remote_addr.strip() == "" or remote_addr.startswith("unix:")


def client_ip(
    meta: Mapping[str, str], trusted: Iterable[IPNetwork] | None = None, *, trust_unix: bool | None = None
) -> IPAddress | None:
    """The client's address for a request's META; None if it cannot be known.

    The socket peer (REMOTE_ADDR) is the client unless it is a trusted proxy;
    then X-Forwarded-For is read from the right, skipping further trusted
    proxies, and the first address not ours is the client. Entries left of
    that one were written by the client itself and are not believed. An
    X-Forwarded-For from an untrusted peer is ignored entirely. A peer on a
    unix socket (no address) is a trusted proxy if ``trust_unix`` (default:
    "unix" is in OUTAGEHUB_TRUSTED_PROXIES). ``trusted`` defaults to the
    networks in OUTAGEHUB_TRUSTED_PROXIES.
    """
    trusted = tuple(trusted_networks() if trusted is None else trusted)
    trust_unix = trusts_unix_socket() if trust_unix is None else trust_unix
    remote_addr = meta.get("REMOTE_ADDR", "")
    peer = parse_ip(remote_addr)
    if peer is None and trust_unix and _is_unix_socket_peer(remote_addr):
        client = _forwarded_client(meta, trusted, None)
    elif peer is None or not _is_trusted(peer, trusted):
        client = peer
    else:
        client = _forwarded_client(meta, trusted, peer)
    if client is None:
        _warn_unknown_client()
    return client


def _forwarded_client(
    meta: Mapping[str, str], trusted: tuple[IPNetwork, ...], proxy: IPAddress | None
) -> IPAddress | None:
    client = proxy
    for hop in reversed(meta.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = parse_ip(hop)
        if address is None:
            # Garbage in the header: the last hop we could read is the client.
            break
        client = address
        if not _is_trusted(address, trusted):
            break
    return client


def _warn_unknown_client() -> None:
    # Once per process: the condition is a deployment's, not a request's, and would flood the log.
    if _warned_unknown_client.is_set():
        return
    _warned_unknown_client.set()
    logger.warning(
        "A request came with no usable client address (REMOTE_ADDR is empty or not an IP address, "
        "and no trusted proxy named the client). Such requests share one reporter identity and one "
        "rate-limit bucket. Behind a reverse proxy, list it in OUTAGEHUB_TRUSTED_PROXIES (the entry "
        '"unix" for a proxy on a unix socket) and have it send X-Forwarded-For.'
    )


def _is_trusted(address: IPAddress, trusted: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def _prefix(ip: IPAddress, bits: int) -> str:
    """`ip`'s network of `bits` bits as ipaddress writes it ("192.0.2.0/24", "2001:db8::/48").

    By masking the integer: ipaddress.ip_network() gives the same text at several times the
    cost, and the report path asks for two of these per request.
    """
    width = ip.max_prefixlen
    masked = int(ip) >> (width - bits) << (width - bits)
    address = ipaddress.IPv4Address(masked) if ip.version == 4 else ipaddress.IPv6Address(masked)
    return f"{address}/{bits}"


def _hmac_hex(key: bytes, message: bytes) -> str:
    """hmac.new(key, message, sha256).hexdigest(), from a copy of the keyed state kept per key.

    A report takes several of these under one or two keys (the day's salt, the secret), and
    keying SHA-256 anew (OpenSSL 3 fetches the algorithm each time) cost more than the hash.
    """
    mac = _keyed(key).copy()
    mac.update(message)
    return mac.hexdigest()


@lru_cache(maxsize=16)
def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod="sha256")


# Kept for the last few clients: a report names its client's address, subject and network several
# times (its hashes, its limits, its country), and ipaddress's naming costs more than the lookup.
@lru_cache(maxsize=256)
def ip_text(ip: IPAddress) -> str:
    """str(ip)."""
    return str(ip)


@lru_cache(maxsize=256)
def client_subject(ip: IPAddress | None) -> str:
    """What identifies a client in hashes and keys: an IPv4 address, an IPv6 /64, or "unknown"."""
    if ip is None:
        return "unknown"
    if ip.version == 6:
        return _prefix(ip, IPV6_CLIENT_PREFIX)
    return ip_text(ip)


def daily_salt(day: dt.date) -> bytes:
    """The salt for one UTC day, derived from the secret (so every web process agrees)."""
    return _daily_salt(settings.OUTAGEHUB_REPORTER_SALT_SECRET, day)


@lru_cache(maxsize=8)
def _daily_salt(secret: str, day: dt.date) -> bytes:
    # Cached: every report needs it several times, and it changes once a day (or with the secret).
    return hmac.digest(secret.encode(), f"outagehub-reporter-salt:{day.isoformat()}".encode(), "sha256")


def reporter_hash(ip: IPAddress | None, user_agent: str, day: dt.date) -> str:
    """64 hex characters identifying (client, user agent) for one UTC day only (see client_subject)."""
    message = f"{client_subject(ip)}\n{user_agent[:512]}".encode("utf-8", "replace")
    return _hmac_hex(daily_salt(day), message)


def reporter_hashes(ip: IPAddress | None, user_agent: str, now: dt.datetime, window: dt.timedelta) -> list[str]:
    """The reporter's hash for today, then for each earlier day the window reaches into.

    A cooldown that spans midnight must still recognise the reporter under
    yesterday's salt, or everyone would be counted twice at 00:00 UTC.
    """
    days = []
    day = now.astimezone(dt.UTC).date()
    earliest = (now - window).astimezone(dt.UTC).date()
    while day >= earliest:
        days.append(day)
        day -= dt.timedelta(days=1)
    return [reporter_hash(ip, user_agent, d) for d in days]


def address_slot_hashes(ip: IPAddress | None, now: dt.datetime, slots: int) -> list[str]:
    """Hashes naming today's first `slots` reporter slots of one client address (see client_subject).

    A client counts as at most `slots` reporters per service per cooldown, however many user
    agents it sends: each counted reporter must also claim one of its address's slots.
    """
    salt = daily_salt(now.astimezone(dt.UTC).date())
    subject = client_subject(ip)
    return [_hmac_hex(salt, f"address-slot\n{subject}\n{i}".encode()) for i in range(slots)]


def address_key(ip: IPAddress | None) -> str:
    """A short keyed hash of a client (see client_subject), for rate-limit cache keys."""
    secret = settings.OUTAGEHUB_REPORTER_SALT_SECRET.encode()
    return _hmac_hex(secret, f"ratelimit:{client_subject(ip)}".encode())[:32]


@lru_cache(maxsize=256)
def client_network(ip: IPAddress | None) -> str | None:
    """The network a client is in for per-network limits (an IPv4 /24, an IPv6 /48); None if unknown."""
    if ip is None:
        return None
    return _prefix(ip, IPV6_NETWORK_PREFIX if ip.version == 6 else IPV4_NETWORK_PREFIX)


def network_slot_hashes(ip: IPAddress | None, now: dt.datetime, slots: int) -> list[str]:
    """Hashes naming today's first `slots` reporter slots of a client's network (see client_network).

    Like address_slot_hashes one level up: each counted reporter must also claim one of its
    network's slots, so one /24 or /48 counts as at most `slots` reporters per service per
    cooldown, however many addresses it reports from. Empty for an unknown client.
    """
    network = client_network(ip)
    if network is None:
        return []
    return list(_network_slots(daily_salt(now.astimezone(dt.UTC).date()), network, slots))


# Kept per network: in a flood many reports come from one network (a carrier's NAT, an office),
# and these hashes cost more than the rest of a report's identity. Keyed by the salt or secret
# too, so a new day or a new secret never finds an old value.
@lru_cache(maxsize=4096)
def _network_slots(salt: bytes, network: str, slots: int) -> tuple[str, ...]:
    return tuple(_hmac_hex(salt, f"network-slot\n{network}\n{i}".encode()) for i in range(slots))


@lru_cache(maxsize=4096)
def _network_key(secret: str, network: str) -> str:
    return _hmac_hex(secret.encode(), f"ratelimit-network:{network}".encode())[:32]


def network_key(ip: IPAddress | None) -> str | None:
    """A short keyed hash of a client's network (see client_network), for rate-limit keys; None if unknown."""
    network = client_network(ip)
    if network is None:
        return None
    return _network_key(settings.OUTAGEHUB_REPORTER_SALT_SECRET, network)
