"""The probe admin: probes are edited with their config validated; results, events and rollups are read-only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.utils.html import escape

from catalog.tests.factories import make_service
from probes.kinds import Outcome, ProbeState
from probes.models import Probe, ProbeEvent, ProbeResult, ProbeRollup

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def operator(client):
    user = User.objects.create_superuser("operator", "op@example.com", "not-a-real-password")
    client.force_login(user)
    return client


@pytest.fixture
def probe() -> Probe:
    return Probe.objects.create(service=make_service(), name="homepage", kind="http", target="https://shop.example/")


def probe_form(service_id: int, **fields: str) -> dict[str, str]:
    """What the admin's add or change page posts for a probe; `fields` override the defaults."""
    return {
        "service": str(service_id),
        "name": "homepage",
        "kind": "http",
        "target": "https://shop.example/",
        "config": "{}",
        "interval_seconds": "60",
        "timeout_seconds": "10",
        "failure_threshold": "3",
        "success_threshold": "2",
        "regions": "[]",
        "enabled": "on",
        "next_run_at_0": "2026-03-02",
        "next_run_at_1": "09:00:00",
        "region_states-TOTAL_FORMS": "0",
        "region_states-INITIAL_FORMS": "0",
        "region_states-MIN_NUM_FORMS": "0",
        "region_states-MAX_NUM_FORMS": "1000",
    } | fields


def form_errors(response) -> dict[str, list[str]]:
    assert response.status_code == 200, response.status_code
    return response.context["adminform"].form.errors


def make_evidence(probe: Probe) -> tuple[ProbeResult, ProbeEvent, ProbeRollup]:
    result = ProbeResult.objects.create(
        probe=probe, region="local", slot=T0, checked_at=T0, outcome=Outcome.DOWN, message="status 503 not in 200-399"
    )
    event = ProbeEvent.objects.create(
        probe=probe, at=T0, region="local", from_state=ProbeState.UP, to_state=ProbeState.DOWN
    )
    rollup = ProbeRollup.objects.create(probe=probe, region="local", hour=T0, up=50, down=10)
    return result, event, rollup


# --- Lists ------------------------------------------------------------------


def test_admin_lists_probes_results_events_and_rollups(operator, probe):
    make_evidence(probe)

    page = operator.get("/admin/probes/probe/")
    assert page.status_code == 200
    assert "tiktok-shop/homepage" in page.content.decode()
    assert operator.get(f"/admin/probes/probe/{probe.pk}/change/").status_code == 200
    results = operator.get("/admin/probes/proberesult/")
    assert results.status_code == 200
    assert "status 503 not in 200-399" in results.content.decode()
    assert operator.get("/admin/probes/probeevent/").status_code == 200
    assert operator.get("/admin/probes/proberollup/").status_code == 200


# --- Adding and editing probes ----------------------------------------------


def test_a_valid_probe_added_in_admin_is_created(operator):
    service = make_service()
    form = probe_form(service.pk, config='{"expect_status": [200, "300-399"], "degraded_ms": 2000}', regions='["eu"]')

    response = operator.post("/admin/probes/probe/add/", form)

    assert response.status_code == 302, form_errors(response)
    probe = Probe.objects.get(service=service, name="homepage")
    assert (probe.kind, probe.target, probe.config, probe.regions, probe.enabled) == (
        "http",
        "https://shop.example/",
        {"expect_status": [200, "300-399"], "degraded_ms": 2000},
        ["eu"],
        True,
    )


INVALID_PROBES = {
    "bad expect_status": (
        {"config": '{"expect_status": ["abc"]}'},
        {"config": ["expect_status: 'abc' is neither a status code nor a range like \"200-299\""]},
    ),
    "unknown option": (
        {"config": '{"timeout_ms": 500}'},
        {
            "config": [
                "timeout_ms: unknown http option; allowed: body_contains, body_not_contains, degraded_ms, "
                "expect_status, headers, json_equals, json_path, max_body_bytes, max_redirects, method"
            ]
        },
    ),
    "config not an object": ({"config": "[200]"}, {"config": ["must be a JSON object"]}),
    "option of another kind": (
        {"kind": "tcp", "target": "shop.example:443", "config": '{"min_days": 7}'},
        {"config": ["min_days: unknown tcp option; allowed: none"]},
    ),
    "tcp target without a port": (
        {"kind": "tcp", "target": "shop.example"},
        {"target": ["a port is required, e.g. example.com:443"]},
    ),
    "http target not a URL": (
        {"target": "shop.example"},
        {"target": ["expected an http:// or https:// URL with a host"]},
    ),
    "interval over a day": (
        {"interval_seconds": "86401"},
        {"interval_seconds": ["Ensure this value is less than or equal to 86400."]},
    ),
    "timeout over two minutes": (
        {"timeout_seconds": "120.5"},
        {"timeout_seconds": ["Ensure this value is less than or equal to 120.0."]},
    ),
}


