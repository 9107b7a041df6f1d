"""`manage.py backtest`: the fixed interface operators and we measure with."""

from __future__ import annotations

import datetime as dt
import io
import json
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def write_series(path, rows):
    path.write_text("timestamp,value\n" + "".join(f"{at:%Y-%m-%d %H:%M:%S},{v}\n" for at, v in rows))
    return path


def small_series():
    """Ten days of 5-minute counts around 10, and one hour at 70 starting at a known row."""
    rng = random.Random(3)
    start = dt.datetime(2026, 1, 1)
    rows = []
    for i in range(2880):
        value = max(0, round(rng.gauss(10, 3)))
        if 2500 <= i < 2512:
            value += 60
        rows.append((start + dt.timedelta(minutes=5 * i), value))
    return rows


def test_json_output_has_the_alert_and_the_outage(tmp_path):
    path = write_series(tmp_path / "s.csv", small_series())
    out = io.StringIO()
    call_command("backtest", str(path), "--json", stdout=out)
    result = json.loads(out.getvalue())
    spike = "2026-01-09 16:20:00"  # row 2500: the crowd alone needs 15 minutes (three rows) to say outage
    alert = "2026-01-09 16:30:00"
    assert result["interval_minutes"] == 5.0
    assert result["alerts"] == [alert]
    # The outage started where the surge began; the alert is when the crowd alone was sure.
    assert result["outages"] == [
        {"start": spike, "end": "2026-01-09 17:20:00", "peak": result["outages"][0]["peak"], "level": "outage"}
    ]
    assert all(
        p["level"] == "possible" and not (spike <= p["start"] <= "2026-01-09 17:20:00") for p in result["possible"]
    )
    assert "2026-01-09 16:20:00" <= result["outages"][0]["peak"] < "2026-01-09 17:20:00"


def test_the_detector_is_causal_later_rows_change_nothing_before_them(tmp_path):
    rows = small_series()
    full, cut = io.StringIO(), io.StringIO()
    call_command("backtest", str(write_series(tmp_path / "a.csv", rows)), "--json", stdout=full)
    call_command("backtest", str(write_series(tmp_path / "b.csv", rows[:2505])), "--json", stdout=cut)
    assert json.loads(full.getvalue())["alerts"][:1] == json.loads(cut.getvalue())["alerts"]


def test_readable_table_without_json(tmp_path):
    out = io.StringIO()
    call_command("backtest", str(write_series(tmp_path / "s.csv", small_series())), stdout=out)
    assert "every 5 min: 1 outage(s)" in out.getvalue()
    assert "outage    2026-01-09 16:20:00" in out.getvalue()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("time,count\n2026-01-01 00:00:00,1\n", "header"),
        ("timestamp,value\n2026-13-01 00:00:00,1\n", ":2:"),
        ("timestamp,value\n", "no rows"),
    ],
)
def test_bad_files_are_refused_with_the_line(tmp_path, text, needle):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(CommandError, match=needle):
        call_command("backtest", str(path), "--json")


def test_writes_nothing(tmp_path):
    # No database access is allowed in this test: the backtest must not need one for a file.
    out = io.StringIO()
    call_command("backtest", str(write_series(tmp_path / "s.csv", small_series())), "--json", stdout=out)
    assert json.loads(out.getvalue())["alerts"]


@pytest.mark.django_db
def test_service_history_backtest_finds_the_outage_the_tick_opened():
    from catalog.tests.factories import make_service
    from reports.detection.tick import detection_tick
    from reports.models import Outage
    from reports.tests.detection.test_tick import MINUTE, scenario

    shop = make_service()
    _, end = scenario(shop)
    detection_tick(service_id=shop.pk, now=end + MINUTE)
    live = Outage.objects.get()
    out = io.StringIO()
    call_command("backtest", "--service", "tiktok-shop", "--json", stdout=out)
    result = json.loads(out.getvalue())
    # The live outage is dated from where the surge began, like the backtest's; the alert is the
    # minute it opened (its "opened" event).
    opened = live.events.get(kind="opened").at
    assert result["outages"][0]["start"] == live.started_at.strftime("%Y-%m-%d %H:%M:%S")
    assert result["alerts"] == [opened.strftime("%Y-%m-%d %H:%M:%S")]
    with pytest.raises(CommandError, match="no active service"):
        call_command("backtest", "--service", "nope")


def test_half_hourly_rows_with_extra_columns_and_a_gap(tmp_path):
    # Public count series come half-hourly, with label columns, and with hours missing.
    rng = random.Random(4)
    start = dt.datetime(2026, 1, 5)
    lines = ["timestamp,value,label"]
    for i in range(21 * 48):
        if 300 <= i < 310:
            continue  # five hours without rows: no data, not zero reports
        at = start + dt.timedelta(minutes=30 * i)
        value = max(0, round(rng.gauss(500, 25))) + (2000 if 900 <= i < 904 else 0)
        lines.append(f"{at:%Y-%m-%d %H:%M:%S},{value},0")
    path = tmp_path / "half_hourly.csv"
    path.write_text("\n".join(lines) + "\n")
    out = io.StringIO()
    call_command("backtest", str(path), "--json", stdout=out)
    # Two half-hour rows before the crowd alone says outage.
    assert json.loads(out.getvalue())["alerts"] == [f"{start + dt.timedelta(minutes=30 * 901):%Y-%m-%d %H:%M:%S}"]
