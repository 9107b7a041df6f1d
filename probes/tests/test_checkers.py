"""Probe checks against real servers on 127.0.0.1.

Every check here passes allow_private=True, because the servers are on loopback: this file tests
what the checks conclude, not the private-address guard (outagehub/tests/test_outbound.py does,
including run_check refusing these same servers without allow_private).
"""

from __future__ import annotations

import datetime as dt

import pytest

from probes.checkers import CheckResult, run_check, split_host_port, validate_config
from probes.kinds import ErrorClass, Outcome
from probes.tests.servers import CertAuthority, DnsStub, HttpStub, Reply, closed_port, tcp_listener

MiB = 1024 * 1024


def check(kind: str, target: str, config: dict | None = None, timeout: float = 1.0, **options) -> CheckResult:
    return run_check(kind, target, config or {}, timeout=timeout, allow_private=True, **options)


@pytest.fixture
def web():
    with HttpStub() as stub:
        yield stub


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> CertAuthority:
    return CertAuthority(tmp_path_factory.mktemp("ca"))


# --- http ----------------------------------------------------------------------------------------


def test_http_200_is_up_with_status_and_latency(web):
    result = check("http", web.url("/"))

    assert (result.outcome, result.status_code, result.error) == (Outcome.UP, 200, ErrorClass.NONE)
    assert result.message == "status 200"
    assert 0 <= result.latency_ms < 1000


def test_http_request_carries_user_agent_headers_and_method(web):
    check("http", web.url("/"), {"method": "post", "headers": {"X-Probe": "yes"}})

    request = web.seen[0]
    assert request.method == "POST"
    assert request.headers["X-Probe"] == "yes"
    assert request.headers["User-Agent"].startswith("OutageHub-Probe/1.0")
    assert request.headers["Accept-Encoding"] == "identity"


def test_http_status_outside_default_range_is_down_naming_the_condition(web):
    web.default = Reply(status=503, body=b"busy")

    result = check("http", web.url("/"))

    assert (result.outcome, result.status_code, result.error) == (Outcome.DOWN, 503, ErrorClass.CONDITION)
    assert result.message == "status 503 not in 200-399"


@pytest.mark.parametrize(("status", "outcome"), [(204, Outcome.UP), (502, Outcome.UP), (404, Outcome.DOWN)])
def test_http_expect_status_mixes_codes_and_ranges(web, status, outcome):
    web.default = Reply(status=status, body=b"")

    result = check("http", web.url("/"), {"expect_status": [204, "500-503"]})

    assert result.outcome == outcome
    if outcome == Outcome.DOWN:
        assert result.message == "status 404 not in 204, 500-503"


def test_http_slow_answer_is_degraded(web):
    web.default = Reply(delay=0.3)

    result = check("http", web.url("/"), {"degraded_ms": 100})

    assert (result.outcome, result.error) == (Outcome.DEGRADED, ErrorClass.NONE)
    assert result.latency_ms >= 300
    assert "over 100 ms" in result.message


def test_http_fast_answer_under_degraded_ms_is_up(web):
    assert check("http", web.url("/"), {"degraded_ms": 900}).outcome == Outcome.UP


def test_http_body_contains(web):
    web.default = Reply(body=b"all systems OK")

    assert check("http", web.url("/"), {"body_contains": "OK"}).outcome == Outcome.UP
    result = check("http", web.url("/"), {"body_contains": "operational"})
    assert (result.outcome, result.error, result.message) == (
        Outcome.DOWN,
        ErrorClass.CONDITION,
        "body lacks 'operational'",
    )


def test_http_body_not_contains(web):
    web.default = Reply(body=b"partial outage")

    assert check("http", web.url("/"), {"body_not_contains": "major"}).outcome == Outcome.UP
    result = check("http", web.url("/"), {"body_not_contains": "outage"})
    assert (result.outcome, result.message) == (Outcome.DOWN, "body contains 'outage'")


STATUS_PAGE = {"status": {"indicator": "none"}, "components": [{"status": "operational"}], "ok": True}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"json_path": "status.indicator", "json_equals": "none"}, None),
        ({"json_path": "components.0.status", "json_equals": "operational"}, None),
        ({"json_path": "ok", "json_equals": True}, None),
        ({"json_path": "status"}, None),
        (
            {"json_path": "status.indicator", "json_equals": "major"},
            'JSON status.indicator is "none", expected "major"',
        ),
        ({"json_path": "ok", "json_equals": 1}, "JSON ok is true, expected 1"),
        ({"json_path": "components.1.status"}, "JSON has no components.1.status"),
        ({"json_path": "status.missing", "json_equals": None}, "JSON has no status.missing"),
    ],
)
def test_http_json_path(web, config, message):
    web.default = Reply.json(STATUS_PAGE)

    result = check("http", web.url("/"), config)

    assert result.outcome == (Outcome.UP if message is None else Outcome.DOWN)
    if message:
        assert (result.error, result.message) == (ErrorClass.CONDITION, message)