@pytest.mark.parametrize(("fields", "errors"), INVALID_PROBES.values(), ids=INVALID_PROBES.keys())
def test_adding_an_invalid_probe_re_renders_the_form_with_the_error_and_creates_nothing(operator, fields, errors):
    service = make_service()

    response = operator.post("/admin/probes/probe/add/", probe_form(service.pk, **fields))

    assert form_errors(response) == errors
    for messages in errors.values():
        for message in messages:
            assert escape(message) in response.content.decode()
    assert Probe.objects.count() == 0


@pytest.mark.parametrize("regions", ['["eu", 1]', '{"eu": "Frankfurt"}', '"eu"', "[null]"])
def test_regions_must_be_a_list_of_strings(operator, regions):
    service = make_service()

    response = operator.post("/admin/probes/probe/add/", probe_form(service.pk, regions=regions))

    assert form_errors(response) == {"regions": ['A JSON list of region names, e.g. ["local", "eu-west"].']}
    assert Probe.objects.count() == 0


def test_editing_a_probe_with_an_invalid_config_keeps_the_old_one(operator, probe):
    form = probe_form(probe.service_id, config='{"expect_status": ["abc"]}')

    response = operator.post(f"/admin/probes/probe/{probe.pk}/change/", form)

    assert list(form_errors(response)) == ["config"]
    probe.refresh_from_db()
    assert probe.config == {}


def test_editing_a_probe_with_a_valid_config_saves_it(operator, probe):
    form = probe_form(probe.service_id, config='{"body_contains": "Welcome"}')

    response = operator.post(f"/admin/probes/probe/{probe.pk}/change/", form)

    assert response.status_code == 302, form_errors(response)
    probe.refresh_from_db()
    assert probe.config == {"body_contains": "Welcome"}


# --- Evidence is read-only ----------------------------------------------------

EVIDENCE = ["proberesult", "probeevent", "proberollup"]


@pytest.mark.parametrize("model", EVIDENCE)
def test_results_events_and_rollups_cannot_be_added(operator, probe, model):
    assert operator.get(f"/admin/probes/{model}/add/").status_code == 403
    assert operator.post(f"/admin/probes/{model}/add/", {"probe": probe.pk, "region": "local"}).status_code == 403
    assert f'href="/admin/probes/{model}/add/"' not in operator.get(f"/admin/probes/{model}/").content.decode()


def test_results_events_and_rollups_are_shown_read_only_and_cannot_be_changed(operator, probe):
    result, event, rollup = make_evidence(probe)

    for model, obj, change in [
        ("proberesult", result, {"outcome": Outcome.UP, "message": "rewritten"}),
        ("probeevent", event, {"to_state": ProbeState.UP}),
        ("proberollup", rollup, {"down": "0"}),
    ]:
        url = f"/admin/probes/{model}/{obj.pk}/change/"
        page = operator.get(url)
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        assert operator.post(url, {"probe": probe.pk, "region": "local", **change}).status_code == 403

    assert (ProbeResult.objects.get().outcome, ProbeResult.objects.get().message) == (
        Outcome.DOWN,
        "status 503 not in 200-399",
    )
    assert ProbeEvent.objects.get().to_state == ProbeState.DOWN
    assert ProbeRollup.objects.get().down == 10


# --- Regressions: bad admin input is a form error, never a 500 ---------------


def _probe_form(service, **overrides):
    form = {
        "service": str(service.pk),
        "name": "homepage",
        "kind": "http",
        "target": "https://example.com/",
        "config": "{}",
        "interval_seconds": "60",
        "timeout_seconds": "10",
        "failure_threshold": "3",
        "success_threshold": "2",
        "regions": "[]",
        "enabled": "on",
        "next_run_at_0": "2026-11-26",
        "next_run_at_1": "12:00:00",
        "region_states-TOTAL_FORMS": "0",
        "region_states-INITIAL_FORMS": "0",
        "region_states-MIN_NUM_FORMS": "0",
        "region_states-MAX_NUM_FORMS": "1000",
    }
    return form | overrides


def test_emptied_config_and_regions_boxes_mean_none(operator):
    service = make_service()
    response = operator.post("/admin/probes/probe/add/", _probe_form(service, config="", regions=""))
    assert response.status_code == 302, response.content.decode()[:3000]
    probe = Probe.objects.get()
    assert (probe.config, probe.regions) == ({}, [])


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("config", '{"json_path": "a", "json_equals": NaN}', "JSON values only"),
        ("regions", '["EU West"]', "lowercase"),
        ("regions", '"local"', "JSON list"),
    ],
)
def test_values_json_or_the_queue_cannot_take_are_refused(operator, field, value, needle):
    service = make_service()
    response = operator.post("/admin/probes/probe/add/", _probe_form(service, **{field: value}))
    assert response.status_code == 200
    assert needle in response.content.decode()
    assert not Probe.objects.exists()
