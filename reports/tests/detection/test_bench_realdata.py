"""`manage.py bench_realdata`: fetches the labelled set once, then scores the detector on it."""

from __future__ import annotations

import datetime as dt
import io
import json
import random

from django.core.management import call_command

from probes.tests.servers import HttpStub, Reply, closed_port
from reports.management.commands.bench_realdata import LABELS, SERIES

START = dt.datetime(2015, 3, 1, 0, 2, 53)
FIVE = dt.timedelta(minutes=5)
ROWS = 6 * 288  # six days of 5-minute rows (the real files have eight weeks)


def small_set(seed: int = 1) -> tuple[dict[str, bytes], dict[str, list[list[str]]]]:
    """Ten chatter series; the first has a labelled two-hour x8 surge on day 5, the second a labelled nothing."""
    rng = random.Random(seed)
    files, labels = {}, {}
    surge = 5 * 288 + 100
    for k, relative in enumerate(SERIES):
        lines = ["timestamp,value"]
        for i in range(ROWS):
            value = round(rng.gammavariate(10, 1.0)) + (70 if k == 0 and surge <= i < surge + 24 else 0)
            lines.append(f"{START + i * FIVE:%Y-%m-%d %H:%M:%S},{value}")
        files[relative] = ("\n".join(lines) + "\n").encode()
        window = [START + (surge - 30) * FIVE, START + (surge + 60) * FIVE] if k < 2 else None
        labels[relative] = [[f"{t:%Y-%m-%d %H:%M:%S}.000000" for t in window]] if window else []
    return files, labels


def test_missing_data_is_fetched_once_then_scored_per_series_with_totals(tmp_path):
    files, labels = small_set()
    with HttpStub() as web:
        web.replies["/nab/" + LABELS] = Reply.json(labels)
        for relative, body in files.items():
            web.replies["/nab/" + relative] = Reply(body=body)
        out = io.StringIO()
        call_command("bench_realdata", "--dir", str(tmp_path), "--base-url", web.url("/nab/"), stdout=out)
        fetched = len(web.seen)
        call_command("bench_realdata", "--dir", str(tmp_path), "--base-url", web.url("/nab/"), stdout=io.StringIO())
        assert len(web.seen) == fetched == 11, "the second run reads the local copy"
    text = out.getvalue()
    assert json.loads((tmp_path / LABELS).read_text()) == labels
    assert "| AAPL | 1 | 1 | 1 | 0 | 100 % | 100 % |" in text
    assert "| AMZN | 1 | 0 | 0 | 0 | - | 0 % |" in text
    assert "| total | 2 | 1 | 1 | 0 | 100 % | 50 % |" in text
    assert "first 15% of each series are ignored" in text


def test_without_data_or_network_it_says_skipped_and_succeeds(tmp_path):
    out = io.StringIO()
    base = f"http://127.0.0.1:{closed_port()}/"
    call_command("bench_realdata", "--dir", str(tmp_path / "nab"), "--base-url", base, stdout=out)
    assert "bench_realdata skipped: the data is not in" in out.getvalue()
    assert not list((tmp_path / "nab").rglob("*.csv")), "no partial file is left behind"


def test_a_missing_file_on_the_server_is_a_skip_not_a_crash(tmp_path):
    _, labels = small_set()
    with HttpStub() as web:
        web.default = Reply(status=404, body=b"no")
        web.replies["/" + LABELS] = Reply.json(labels)
        out = io.StringIO()
        call_command("bench_realdata", "--dir", str(tmp_path), "--base-url", web.url("/"), stdout=out)
    assert "skipped" in out.getvalue() and "404" in out.getvalue()