def test_http_json_path_on_a_body_that_is_not_json_is_down(web):
    result = check("http", web.url("/"), {"json_path": "status"})

    assert (result.outcome, result.error) == (Outcome.DOWN, ErrorClass.CONDITION)
    assert result.message.startswith("body is not JSON")


def test_http_redirects_are_followed_across_servers(web):
    with HttpStub() as other:
        other.default = Reply(body=b"arrived")
        web.replies["/a"] = Reply.redirect("/b", status=301)
        web.replies["/b"] = Reply.redirect(other.url("/final"))

        result = check("http", web.url("/a"), {"body_contains": "arrived"})

        assert (result.outcome, result.status_code) == (Outcome.UP, 200)
        assert [r.path for r in web.seen] == ["/a", "/b"]
        assert [r.path for r in other.seen] == ["/final"]


def test_http_redirect_loop_beyond_max_redirects_is_down_protocol(web):
    web.replies["/loop"] = Reply.redirect("/loop")

    result = check("http", web.url("/loop"), {"max_redirects": 3})

    assert (result.outcome, result.error, result.message) == (
        Outcome.DOWN,
        ErrorClass.PROTOCOL,
        "more than 3 redirects",
    )
    assert len(web.seen) == 4  # the first request and three redirects


def test_http_max_redirects_zero_checks_the_redirect_itself(web):
    web.replies["/old"] = Reply.redirect("/new", status=301)

    assert check("http", web.url("/old"), {"max_redirects": 0}).status_code == 301
    assert check("http", web.url("/old"), {"max_redirects": 0, "expect_status": [200]}).outcome == Outcome.DOWN
    assert [r.path for r in web.seen] == ["/old", "/old"]


def test_http_large_redirect_body_is_not_read_in_full(web):
    web.replies["/r"] = Reply(status=302, headers={"Location": "/"}, stream_bytes=50 * MiB)

    assert check("http", web.url("/r"), timeout=2).outcome == Outcome.UP
    assert web.seen[0].done.wait(5)
    assert web.seen[0].sent < 8 * MiB


def test_http_body_is_read_only_up_to_max_body_bytes(web):
    web.default = Reply(stream_bytes=50 * MiB)

    result = check("http", web.url("/"), {"max_body_bytes": 64 * 1024, "body_contains": "xxx"}, timeout=2)

    assert result.outcome == Outcome.UP
    assert web.seen[0].done.wait(5), "the server should stop writing once the client hangs up"
    # Socket buffers let the server get a little ahead of the client, nowhere near 50 MiB.
    assert web.seen[0].sent < 8 * MiB


def test_http_conditions_see_only_the_truncated_body(web):
    web.default = Reply(body=b"a" * 100_000 + b"NEEDLE")

    result = check("http", web.url("/"), {"max_body_bytes": 50_000, "body_contains": "NEEDLE"})

    assert (result.outcome, result.message) == (Outcome.DOWN, "body lacks 'NEEDLE'")


def test_http_server_that_never_answers_is_down_timeout(web):
    web.default = Reply(hang=True)

    result = check("http", web.url("/"), timeout=0.5)

    assert (result.outcome, result.error, result.message) == (Outcome.DOWN, ErrorClass.TIMEOUT, "timeout after 0.5 s")
    assert 450 <= result.latency_ms < 1500


def test_http_trickling_body_is_cut_off_at_the_check_timeout(web):
    # Each chunk comes well within the read timeout; only the whole-check deadline stops this.
    web.default = Reply(stream_bytes=MiB, chunk_delay=0.1)

    result = check("http", web.url("/"), timeout=0.5)

    assert (result.outcome, result.error) == (Outcome.DOWN, ErrorClass.TIMEOUT)
    assert result.latency_ms < 1500


def test_http_refused_port_is_down_refused():
    result = check("http", f"http://127.0.0.1:{closed_port()}/")

    assert (result.outcome, result.error, result.message) == (Outcome.DOWN, ErrorClass.REFUSED, "connection refused")


