"""The private-address guard on outbound connections, against real loopback servers.

Loopback is exactly what the guard refuses, so tests that need a connection to succeed either pass
allow_private=True or widen the policy for one server with ``also_allow``; the refusals are made
with allow_private=False, as in production without PROBES_ALLOW_PRIVATE.
"""

from __future__ import annotations

import ipaddress
import re
import socket

import httpx
import pytest

from outagehub.outbound import (
    BlockedAddress,
    connect_tcp,
    http_client,
    is_public,
    parse_nameserver,
    resolve,
    tls_context,
)
from probes.checkers import run_check
from probes.kinds import ErrorClass, Outcome
from probes.tests.servers import CertAuthority, DnsStub, HttpStub, Reply, closed_port, tcp_listener

LOOPBACK = ipaddress.ip_address("127.0.0.1")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("1.1.1.1", True),
        ("2001:4860:4860::8888", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),  # IPv4-mapped public
        ("64:ff9b::808:808", True),  # NAT64 of a public address
        ("2002:808:808::1", True),  # 6to4 of a public address
        ("127.0.0.1", False),
        ("127.1.2.3", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("172.31.255.255", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("169.254.1.1", False),
        ("100.64.0.1", False),  # shared address space (CGNAT)
        ("100.127.255.254", False),
        ("0.0.0.0", False),
        ("0.1.2.3", False),
        ("224.0.0.1", False),  # multicast, which Python 3.11 calls global
        ("239.255.255.250", False),
        ("240.0.0.1", False),  # reserved
        ("255.255.255.255", False),
        ("192.0.0.9", False),
        ("192.0.2.1", False),  # documentation
        ("198.18.0.1", False),  # benchmarking
        ("::1", False),
        ("::", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:169.254.169.254", False),
        ("::ffff:10.0.0.1", False),
        ("::7f00:1", False),  # IPv4-compatible loopback
        ("64:ff9b::7f00:1", False),  # NAT64 of loopback
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of cloud metadata
        ("64:ff9b:1::1", False),  # local-use NAT64
        ("2002:7f00:1::1", False),  # 6to4 of loopback
        ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
        ("fc00::1", False),
        ("fd00::1", False),  # unique local
        ("fd12:3456:789a::1", False),
        ("fe80::1", False),  # link-local
        ("fe80::1%1", False),
        ("fec0::1", False),  # site-local, deprecated but still not ours to reach
        ("ff02::1", False),  # multicast
        ("2001:db8::1", False),  # documentation
        ("2001::1", False),  # Teredo
        ("3fff::1", False),  # documentation (RFC 9637)
    ],
)
def test_is_public(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    ("host", "refused"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "127.0.0.1 ::1"),  # a name that resolves to a private address (or two)
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("169.254.169.254", "169.254.169.254"),
        ("0.0.0.0", "0.0.0.0"),
        ("2130706433", "127.0.0.1"),  # 127.0.0.1 as one decimal number, caught after resolution
    ],
)
def test_resolve_refuses_private_addresses_naming_host_and_address(host, refused):
    with pytest.raises(BlockedAddress) as refusal:
        resolve(host, 80, allow_private=False, timeout=1)

    address = refusal.value.address
    assert address in refused.split()
    assert str(refusal.value) == f"refused to connect to {host.strip('[]')}: {address} is not a public address"


def test_resolve_allows_private_addresses_when_told_to():
    endpoints = resolve("localhost", 8080, allow_private=True, timeout=1)

    assert (LOOPBACK, 8080) in endpoints
    assert all(ip.is_loopback and port == 8080 for ip, port in endpoints)  # ::1 too, on some hosts


def test_resolve_returns_checked_public_addresses():
    with DnsStub({("public.test", "A"): ["8.8.8.8", "1.1.1.1"]}) as stub:
        endpoints = resolve("public.test", 443, allow_private=False, timeout=1, nameservers=[stub.nameserver])

    assert sorted(endpoints) == [(ipaddress.ip_address("1.1.1.1"), 443), (ipaddress.ip_address("8.8.8.8"), 443)]


def test_resolve_refuses_a_name_if_any_of_its_addresses_is_private():
    # Either address could be the one connected to, so one private answer spoils the name.
    with (
        DnsStub({("mixed.test", "A"): ["8.8.8.8", "10.0.0.1"]}) as stub,
        pytest.raises(BlockedAddress, match=r"mixed\.test: 10\.0\.0\.1"),
    ):
        resolve("mixed.test", 443, allow_private=False, timeout=1, nameservers=[stub.nameserver])


