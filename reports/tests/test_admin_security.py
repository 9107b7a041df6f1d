"""The admin's door: a configurable path, and failed logins limited per client address."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "/admin/login/"


@pytest.fixture
def operator_account():
    return User.objects.create_superuser("operator", "op@example.com", "the-right-password-42")


def attempt(client: Client, password: str) -> int:
    return client.post(LOGIN, {"username": "operator", "password": password, "next": "/admin/"}).status_code


def test_failed_logins_are_limited_per_address_with_retry_after(settings, operator_account):
    settings.OUTAGEHUB_ADMIN_LOGIN_RATE_LIMIT = "3/hour"
    guesser = Client(REMOTE_ADDR="81.2.69.142")
    assert [attempt(guesser, f"guess-{i}") for i in range(3)] == [200, 200, 200]  # the form again, with an error
    refused = guesser.post(LOGIN, {"username": "operator", "password": "the-right-password-42"})
    assert refused.status_code == 429  # even the right password: no more guesses from here for now
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert not refused.wsgi_request.user.is_authenticated
    # Someone elsewhere is not locked out by it.
    assert attempt(Client(REMOTE_ADDR="81.2.70.1"), "the-right-password-42") == 302


def test_logins_that_work_do_not_use_up_the_limit(settings, operator_account):
    settings.OUTAGEHUB_ADMIN_LOGIN_RATE_LIMIT = "2/hour"
    for _ in range(5):
        operator = Client(REMOTE_ADDR="81.2.69.142")
        assert attempt(operator, "the-right-password-42") == 302
    assert attempt(Client(REMOTE_ADDR="81.2.69.142"), "wrong") == 200


def run_with_admin_path(path: str, *command: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DJANGO_SETTINGS_MODULE="outagehub.test", OUTAGEHUB_ADMIN_PATH=path)
    return subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_admin_answers_on_the_configured_path_only():
    code = (
        "from django.test import Client; from django.urls import reverse; c = Client();"
        "print(reverse('admin:index'), c.get('/ops/console-7f3a/login/').status_code,"
        " c.get('/admin/login/').status_code)"
    )
    result = run_with_admin_path("/ops/console-7f3a/", "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["/ops/console-7f3a/", "200", "404"]


def test_a_bad_admin_path_stops_the_process_naming_the_variable():
    result = run_with_admin_path("admin/../x", "check")
    assert result.returncode != 0
    assert "OUTAGEHUB_ADMIN_PATH must be a URL path" in result.stderr