def test_http_unresolvable_name_is_down_dns():
    result = check("http", "http://nonexistent.invalid/", timeout=2)

    assert (result.outcome, result.error) == (Outcome.DOWN, ErrorClass.DNS)
    assert result.message.startswith("DNS lookup failed")


def test_http_names_are_resolved_with_the_given_nameservers(web):
    with DnsStub({("status.test", "A"): ["127.0.0.1"]}) as stub:
        result = check("http", web.url("/", host="status.test"), nameservers=[stub.nameserver])

    assert result.outcome == Outcome.UP
    assert web.seen[0].headers["Host"] == f"status.test:{web.port}"


def test_https_with_a_trusted_certificate_is_up(ca):
    with HttpStub(tls=ca.server_context()) as site:
        result = check("http", site.url("/", host="localhost"), ca_file=str(ca.pem_path))

    assert (result.outcome, result.status_code) == (Outcome.UP, 200)
    assert site.sni == ["localhost"]


def test_https_with_an_untrusted_certificate_is_down_tls(ca):
    with HttpStub(tls=ca.server_context()) as site:
        result = check("http", site.url("/", host="localhost"))  # system CAs: ours is unknown

    assert (result.outcome, result.error) == (Outcome.DOWN, ErrorClass.TLS)
    assert "certificate" in result.message


def test_https_with_an_expired_certificate_is_down_tls(ca):
    with HttpStub(tls=ca.server_context(expires_in=-dt.timedelta(days=1))) as site:
        result = check("http", site.url("/", host="localhost"), ca_file=str(ca.pem_path))

    assert (result.outcome, result.error, result.message) == (
        Outcome.DOWN,
        ErrorClass.TLS,
        "TLS: certificate has expired",
    )


# --- tcp -----------------------------------------------------------------------------------------


def test_tcp_open_port_is_up():
    with tcp_listener() as port:
        result = check("tcp", f"localhost:{port}")

    assert (result.outcome, result.error) == (Outcome.UP, ErrorClass.NONE)
    assert result.message == f"connected to 127.0.0.1 port {port}"


def test_tcp_closed_port_is_down_refused():
    result = check("tcp", f"127.0.0.1:{closed_port()}")

    assert (result.outcome, result.error) == (Outcome.DOWN, ErrorClass.REFUSED)


def test_tcp_unresolvable_name_is_down_dns():
    assert check("tcp", "nonexistent.invalid:443", timeout=2).error == ErrorClass.DNS


# --- dns -----------------------------------------------------------------------------------------

ZONE = {
    ("example.test", "A"): ["192.0.2.10", "192.0.2.11"],
    ("example.test", "AAAA"): ["2001:db8::1"],
    ("example.test", "MX"): ["10 mail.example.test."],
    ("example.test", "TXT"): ['"v=spf1 -all"'],
    ("www.example.test", "CNAME"): ["example.test."],
}


@pytest.fixture
def zone():
    with DnsStub(ZONE) as stub:
        yield stub


def dns_check(stub: DnsStub, target: str, config: dict | None = None, timeout: float = 1.0) -> CheckResult:
    return check("dns", target, config, timeout=timeout, nameservers=[stub.nameserver])


def test_dns_a_record_resolves_up(zone):
    result = dns_check(zone, "example.test")

    assert (result.outcome, result.message) == (Outcome.UP, "A 192.0.2.10, 192.0.2.11")
    assert zone.queries == [("example.test.", "A")]


@pytest.mark.parametrize(
    ("config", "up"),
    [
        ({"expected": "192.0.2.11"}, True),
        ({"expected": ["192.0.2.99", "192.0.2.10"]}, True),
        ({"expected": "192.0.2.99"}, False),
        ({"record_type": "AAAA", "expected": "2001:0db8:0:0:0:0:0:1"}, True),
        ({"record_type": "MX", "expected": "mail.example.test"}, True),
        ({"record_type": "MX", "expected": "10 MAIL.example.test."}, True),
        ({"record_type": "TXT", "expected": "v=spf1 -all"}, True),
        ({"record_type": "TXT", "expected": "v=spf1 +all"}, False),
    ],
)
def test_dns_expected_answers(zone, config, up):
    result = dns_check(zone, "example.test", config)

    assert result.outcome == (Outcome.UP if up else Outcome.DOWN)
    if not up:
        assert result.error == ErrorClass.CONDITION
        assert "has none of" in result.message


def test_dns_cname_matches_without_the_final_dot(zone):
    result = dns_check(zone, "www.example.test", {"record_type": "cname", "expected": "example.test"})

    assert (result.outcome, result.message) == (Outcome.UP, "CNAME example.test")


