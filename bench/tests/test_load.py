"""Reading wrk's summary: the soak's 10-minute run is written in minutes, not seconds."""

from __future__ import annotations

import pytest

from bench.load import parse_wrk

SOAK = """Running 10m test @ http://127.0.0.1:8106/api/v1/services/bench-intake/reports/
  2 threads and 16 connections
  216984 requests in 10.00m, 149.88MB read
Requests/sec:    361.60
"""
ERRORS = """  41234 requests in 20.01s, 30.1MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
"""


@pytest.mark.parametrize(
    ("out", "requests", "seconds", "bad", "sockets"),
    [
        (SOAK, 216984, 600.0, 0, 0),
        (ERRORS, 41234, 20.01, 7, 5),
        ("  812 requests in 812.50ms, 1MB read", 812, 0.8125, 0, 0),
    ],
)
def test_wrk_summaries_are_read_in_their_own_units(out, requests, seconds, bad, sockets):
    result = parse_wrk(out)
    assert (result.requests, result.non_2xx, result.socket_errors) == (requests, bad, sockets)
    assert result.seconds == pytest.approx(seconds)
    assert result.accepted == requests - bad


def test_an_unreadable_summary_says_so():
    with pytest.raises(RuntimeError, match="cannot read"):
        parse_wrk("connection refused")
