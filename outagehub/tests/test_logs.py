"""Log lines are JSON in production and carry no client address and no secret."""

from __future__ import annotations

import json
import logging
import logging.config

import pytest

from outagehub.logs import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("report from 81.2.69.142", "report from [address]"),
        ("peer 2001:db8::7 and [::1]:8000", "peer [address] and [[address]]:8000"),
        ("10.0.0.5:8080 refused", "[address]:8080 refused"),
        # Not addresses: times, versions, ids.
        ("at 16:45:00 celery 5.7.0 id 1.2.3.4.5", "at 16:45:00 celery 5.7.0 id 1.2.3.4.5"),
        ("beef:cafe is no address", "beef:cafe is no address"),
    ],
)
def test_redact_masks_addresses_and_nothing_else(text, expected):
    assert redact(text) == expected


def test_production_log_lines_are_json_without_addresses_or_secrets(settings, capsys):
    settings.SECRET_KEY = "a-very-secret-signing-key-0123456789"
    config = {**settings.LOGGING, "handlers": {**settings.LOGGING["handlers"]}}
    config["handlers"]["console"] = {**config["handlers"]["console"], "formatter": "json"}
    logging.config.dictConfig(config)
    try:
        try:
            raise ValueError(f"key {settings.SECRET_KEY} from 81.2.69.142")
        except ValueError:
            logging.getLogger("outagehub.test").exception("failed for %s", "2001:db8::1", extra={"task": "ingest"})
        line = capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        logging.config.dictConfig(settings.LOGGING)
    record = json.loads(line)
    assert record["level"] == "ERROR" and record["logger"] == "outagehub.test" and record["task"] == "ingest"
    assert record["message"] == "failed for [address]"
    assert record["time"].endswith("Z")
    assert "[secret]" in record["exc_info"] and "[address]" in record["exc_info"]
    assert settings.SECRET_KEY not in line and "81.2.69.142" not in line and "2001:db8::1" not in line


def test_production_settings_log_json_and_development_plain():
    import subprocess
    import sys

    def log_format(**env: str) -> str:
        code = "from django.conf import settings; print(settings.LOG_FORMAT)"
        base = {"DJANGO_SETTINGS_MODULE": "outagehub.settings", "SECRET_KEY": "x" * 50, "PATH": "/usr/bin:/bin"}
        result = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            env={**base, **env},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return result.stdout.strip()

    assert log_format(DEBUG="0") == "json"
    assert log_format(DEBUG="1") == "plain"
    assert log_format(DEBUG="0", OUTAGEHUB_LOG_FORMAT="plain") == "plain"
