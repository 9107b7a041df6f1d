from __future__ import annotations

import datetime as dt
import ipaddress
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.intake import identity
from reports.intake.identity import address_key, client_ip, parse_ip, reporter_hash, reporter_hashes

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


@pytest.fixture
def unknown_client_warning(caplog):
    """The warning about requests without a client address, not yet given in this process."""
    identity._warned_unknown_client.clear()
    caplog.set_level(logging.WARNING, logger="reports.intake.identity")
    yield caplog
    identity._warned_unknown_client.clear()


@pytest.mark.parametrize("remote", ["", "unix:/run/gunicorn.sock", "unix:"])
def test_a_unix_socket_peer_listed_as_trusted_names_the_client_in_forwarded_for(settings, remote):
    settings.OUTAGEHUB_TRUSTED_PROXIES = ["unix", "10.0.0.0/8"]
    assert client_ip(meta(remote, "1.1.1.1, 8.8.8.8")) == ipaddress.ip_address("8.8.8.8")
    assert client_ip(meta(remote, "8.8.8.8, 10.0.0.5")) == ipaddress.ip_address("8.8.8.8")
    assert client_ip(meta("10.0.0.2", "8.8.4.4")) == ipaddress.ip_address("8.8.4.4")


def test_a_unix_socket_peer_not_listed_is_no_client_and_its_forwarded_for_is_ignored(settings):
    settings.OUTAGEHUB_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(meta("", "8.8.8.8")) is None
    assert client_ip(meta("unix:/run/gunicorn.sock", "8.8.8.8")) is None


def test_a_request_without_a_client_address_is_logged_once_without_any_address(settings, unknown_client_warning):
    settings.OUTAGEHUB_TRUSTED_PROXIES = ["unix"]
    assert client_ip(meta("", "not-an-ip")) is None
    assert client_ip(meta("")) is None
    assert client_ip(meta("81.2.69.142")) == ipaddress.ip_address("81.2.69.142")
    warnings = [r for r in unknown_client_warning.records if r.name == "reports.intake.identity"]
    assert len(warnings) == 1
    assert "OUTAGEHUB_TRUSTED_PROXIES" in warnings[0].getMessage()
    assert "81.2.69.142" not in unknown_client_warning.text


def test_a_known_client_logs_nothing(unknown_client_warning):
    client_ip(meta("81.2.69.142"), trusted=PROXIES)
    assert unknown_client_warning.records == []


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


def test_ipv6_clients_are_keyed_on_their_64_and_ipv4_clients_on_their_address():
    day = dt.date(2026, 11, 26)
    same_host = [ipaddress.ip_address(a) for a in ("2001:4860:1:2::1", "2001:4860:1:2:a0b:c0d:e0f:1011")]
    other = ipaddress.ip_address("2001:4860:1:3::1")
    assert address_key(same_host[0]) == address_key(same_host[1]) != address_key(other)
    assert reporter_hash(same_host[0], "ua", day) == reporter_hash(same_host[1], "ua", day)
    assert reporter_hash(same_host[0], "ua", day) != reporter_hash(other, "ua", day)
    v4 = [ipaddress.ip_address(a) for a in ("81.2.69.142", "81.2.69.143")]
    assert address_key(v4[0]) != address_key(v4[1])
    assert reporter_hash(v4[0], "ua", day) != reporter_hash(v4[1], "ua", day)


# The report path derives networks and hashes by cheaper means than ipaddress and hmac.new; the
# keys they name live in Redis and the database across deploys, so they must not change.
@given(st.ip_addresses())
def test_networks_are_named_as_ipaddress_names_them(ip):
    prefix = identity.IPV6_NETWORK_PREFIX if ip.version == 6 else identity.IPV4_NETWORK_PREFIX
    assert identity.client_network(ip) == str(ipaddress.ip_network((ip, prefix), strict=False))
    if ip.version == 6:
        expected = str(ipaddress.IPv6Network((ip, identity.IPV6_CLIENT_PREFIX), strict=False))
        assert identity.client_subject(ip) == expected


@given(st.ip_addresses(), st.text(max_size=40))
def test_keys_are_the_keyed_sha256_of_their_subject(ip, user_agent):
    import hashlib
    import hmac

    from django.conf import settings

    day = dt.date(2026, 12, 6)
    secret = settings.OUTAGEHUB_REPORTER_SALT_SECRET.encode()
    salt = hmac.new(secret, f"outagehub-reporter-salt:{day.isoformat()}".encode(), hashlib.sha256).digest()
    assert identity.daily_salt(day) == salt
    message = f"{identity.client_subject(ip)}\n{user_agent[:512]}".encode("utf-8", "replace")
    assert reporter_hash(ip, user_agent, day) == hmac.new(salt, message, hashlib.sha256).hexdigest()
    expected_key = hmac.new(secret, f"ratelimit:{identity.client_subject(ip)}".encode(), hashlib.sha256)
    assert address_key(ip) == expected_key.hexdigest()[:32]


# parse_ip reads a bare IPv4 address with inet_pton: it must take exactly what ipaddress takes.
ipv4ish = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.lists(st.text(alphabet="0123456789", min_size=0, max_size=4), min_size=1, max_size=5).map(".".join),
    st.text(alphabet="0123456789.x :\t\0\u0661", max_size=18),  # with a non-ASCII digit
)


@given(ipv4ish)
def test_an_ipv4_address_is_parsed_as_ipaddress_parses_it(text):
    try:
        expected = ipaddress.ip_address(text.strip())
    except ValueError:
        expected = None
    if ":" not in text:  # no port or IPv6 form: nothing else for parse_ip to take apart
        assert parse_ip(text) == expected
