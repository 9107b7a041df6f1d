"""Production settings: refuse unsafe secrets, pass Django's deployment checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}}
    clean.update(env, DJANGO_SETTINGS_MODULE="outagehub.settings")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("secret", ["", "dev-insecure-outagehub-key-do-not-use-in-production"])
def test_production_refuses_to_start_without_a_real_secret_key(secret, tmp_path):
    result = manage("check", DEBUG="0", SECRET_KEY=secret, OUTAGEHUB_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    "deployment",
    [
        {},
        # Behind a TLS-terminating proxy, with the admin moved and the limits tightened.
        {
            "OUTAGEHUB_BEHIND_TLS_PROXY": "1",
            "OUTAGEHUB_TRUSTED_PROXIES": "10.0.0.0/8",
            "OUTAGEHUB_ADMIN_PATH": "ops/admin-4c1f/",
            "OUTAGEHUB_ADMIN_LOGIN_RATE_LIMIT": "5/hour",
            "OUTAGEHUB_MAX_BODY_BYTES": "32768",
        },
    ],
    ids=["direct", "behind a proxy"],
)
def test_deploy_check_is_clean_with_production_settings(tmp_path, deployment):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="a-long-random-production-secret-9f8e7d6c5b4a3928171605f4e3d2c1b0a",
        ALLOWED_HOSTS="outagehub.example",
        OUTAGEHUB_DATA_DIR=str(tmp_path),
        **deployment,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_bad_boolean_in_the_environment_is_named(tmp_path):
    result = manage("check", DEBUG="maybe", OUTAGEHUB_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("OUTAGEHUB_TRUSTED_PROXIES", "10.0.0.1/33", "is not an address or CIDR"),
        ("OUTAGEHUB_REPORT_RATE_LIMIT", "ten/min", "requests per s, min, hour or day"),
        ("OUTAGEHUB_REPORT_RATE_LIMIT", "10/week", "requests per s, min, hour or day"),
        ("OUTAGEHUB_READ_RATE_LIMIT", "600", "requests per s, min, hour or day"),
        ("OUTAGEHUB_REPORT_COOLDOWN_SECONDS", "-5", "must be 0 or more"),
        ("OUTAGEHUB_REPORTERS_PER_ADDRESS", "many", "must be an integer"),
        # A reset detector relearns 14 days from raw reports: they must outlive that.
        ("OUTAGEHUB_REPORT_RETENTION_DAYS", "7", "must be 0 (keep all) or at least 15"),
        ("OUTAGEHUB_REPORTERS_PER_NETWORK", "-1", "must be 0 or more"),
        ("OUTAGEHUB_NETWORK_REPORT_RATE_LIMIT", "300", "requests per s, min, hour or day"),
        ("OUTAGEHUB_ADMIN_LOGIN_RATE_LIMIT", "often", "requests per s, min, hour or day"),
        ("OUTAGEHUB_MAX_BODY_BYTES", "64k", "must be an integer"),
        ("OUTAGEHUB_ADMIN_PATH", "admin?x=1", "must be a URL path"),
    ],
)
def test_a_setting_that_would_fail_every_request_stops_the_process_instead(tmp_path, name, value, needle):
    # Read lazily, these passed `check --deploy` and then made every report a 500.
    result = manage("check", DEBUG="1", OUTAGEHUB_DATA_DIR=str(tmp_path), **{name: value})
    assert result.returncode != 0
    assert name in result.stderr and needle in result.stderr


def test_good_rates_and_proxies_are_accepted(tmp_path):
    result = manage(
        "check",
        DEBUG="1",
        OUTAGEHUB_DATA_DIR=str(tmp_path),
        OUTAGEHUB_TRUSTED_PROXIES="10.0.0.0/8, unix, 2001:db8::/32",
        OUTAGEHUB_REPORT_RATE_LIMIT="100/hour",
        OUTAGEHUB_READ_RATE_LIMIT="20/s",
    )
    assert result.returncode == 0, result.stderr


def test_ci_runs_on_postgresql_and_redis():
    """In CI the suite must not quietly fall back to SQLite and the file broker."""
    from django.conf import settings
    from django.db import connection

    from conftest import require

    require(os.environ.get("DATABASE_URL", "").startswith("postgres"), "DATABASE_URL (PostgreSQL)")
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL")
    assert connection.vendor == "postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis://")


@pytest.mark.django_db
def test_healthz_answers_ok_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
