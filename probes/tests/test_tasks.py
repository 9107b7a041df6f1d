"""Scheduling and running checks through the Celery tasks, against real loopback servers."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from catalog.tests.factories import make_service
from outagehub.celery import app as celery_app
from probes.kinds import ErrorClass, Outcome, ProbeState
from probes.models import TIMEOUT_MAX_SECONDS, Probe, ProbeResult
from probes.runner import check_probe
from probes.tasks import probes_enqueue_due, probes_run_check
from probes.tests.servers import HttpStub, Reply, closed_port, tcp_listener

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    """Tasks run in-process when sent (the topology test covers real workers)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _loopback(loopback_allowed):
    """Every test here probes loopback servers."""


@pytest.fixture
def online(settings):
    with tcp_listener() as port:
        settings.PROBES_CANARIES = [f"127.0.0.1:{port}"]
        yield


def probe_for(url: str, **kwargs) -> Probe:
    defaults = {"name": "homepage", "kind": "http", "target": url, "timeout_seconds": 2.0}
    return Probe.objects.create(service=make_service(), **(defaults | kwargs))


def test_due_probe_is_enqueued_checked_and_recorded(eager, online):
    with HttpStub() as web:
        web.replies["/"] = Reply(200, b"welcome")
        probe = probe_for(web.url("/"), config={"body_contains": "welcome"})
        assert probes_enqueue_due() == 1
    result = ProbeResult.objects.get(probe=probe)
    assert (result.region, result.outcome, result.status_code) == ("local", Outcome.UP, 200)
    probe.refresh_from_db()
    assert probe.state == ProbeState.UP
    assert probes_enqueue_due() == 0  # not due again before its interval


def test_failing_service_goes_down_after_the_threshold(eager, online):
    with HttpStub() as web:
        web.replies["/"] = Reply(503, b"maintenance")
        probe = probe_for(web.url("/"), failure_threshold=2)
        for slot in ("2026-11-26T12:00:00+00:00", "2026-11-26T12:01:00+00:00"):
            probes_run_check(probe.pk, "local", slot)
    probe.refresh_from_db()
    assert probe.state == ProbeState.DOWN
    assert set(ProbeResult.objects.values_list("error", flat=True)) == {ErrorClass.CONDITION}


def test_a_redelivered_check_runs_once(eager, online):
    with HttpStub() as web:
        probe = probe_for(web.url("/"))
        slot = "2026-11-26T12:00:00+00:00"
        assert probes_run_check(probe.pk, "local", slot) == Outcome.UP
        assert probes_run_check(probe.pk, "local", slot) is None
        assert len(web.seen) == 1
    assert ProbeResult.objects.count() == 1


def test_failures_while_we_are_offline_are_inconclusive_not_down(settings, eager):
    settings.PROBES_CANARIES = [f"127.0.0.1:{closed_port()}", f"127.0.0.1:{closed_port()}"]
    probe = probe_for(f"http://127.0.0.1:{closed_port()}/", failure_threshold=1)
    probes_run_check(probe.pk, "local", "2026-11-26T12:00:00+00:00")
    result = ProbeResult.objects.get()
    assert (result.outcome, result.error) == (Outcome.INCONCLUSIVE, ErrorClass.OFFLINE)
    assert "refused" in result.message.lower()
    probe.refresh_from_db()
    assert probe.state == ProbeState.UNKNOWN


def test_a_network_that_accepts_any_connection_but_answers_nothing_is_offline(settings):
    # Sandboxes and some firewalls complete every TCP handshake: URL canaries see through that.
    with tcp_listener() as sinkhole:
        settings.PROBES_CANARIES = [f"http://127.0.0.1:{sinkhole}/generate_204"]
        probe = probe_for(f"http://127.0.0.1:{closed_port()}/", timeout_seconds=0.5)
        result = check_probe(probe)
    assert (result.outcome, result.error) == (Outcome.INCONCLUSIVE, ErrorClass.OFFLINE)


def test_a_url_canary_that_answers_means_online(settings):
    with HttpStub() as canary:
        canary.replies["/generate_204"] = Reply(204, b"")
        settings.PROBES_CANARIES = [canary.url("/generate_204")]
        result = check_probe(probe_for(f"http://127.0.0.1:{closed_port()}/"))
    assert (result.outcome, result.error) == (Outcome.DOWN, ErrorClass.REFUSED)


def test_the_same_failure_with_our_network_up_is_down(online):
    probe = probe_for(f"http://127.0.0.1:{closed_port()}/")
    result = check_probe(probe)
    assert (result.outcome, result.error) == (Outcome.DOWN, ErrorClass.REFUSED)


def test_without_allow_private_a_loopback_target_is_refused_not_down(settings, online):
    settings.PROBES_ALLOW_PRIVATE = False
    with HttpStub() as web:
        result = check_probe(probe_for(web.url("/")))
        assert web.seen == []
    assert (result.outcome, result.error) == (Outcome.INCONCLUSIVE, ErrorClass.BLOCKED)


def test_a_broken_definition_is_inconclusive(online):
    probe = probe_for("not a url")
    result = check_probe(probe)
    assert (result.outcome, result.error) == (Outcome.INCONCLUSIVE, ErrorClass.CONFIG)


def test_a_check_task_has_time_limits_above_the_longest_check_it_can_run():
    # A check bounded by its timeout must never be cut off; one stuck past every timeout must be.
    soft, hard = probes_run_check.soft_time_limit, probes_run_check.time_limit
    assert soft is not None and hard is not None
    assert TIMEOUT_MAX_SECONDS + 10 <= soft < hard <= 10 * TIMEOUT_MAX_SECONDS


def test_probe_run_command_prints_results_and_stores_nothing(online, capsys):
    with HttpStub() as web:
        web.replies["/"] = Reply(200, b"ok")
        probe = probe_for(web.url("/"))
        Probe.objects.create(service=probe.service, name="port", kind="tcp", target=f"127.0.0.1:{closed_port()}")
        call_command("probe_run", "--service", "tiktok-shop")
    out = capsys.readouterr().out
    assert "homepage" in out and "UP HTTP 200" in out
    assert "port" in out and "DOWN" in out and "[refused]" in out
    assert not ProbeResult.objects.exists()


def test_probe_run_command_needs_one_target(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("probe_run")
    with pytest.raises(CommandError, match="no probe"):
        call_command("probe_run", "424242")