def test_resolve_checks_aaaa_answers_too():
    with (
        DnsStub({("v6.test", "A"): ["8.8.8.8"], ("v6.test", "AAAA"): ["::ffff:169.254.169.254"]}) as stub,
        pytest.raises(BlockedAddress, match=r"::ffff:169\.254\.169\.254"),
    ):
        resolve("v6.test", 443, allow_private=False, timeout=1, nameservers=[stub.nameserver])


def test_resolve_raises_gaierror_for_unknown_names():
    with pytest.raises(socket.gaierror):
        resolve("nonexistent.invalid", 80, allow_private=False, timeout=2)
    with DnsStub() as stub, pytest.raises(socket.gaierror, match="no such domain"):
        resolve("missing.test", 80, allow_private=False, timeout=1, nameservers=[stub.nameserver])


def test_resolve_times_out_as_gaierror():
    with DnsStub({("slow.test", "A"): ["8.8.8.8"]}) as stub:
        stub.drop = True
        with pytest.raises(socket.gaierror, match=r"timed out after 0\.3 s") as failure:
            resolve("slow.test", 80, allow_private=False, timeout=0.3, nameservers=[stub.nameserver])

    assert failure.value.errno == socket.EAI_AGAIN


def test_connect_tcp_refuses_loopback_without_allow_private():
    with tcp_listener() as port:
        for host in ("127.0.0.1", "localhost", "::1"):
            with pytest.raises(BlockedAddress):
                connect_tcp(host, port, allow_private=False, timeout=1)


def test_connect_tcp_connects_to_the_address_it_checked():
    with tcp_listener() as port, connect_tcp("localhost", port, allow_private=True, timeout=1) as sock:
        assert sock.getpeername() == ("127.0.0.1", port)
        assert sock.gettimeout() == 1


def test_connect_tcp_reports_refused_connections():
    with pytest.raises(ConnectionRefusedError):
        connect_tcp("127.0.0.1", closed_port(), allow_private=True, timeout=1)


def only(port: int):
    """A policy that allows 127.0.0.1 on one port: one loopback server but not another."""
    return lambda ip, ip_port: ip == LOOPBACK and ip_port == port


def rebinding_zone(name: str) -> dict:
    # The first answer is the allowed address; every later one points elsewhere, like a
    # rebinding attacker's DNS server (127.0.0.2 is loopback too, but nothing listens there).
    return {(name, "A"): lambda asked_before: ["127.0.0.1"] if asked_before == 0 else ["127.0.0.2"]}


def test_connect_tcp_uses_the_answer_it_checked_not_a_later_one():
    with tcp_listener() as port, DnsStub(rebinding_zone("rebind.test")) as stub:
        options = {"allow_private": False, "timeout": 1, "also_allow": only(port), "nameservers": [stub.nameserver]}

        with connect_tcp("rebind.test", port, **options) as sock:
            assert sock.getpeername() == ("127.0.0.1", port)
        assert stub.queries.count(("rebind.test.", "A")) == 1  # resolved once: checked and connected

        with pytest.raises(BlockedAddress, match=r"127\.0\.0\.2"):
            connect_tcp("rebind.test", port, **options)  # the new answer is checked in turn


def test_http_client_pins_each_connection_to_the_checked_address():
    with HttpStub() as web, DnsStub(rebinding_zone("rebind.test")) as stub:
        options = {"allow_private": False, "timeout": 1, "also_allow": only(web.port), "nameservers": [stub.nameserver]}
        with http_client(**options) as client:
            response = client.get(web.url("/", host="rebind.test"))

        assert response.status_code == 200
        assert stub.queries.count(("rebind.test.", "A")) == 1
        # The name still goes to the server, for virtual hosting; only the address was pinned.
        assert web.seen[0].headers["Host"] == f"rebind.test:{web.port}"
        with http_client(**options) as client, pytest.raises(BlockedAddress, match=r"127\.0\.0\.2"):
            client.get(web.url("/", host="rebind.test"))


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{port}/",
        "http://localhost:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_http_client_refuses_a_redirect_to_a_private_address(location):
    with HttpStub() as inner, HttpStub() as outer:
        # outer stands for a public site (allowed by policy); inner is the private service.
        outer.default = Reply.redirect(location.format(port=inner.port))
        with (
            http_client(allow_private=False, timeout=1, also_allow=only(outer.port)) as client,
            pytest.raises(BlockedAddress) as refusal,
        ):
            client.get(outer.url("/"))

        assert len(outer.seen) == 1
        assert inner.seen == []
    assert refusal.value.address in ("127.0.0.1", "::ffff:127.0.0.1", "169.254.169.254")