def test_dns_nxdomain_is_down_dns(zone):
    result = dns_check(zone, "missing.example.test")

    assert (result.outcome, result.error) == (Outcome.DOWN, ErrorClass.DNS)
    assert "NXDOMAIN" in result.message


def test_dns_name_without_records_of_the_type_is_down_dns(zone):
    result = dns_check(zone, "www.example.test", {"record_type": "A"})

    assert (result.outcome, result.error, result.message) == (
        Outcome.DOWN,
        ErrorClass.DNS,
        "www.example.test has no A records",
    )


def test_dns_silent_nameserver_is_down_timeout(zone):
    zone.drop = True

    result = dns_check(zone, "example.test", timeout=0.5)

    assert (result.outcome, result.error, result.message) == (
        Outcome.DOWN,
        ErrorClass.TIMEOUT,
        "no DNS answer after 0.5 s",
    )
    assert result.latency_ms < 1500


# --- tls -----------------------------------------------------------------------------------------


def tls_check(ca: CertAuthority, site: HttpStub, host: str = "localhost", config: dict | None = None) -> CheckResult:
    return check("tls", f"{host}:{site.port}", config, ca_file=str(ca.pem_path))


def test_tls_certificate_valid_for_months_is_up(ca):
    with HttpStub(tls=ca.server_context(expires_in=dt.timedelta(days=90, hours=1))) as site:
        result = tls_check(ca, site)

    assert (result.outcome, result.message) == (Outcome.UP, "certificate expires in 90 days")
    assert site.sni == ["localhost"]


def test_tls_certificate_for_an_address_target_is_up(ca):
    with HttpStub(tls=ca.server_context()) as site:
        assert tls_check(ca, site, host="127.0.0.1").outcome == Outcome.UP


def test_tls_certificate_expiring_within_min_days_is_degraded(ca):
    with HttpStub(tls=ca.server_context(expires_in=dt.timedelta(days=3, hours=1))) as site:
        result = tls_check(ca, site)
        assert tls_check(ca, site, config={"min_days": 2}).outcome == Outcome.UP

    assert (result.outcome, result.error, result.message) == (
        Outcome.DEGRADED,
        ErrorClass.NONE,
        "certificate expires in 3 days",
    )


def test_tls_expired_certificate_is_down_and_says_when(ca):
    expired = dt.timedelta(days=-1)
    with HttpStub(tls=ca.server_context(expires_in=expired)) as site:
        result = tls_check(ca, site)

    assert (result.outcome, result.error) == (Outcome.DOWN, ErrorClass.TLS)
    yesterday = dt.datetime.now(dt.UTC) + expired
    assert result.message.startswith(f"certificate expired on {yesterday:%Y-%m-%d}")


def test_tls_certificate_for_another_host_is_down(ca):
    with HttpStub(tls=ca.server_context(hosts=("example.org",))) as site:
        result = tls_check(ca, site)

    assert (result.outcome, result.error, result.message) == (
        Outcome.DOWN,
        ErrorClass.TLS,
        "certificate is not valid for localhost",
    )


def test_tls_certificate_from_an_untrusted_ca_is_down(ca, tmp_path):
    stranger = CertAuthority(tmp_path, name="Stranger CA")
    with HttpStub(tls=stranger.server_context()) as site:
        result = tls_check(ca, site)

    assert (result.outcome, result.error) == (Outcome.DOWN, ErrorClass.TLS)
    assert result.message.startswith("certificate not trusted: ")


def test_tls_against_a_plain_tcp_server_is_down_timeout():
    with tcp_listener() as port:
        result = check("tls", f"127.0.0.1:{port}", timeout=0.5)

    assert (result.outcome, result.error) == (Outcome.DOWN, ErrorClass.TIMEOUT)


def test_tls_refused_port_is_down_refused():
    assert check("tls", f"127.0.0.1:{closed_port()}").error == ErrorClass.REFUSED


# --- targets and config validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "default", "expected"),
    [
        ("example.com:443", None, ("example.com", 443)),
        ("example.com", 443, ("example.com", 443)),
        ("[::1]:8443", None, ("::1", 8443)),
        ("[2001:db8::1]", 443, ("2001:db8::1", 443)),
        ("192.0.2.1:25", 443, ("192.0.2.1", 25)),
    ],
)
def test_split_host_port(target, default, expected):
    assert split_host_port(target, default) == expected


