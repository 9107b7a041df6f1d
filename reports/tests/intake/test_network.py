"""Per-network counting: many addresses of one /24 (IPv4) or /48 (IPv6) count as a few reporters at most."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest

from catalog.tests.factories import make_service
from reports.intake.identity import client_network, network_key, network_slot_hashes
from reports.intake.services import ReportDraft, report_draft
from reports.models import Channel, NotCountedReason
from reports.tests.factories import file_report

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
ip = ipaddress.ip_address


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("81.2.69.142", "81.2.69.0/24"),
        ("81.2.69.1", "81.2.69.0/24"),
        ("2a00:1450:4001:81c::200e", "2a00:1450:4001::/48"),
        ("2a00:1450:4001:ffff:1::1", "2a00:1450:4001::/48"),
    ],
)
def test_a_client_network_is_its_ipv4_24_or_ipv6_48(address, network):
    assert client_network(ip(address)) == network


def test_an_unknown_client_has_no_network_and_no_slots():
    assert client_network(None) is None
    assert network_key(None) is None
    assert network_slot_hashes(None, NOON, 3) == []


def test_network_keys_and_slots_hold_no_address():
    key = network_key(ip("81.2.69.142"))
    slots = network_slot_hashes(ip("81.2.69.142"), NOON, 3)
    assert key == network_key(ip("81.2.69.7"))  # one network, one key
    assert key != network_key(ip("81.2.70.7"))
    assert not any("81.2.69" in value for value in [key, *slots])


def test_network_hashes_kept_per_network_still_follow_the_day_and_the_secret(settings):
    # They are computed once per network and reused; a new day or a new secret must give new ones.
    address = ip("81.2.69.142")
    today = network_slot_hashes(address, NOON, 3)
    assert network_slot_hashes(ip("81.2.69.7"), NOON, 3) == today
    assert network_slot_hashes(address, NOON, 2) == today[:2]
    assert set(network_slot_hashes(address, NOON + dt.timedelta(days=1), 3)).isdisjoint(today)
    key = network_key(address)
    settings.OUTAGEHUB_REPORTER_SALT_SECRET = "another secret, another set of keys" + "x" * 20
    assert network_key(address) != key
    assert set(network_slot_hashes(address, NOON, 3)).isdisjoint(today)


def test_addresses_of_one_network_count_as_at_most_the_cap_then_are_flagged(settings):
    settings.OUTAGEHUB_REPORTERS_PER_NETWORK = 3
    shop = make_service()
    reports = [file_report(shop, client=ip(f"81.2.69.{host}"), now=NOON) for host in range(1, 7)]
    assert [r.counted for r in reports] == [True] * 3 + [False] * 3
    assert [r.network_flagged for r in reports] == [False] * 3 + [True] * 3
    assert {r.not_counted_reason for r in reports[3:]} == {NotCountedReason.NETWORK_CAP}
    assert reports[3].counts_again_at == NOON + dt.timedelta(seconds=settings.OUTAGEHUB_REPORT_COOLDOWN_SECONDS)
    # Another network, another service, or the next cooldown: counted again.
    assert file_report(shop, client=ip("81.2.70.1"), now=NOON).counted
    assert file_report(make_service(slug="etsy"), client=ip("81.2.69.9"), now=NOON).counted
    later = NOON + dt.timedelta(seconds=settings.OUTAGEHUB_REPORT_COOLDOWN_SECONDS + 1)
    assert file_report(shop, client=ip("81.2.69.10"), now=later).counted


def test_ipv6_hosts_of_one_48_are_one_network(settings):
    settings.OUTAGEHUB_REPORTERS_PER_NETWORK = 2
    shop = make_service()
    subnets = [f"2a00:1450:4001:{n:x}::1" for n in range(1, 5)]  # four /64s: four addresses, one /48
    assert [file_report(shop, client=ip(a), now=NOON).counted for a in subnets] == [True, True, False, False]


def test_a_repeat_from_a_counted_reporter_is_a_cooldown_not_a_network_flag(settings):
    settings.OUTAGEHUB_REPORTERS_PER_NETWORK = 1
    shop = make_service()
    assert file_report(shop, client=ip("81.2.69.1"), now=NOON).counted
    again = file_report(shop, client=ip("81.2.69.1"), now=NOON + dt.timedelta(minutes=1))
    assert (again.counted, again.network_flagged, again.not_counted_reason) == (False, False, NotCountedReason.COOLDOWN)


def test_the_network_cap_can_be_turned_off(settings):
    settings.OUTAGEHUB_REPORTERS_PER_NETWORK = 0
    shop = make_service()
    assert all(file_report(shop, client=ip(f"81.2.69.{h}"), now=NOON).counted for h in range(1, 20))


def test_a_draft_queued_before_network_slots_existed_still_reads():
    draft = report_draft(service="tiktok-shop", issue_type_key="payment", channel=Channel.API, client=ip("81.2.69.1"))
    message = draft.to_message()
    assert len(message["network_slots"]) == 3
    del message["network_slots"], message["comment_state"]
    assert ReportDraft.from_message(message).network_slots == ()