def test_http_client_follows_redirects_through_the_guard_when_allowed():
    with HttpStub() as inner, HttpStub() as outer:
        outer.default = Reply.redirect(inner.url("/"))
        with http_client(allow_private=True, timeout=1) as client:
            response = client.get(outer.url("/"))

    assert response.status_code == 200
    assert [r.url.port for r in [*response.history, response]] == [outer.port, inner.port]


def test_http_client_ignores_proxies_from_the_environment(monkeypatch):
    # A proxy would connect for us, around the guard.
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("ALL_PROXY", f"http://127.0.0.1:{closed_port()}")
    with HttpStub() as web, http_client(allow_private=True, timeout=1) as client:
        assert client.get(web.url("/")).status_code == 200


def test_http_client_sends_its_user_agent():
    with HttpStub() as web, http_client(allow_private=True, timeout=1) as client:
        client.get(web.url("/"))

    assert web.seen[0].headers["User-Agent"] == "OutageHub-Probe/1.0 (+https://github.com/outagehub)"


def test_http_client_verifies_tls_for_the_host_name_while_connecting_to_its_address(tmp_path):
    ca = CertAuthority(tmp_path)
    # The certificate names status.test only, not 127.0.0.1: verification must use the name.
    with (
        HttpStub(tls=ca.server_context(hosts=("status.test",))) as site,
        DnsStub({("status.test", "A"): ["127.0.0.1"]}) as stub,
    ):
        verify = tls_context(str(ca.pem_path))
        options = {"allow_private": True, "timeout": 1, "verify": verify, "nameservers": [stub.nameserver]}
        with http_client(**options) as client:
            assert client.get(site.url("/", host="status.test")).status_code == 200
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                client.get(site.url("/"))  # by address: the certificate does not cover 127.0.0.1

    assert site.sni[0] == "status.test"


def test_an_extra_ca_file_is_trusted_besides_the_system_store_not_instead_of_it(tmp_path, monkeypatch):
    # OpenSSL reads the system store from SSL_CERT_FILE when it is set: one CA stands in for the
    # machine's bundle, another is the operator's extra CA (PROBES_CA_FILE).
    system_ca, extra_ca = CertAuthority(tmp_path, "System CA"), CertAuthority(tmp_path, "Extra CA")
    monkeypatch.setenv("SSL_CERT_FILE", str(system_ca.pem_path))
    with HttpStub(tls=system_ca.server_context()) as public, HttpStub(tls=extra_ca.server_context()) as internal:
        for site in (public, internal):
            result = run_check(
                "tls", f"127.0.0.1:{site.port}", {}, timeout=2, allow_private=True, ca_file=str(extra_ca.pem_path)
            )
            assert result.outcome == Outcome.UP, result.message
            with http_client(allow_private=True, timeout=2, verify=tls_context(str(extra_ca.pem_path))) as client:
                assert client.get(site.url("/")).status_code == 200
    assert len(tls_context(str(extra_ca.pem_path)).get_ca_certs()) == 2


@pytest.mark.parametrize("kind", ["http", "tcp", "tls"])
def test_run_check_without_allow_private_refuses_loopback_as_inconclusive(kind):
    """PROBES_ALLOW_PRIVATE off: a check of a loopback server is refused, not reported down."""
    with HttpStub() as web:
        target = web.url("/") if kind == "http" else f"localhost:{web.port}"

        result = run_check(kind, target, {}, timeout=1, allow_private=False)

        assert (result.outcome, result.error) == (Outcome.INCONCLUSIVE, ErrorClass.BLOCKED)
        assert re.search(r"(127\.0\.0\.1|::1) is not a public address$", result.message)
        assert web.seen == []


def test_dns_checks_are_not_guarded_they_only_ask_a_resolver():
    # The private-address guard is about where we connect; a DNS probe connects only to the
    # configured resolver and an answer with a private address is just data.
    with DnsStub({("intranet.test", "A"): ["10.0.0.1"]}) as stub:
        result = run_check(
            "dns",
            "intranet.test",
            {"expected": "10.0.0.1"},
            timeout=1,
            allow_private=False,
            nameservers=[stub.nameserver],
        )

    assert result.outcome == Outcome.UP


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("10.0.0.53", ("10.0.0.53", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("[::1]:53", ("::1", 53)),
        ("::1", ("::1", 53)),
    ],
)
def test_parse_nameserver(text, parsed):
    assert parse_nameserver(text) == parsed


@pytest.mark.parametrize("text", ["dns.example.com", "10.0.0.1:0", "10.0.0.1:x"])
def test_parse_nameserver_rejects_names_and_bad_ports(text):
    with pytest.raises(ValueError):
        parse_nameserver(text)
