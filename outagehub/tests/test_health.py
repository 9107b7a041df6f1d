"""/healthz and /readyz answer whatever Host a health checker sends; nothing else does."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_domain(settings):
    # As in production behind a proxy; Compose's health check still asks for 127.0.0.1:8000.
    settings.ALLOWED_HOSTS = ["outagehub.example"]
    settings.DEBUG = False
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "10.0.3.7", "outagehub.example"])
def test_healthz_answers_whatever_the_host_header(real_domain, host):
    response = real_domain.get("/healthz", HTTP_HOST=host)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/", "/api/v1/services/", "/healthz/", "/healthzz"])
def test_other_paths_still_refuse_a_host_not_allowed(real_domain, path):
    assert real_domain.get(path, HTTP_HOST="127.0.0.1:8000").status_code == 400


def test_healthz_is_get_only(real_domain):
    assert real_domain.post("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 405


def test_healthz_is_not_redirected_to_https(settings, real_domain):
    settings.SECURE_SSL_REDIRECT = True
    assert real_domain.get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 200


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "outagehub.example"])
def test_readyz_answers_ok_whatever_the_host_when_database_and_broker_answer(real_domain, host):
    response = real_domain.get("/readyz", HTTP_HOST=host)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}, "down": []}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_names_the_broker_when_it_does_not_answer(settings, real_domain):
    # Nothing listens on that port: a real refused connection, as when Redis is stopped.
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = real_domain.get("/readyz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "unreachable"},
        "down": ["broker"],
    }
    assert response["Retry-After"] == "10"


def test_readyz_is_get_only_and_not_redirected_to_https(settings, real_domain):
    settings.SECURE_SSL_REDIRECT = True
    assert real_domain.get("/readyz", HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert real_domain.post("/readyz", HTTP_HOST="127.0.0.1:8000").status_code == 405
