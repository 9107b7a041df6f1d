"""Telling a service that is down from a prober that cannot see it: canaries and our own resolvers."""

from __future__ import annotations

import pytest

from catalog.tests.factories import make_service
from probes.kinds import ErrorClass, Outcome
from probes.models import Probe
from probes.runner import check_probe
from probes.tests.servers import DnsStub, HttpStub, Reply, closed_port, tcp_listener

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _loopback(loopback_allowed):
    """Every test here probes loopback servers."""


@pytest.fixture
def canary():
    with HttpStub() as server:
        server.replies["/generate_204"] = Reply(204, b"")
        yield server


@pytest.fixture
def dead_resolver():
    """A resolver that receives every query and answers none."""
    with DnsStub() as stub:
        stub.drop = True
        yield stub


def probe_for(target: str, kind: str = "http", **kwargs) -> Probe:
    defaults = {"name": "homepage", "kind": kind, "target": target, "timeout_seconds": 0.5}
    return Probe.objects.create(service=make_service(), **(defaults | kwargs))


def test_canaries_resolve_their_names_through_the_configured_resolvers(settings, canary):
    with DnsStub({("canary.test", "A"): ["127.0.0.1"]}) as resolver:
        settings.PROBES_DNS_NAMESERVERS = [resolver.nameserver]
        settings.PROBES_CANARIES = [canary.url("/generate_204", host="canary.test")]
        result = check_probe(probe_for(f"127.0.0.1:{closed_port()}", kind="tcp"))
    assert ("canary.test.", "A") in resolver.queries
    assert (result.outcome, result.error) == (Outcome.DOWN, ErrorClass.REFUSED)


def test_a_dead_configured_resolver_makes_failures_inconclusive_not_down(settings, canary, dead_resolver):
    # "localhost" is in /etc/hosts: the system resolver would reach this canary, ours cannot.
    settings.PROBES_DNS_NAMESERVERS = [dead_resolver.nameserver]
    settings.PROBES_CANARIES = [canary.url("/generate_204", host="localhost")]
    result = check_probe(probe_for("http://shop.test/"))
    assert (result.outcome, result.error) == (Outcome.INCONCLUSIVE, ErrorClass.OFFLINE)
    assert canary.seen == []


@pytest.mark.parametrize(("kind", "target"), [("http", "http://shop.test/"), ("dns", "shop.test")])
def test_a_lookup_failure_while_our_resolver_is_silent_is_inconclusive_even_with_address_canaries(
    settings, dead_resolver, kind, target
):
    with tcp_listener() as port:
        settings.PROBES_CANARIES = [f"127.0.0.1:{port}"]  # an address: reachable without any DNS
        settings.PROBES_DNS_NAMESERVERS = [dead_resolver.nameserver]
        result = check_probe(probe_for(target, kind=kind))
    assert (result.outcome, result.error) == (Outcome.INCONCLUSIVE, ErrorClass.OFFLINE)
    assert "resolvers" in result.message and dead_resolver.nameserver in result.message


def test_a_lookup_failure_from_a_resolver_that_answers_is_down(settings):
    with tcp_listener() as port, DnsStub({("other.test", "A"): ["127.0.0.1"]}) as resolver:
        settings.PROBES_CANARIES = [f"127.0.0.1:{port}"]
        settings.PROBES_DNS_NAMESERVERS = [resolver.nameserver]
        result = check_probe(probe_for("http://shop.test/"))  # NXDOMAIN: their DNS, not ours
    assert (result.outcome, result.error) == (Outcome.DOWN, ErrorClass.DNS)


def test_a_timeout_that_is_not_a_lookup_stays_down_whatever_our_resolver_does(settings, dead_resolver):
    with tcp_listener() as canary_port, tcp_listener() as silent_port:
        settings.PROBES_CANARIES = [f"127.0.0.1:{canary_port}"]
        settings.PROBES_DNS_NAMESERVERS = [dead_resolver.nameserver]
        result = check_probe(probe_for(f"http://127.0.0.1:{silent_port}/"))  # an address: no lookup
    assert (result.outcome, result.error) == (Outcome.DOWN, ErrorClass.TIMEOUT)