@pytest.mark.parametrize(
    ("target", "default"),
    [("example.com", None), ("2001:db8::1:443", None), ("example.com:0", None), ("https://example.com", 443), ("", 1)],
)
def test_split_host_port_rejects(target, default):
    with pytest.raises(ValueError):
        split_host_port(target, default)


@pytest.mark.parametrize(
    ("kind", "target", "config"),
    [
        ("http", "https://example.com/health", {}),
        (
            "http",
            "http://example.com/",
            {
                "method": "HEAD",
                "headers": {"Accept": "text/html"},
                "expect_status": [200, "300-399"],
                "degraded_ms": 2000,
                "max_redirects": 0,
                "max_body_bytes": 1000,
            },
        ),
        ("http", "https://example.com/", {"json_path": "status.indicator", "json_equals": None, "body_contains": "x"}),
        ("tcp", "example.com:5432", {}),
        ("tcp", "[2001:db8::1]:443", {}),
        ("dns", "example.com", {"record_type": "mx", "expected": ["mail.example.com"]}),
        ("tls", "example.com", {"min_days": 30}),
    ],
)
def test_validate_config_accepts_valid_probes(kind, target, config):
    assert validate_config(kind, target, config) == {}


@pytest.mark.parametrize(
    ("kind", "target", "config", "errors"),
    [
        ("ping", "example.com", {}, {"kind": ["unknown kind 'ping'; one of http, tcp, dns, tls"]}),
        ("tcp", "example.com:80", {"timeout": 3}, {"timeout": ["unknown tcp option; allowed: none"]}),
        ("tls", "example.com", {"days": 3}, {"days": ["unknown tls option; allowed: min_days"]}),
        ("tls", "example.com", [], {"config": ["must be a JSON object"]}),
        ("tcp", "example.com", {}, {"target": ["a port is required, e.g. example.com:443"]}),
        ("http", "ftp://example.com/", {}, {"target": ["expected an http:// or https:// URL with a host"]}),
        ("dns", "exa mple.com", {}, {"target": ["expected a host name, e.g. example.com"]}),
        (
            "http",
            "https://example.com/",
            {"expect_status": ["2xx"]},
            {"expect_status": ["'2xx' is neither a status code nor a range like \"200-299\""]},
        ),
        (
            "http",
            "https://example.com/",
            {"expect_status": ["399-200"]},
            {"expect_status": ["'399-200' is not within 100-599 (low to high)"]},
        ),
        ("http", "https://example.com/", {"degraded_ms": True}, {"degraded_ms": ["an integer from 1 to 3600000"]}),
        ("http", "https://example.com/", {"json_equals": 1}, {"json_equals": ["needs json_path"]}),
        (
            "http",
            "https://example.com/",
            {"json_path": "a..b"},
            {"json_path": ['a dotted path without empty parts, e.g. "status.indicator"']},
        ),
        (
            "http",
            "https://example.com/",
            {"method": "HEAD", "body_contains": "x"},
            {"method": ["HEAD returns no body to check body_contains against"]},
        ),
        (
            "http",
            "https://example.com/",
            {"headers": {"X": "a\r\nInjected: 1"}},
            {"headers": ["an object of header names to single-line string values"]},
        ),
        ("dns", "example.com", {"record_type": "SRV"}, {"record_type": ["one of A, AAAA, CNAME, MX, NS, TXT"]}),
        ("tls", "example.com", {"min_days": -1}, {"min_days": ["an integer from 0 to 3650"]}),
    ],
)
def test_validate_config_reports_each_problem_by_field(kind, target, config, errors):
    assert validate_config(kind, target, config) == errors


def test_validate_config_lists_allowed_options_for_an_unknown_key():
    errors = validate_config("http", "https://example.com/", {"expect": 200})

    assert errors == {
        "expect": [
            "unknown http option; allowed: body_contains, body_not_contains, degraded_ms, expect_status, headers, "
            "json_equals, json_path, max_body_bytes, max_redirects, method"
        ]
    }


def test_run_check_refuses_an_invalid_probe():
    with pytest.raises(ValueError, match="invalid tcp probe: target: a port is required"):
        check("tcp", "example.com")


def test_tls_certificate_not_yet_valid_is_down(ca):
    with HttpStub(tls=ca.server_context(expires_in=dt.timedelta(days=30), valid_for=dt.timedelta(days=20))) as site:
        result = tls_check(ca, site)

    assert (result.outcome, result.error, result.message) == (
        Outcome.DOWN,
        ErrorClass.TLS,
        "certificate is not yet valid",
    )
