from __future__ import annotations

import datetime as dt
import ipaddress

import pytest

from reports.identity import client_ip, parse_ip, reporter_hash, reporter_hashes

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))


def meta(remote: str, forwarded: str | None = None) -> dict[str, str]:
    data = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        data["HTTP_X_FORWARDED_FOR"] = forwarded
    return data


def test_socket_peer_is_the_client_without_trusted_proxies():
    assert client_ip(meta("81.2.69.142"), trusted=()) == ipaddress.ip_address("81.2.69.142")


def test_forwarded_for_from_an_untrusted_peer_is_ignored():
    assert client_ip(meta("81.2.69.142", "8.8.8.8"), trusted=PROXIES) == ipaddress.ip_address("81.2.69.142")


def test_forwarded_for_from_a_trusted_proxy_names_the_client():
    assert client_ip(meta("10.1.2.3", "8.8.8.8"), trusted=PROXIES) == ipaddress.ip_address("8.8.8.8")


def test_chain_of_trusted_proxies_is_skipped_from_the_right():
    forwarded = "8.8.8.8, 10.9.9.9, 10.8.8.8"
    assert client_ip(meta("10.1.2.3", forwarded), trusted=PROXIES) == ipaddress.ip_address("8.8.8.8")


def test_addresses_the_client_wrote_left_of_the_first_untrusted_hop_are_not_believed():
    # The client sent "X-Forwarded-For: 1.1.1.1" itself; our proxy appended its real address.
    forwarded = "1.1.1.1, 81.2.69.142"
    assert client_ip(meta("10.1.2.3", forwarded), trusted=PROXIES) == ipaddress.ip_address("81.2.69.142")


def test_garbage_in_forwarded_for_stops_at_the_last_readable_hop():
    assert client_ip(meta("10.1.2.3", "<script>, 10.4.4.4"), trusted=PROXIES) == ipaddress.ip_address("10.4.4.4")
    assert client_ip(meta("10.1.2.3", "not-an-ip"), trusted=PROXIES) == ipaddress.ip_address("10.1.2.3")


def test_ipv6_proxy_and_client():
    got = client_ip(meta("fd00::1", "2001:4860:4860::8888"), trusted=PROXIES)
    assert got == ipaddress.ip_address("2001:4860:4860::8888")


def test_ports_brackets_and_mapped_addresses_are_understood():
    assert parse_ip("[2001:db8::1]:443") == ipaddress.ip_address("2001:db8::1")
    assert parse_ip("81.2.69.142:5123") == ipaddress.ip_address("81.2.69.142")
    assert parse_ip("::ffff:81.2.69.142") == ipaddress.ip_address("81.2.69.142")
    assert parse_ip("") is None
    assert parse_ip("999.1.1.1") is None


def test_missing_remote_addr_gives_no_client():
    assert client_ip({}, trusted=PROXIES) is None


def test_trusted_proxies_come_from_settings(settings):
    settings.OUTAGEHUB_TRUSTED_PROXIES = ["192.0.2.0/24"]
    assert client_ip(meta("192.0.2.7", "8.8.8.8")) == ipaddress.ip_address("8.8.8.8")
    settings.OUTAGEHUB_TRUSTED_PROXIES = []
    assert client_ip(meta("192.0.2.7", "8.8.8.8")) == ipaddress.ip_address("192.0.2.7")


def test_reporter_hash_is_stable_within_a_day_and_differs_across_days():
    ip = ipaddress.ip_address("81.2.69.142")
    day = dt.date(2026, 11, 26)
    assert reporter_hash(ip, "ua", day) == reporter_hash(ip, "ua", day)
    assert reporter_hash(ip, "ua", day) != reporter_hash(ip, "ua", day + dt.timedelta(days=1))
    assert reporter_hash(ip, "ua", day) != reporter_hash(ip, "other ua", day)
    assert "81.2.69.142" not in reporter_hash(ip, "ua", day)
    assert len(reporter_hash(ip, "ua", day)) == 64


def test_reporter_hash_depends_on_the_secret(settings):
    ip = ipaddress.ip_address("81.2.69.142")
    day = dt.date(2026, 11, 26)
    before = reporter_hash(ip, "ua", day)
    settings.OUTAGEHUB_REPORTER_SALT_SECRET = "another secret"
    assert reporter_hash(ip, "ua", day) != before


@pytest.mark.parametrize(
    ("now", "days"),
    [
        (dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC), 1),
        (dt.datetime(2026, 11, 26, 0, 10, tzinfo=dt.UTC), 2),
    ],
)
def test_reporter_hashes_reach_back_into_yesterday_only_when_the_window_does(now, days):
    ip = ipaddress.ip_address("81.2.69.142")
    hashes = reporter_hashes(ip, "ua", now, dt.timedelta(minutes=15))
    assert len(hashes) == days
    assert hashes[0] == reporter_hash(ip, "ua", now.date())
