"""Who is reporting, without knowing who they are.

The client address is used for three things only, all in memory: the
reporter hash (counting once per cooldown), the rate-limit key (hashed too)
and the country lookup. It is never stored or logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_ip(value: str) -> IPAddress | None:
    """Parse an address as proxies write it: bare, `[v6]:port` or `v4:port`."""
    value = value.strip()
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
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def trusted_networks() -> tuple[IPNetwork, ...]:
    return _networks(tuple(settings.OUTAGEHUB_TRUSTED_PROXIES))


def client_ip(meta: Mapping[str, str], trusted: Iterable[IPNetwork] | None = None) -> IPAddress | None:
    """The client's address for a request's META.

    The socket peer (REMOTE_ADDR) is the client unless it is a trusted proxy;
    then X-Forwarded-For is read from the right, skipping further trusted
    proxies, and the first address not ours is the client. Entries left of
    that one were written by the client itself and are not believed. An
    X-Forwarded-For from an untrusted peer is ignored entirely.
    """
    trusted = tuple(trusted_networks() if trusted is None else trusted)
    peer = parse_ip(meta.get("REMOTE_ADDR", ""))
    if peer is None or not _is_trusted(peer, trusted):
        return peer
    client = peer
    for hop in reversed(meta.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = parse_ip(hop)
        if address is None:
            # Garbage in the header: the last hop we could read is the client.
            break
        client = address
        if not _is_trusted(address, trusted):
            break
    return client


def _is_trusted(address: IPAddress, trusted: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def daily_salt(day: dt.date) -> bytes:
    """The salt for one UTC day, derived from the secret (so every web process agrees)."""
    secret = settings.OUTAGEHUB_REPORTER_SALT_SECRET.encode()
    return hmac.new(secret, f"outagehub-reporter-salt:{day.isoformat()}".encode(), hashlib.sha256).digest()


def reporter_hash(ip: IPAddress | None, user_agent: str, day: dt.date) -> str:
    """64 hex characters identifying (address, user agent) for one UTC day only."""
    message = f"{ip or 'unknown'}\n{user_agent[:512]}".encode("utf-8", "replace")
    return hmac.new(daily_salt(day), message, hashlib.sha256).hexdigest()


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


def address_key(ip: IPAddress | None) -> str:
    """A short keyed hash of an address, for rate-limit cache keys."""
    secret = settings.OUTAGEHUB_REPORTER_SALT_SECRET.encode()
    return hmac.new(secret, f"ratelimit:{ip}".encode(), hashlib.sha256).hexdigest()[:32]
