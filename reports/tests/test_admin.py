from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from catalog.models import IssueType, Service
from catalog.tests.factories import make_service
from reports.models import CommentState, Report
from reports.tests.factories import file_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = User.objects.create_superuser("operator", "op@example.com", "not-a-real-password")
    client.force_login(user)
    return client


def test_admin_lists_services_and_reports(operator):
    service = make_service()
    file_report(service, comment="checkout broken")
    assert operator.get("/admin/catalog/service/").status_code == 200
    page = operator.get("/admin/reports/report/")
    assert page.status_code == 200
    assert "checkout broken" in page.content.decode()
    assert operator.get(f"/admin/catalog/service/{service.pk}/change/").status_code == 200


def test_service_added_in_admin_gets_the_default_issue_types(operator):
    form = {
        "name": "Etsy",
        "slug": "etsy",
        "homepage": "https://www.etsy.com",
        "description": "",
        "active": "on",
        "demo_traffic": "",
        "issue_types-TOTAL_FORMS": "0",
        "issue_types-INITIAL_FORMS": "0",
        "issue_types-MIN_NUM_FORMS": "0",
        "issue_types-MAX_NUM_FORMS": "1000",
    }
    response = operator.post("/admin/catalog/service/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    service = Service.objects.get(slug="etsy")
    assert list(service.issue_types.values_list("key", flat=True)) == ["server", "payment", "inventory", "shipping"]


def test_operator_can_rename_and_add_issue_types_in_admin(operator):
    service = make_service()
    types = list(IssueType.objects.filter(service=service).order_by("order"))
    form = {
        "name": service.name,
        "slug": service.slug,
        "homepage": service.homepage,
        "description": "",
        "active": "on",
        "demo_traffic": "",
        "issue_types-TOTAL_FORMS": str(len(types) + 1),
        "issue_types-INITIAL_FORMS": str(len(types)),
        "issue_types-MIN_NUM_FORMS": "0",
        "issue_types-MAX_NUM_FORMS": "1000",
    }
    for i, it in enumerate(types):
        form |= {
            f"issue_types-{i}-id": str(it.pk),
            f"issue_types-{i}-service": str(service.pk),
            f"issue_types-{i}-key": it.key,
            f"issue_types-{i}-label": "Checkout" if it.key == "payment" else it.label,
            f"issue_types-{i}-order": str(it.order),
            f"issue_types-{i}-active": "on",
        }
    n = len(types)
    form |= {
        f"issue_types-{n}-service": str(service.pk),
        f"issue_types-{n}-key": "login",
        f"issue_types-{n}-label": "Login",
        f"issue_types-{n}-order": "9",
        f"issue_types-{n}-active": "on",
    }
    response = operator.post(f"/admin/catalog/service/{service.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert IssueType.objects.get(service=service, key="payment").label == "Checkout"
    assert file_report(service, "login").issue_type.label == "Login"


def test_moderation_hides_and_shows_comments(operator):
    service = make_service()
    report = file_report(service, comment="spam spam")
    action = {"action": "hide_comments", "_selected_action": [report.pk]}
    assert operator.post("/admin/reports/report/", action).status_code == 302
    assert Report.objects.get(pk=report.pk).comment_state == CommentState.HIDDEN
    action["action"] = "show_comments"
    operator.post("/admin/reports/report/", action)
    assert Report.objects.get(pk=report.pk).comment_state == CommentState.VISIBLE


def test_reports_cannot_be_added_or_their_evidence_edited_in_admin(operator):
    service = make_service()
    report = file_report(service, comment="original")
    assert operator.get("/admin/reports/report/add/").status_code == 403
    operator.post(
        f"/admin/reports/report/{report.pk}/change/", {"comment_state": CommentState.HIDDEN, "comment": "rewritten"}
    )
    report.refresh_from_db()
    assert report.comment == "original"
    assert report.comment_state == CommentState.HIDDEN


def test_outages_and_detector_state_are_visible_read_only(operator):
    from reports.models import DetectorState, Outage, OutageEvent

    service = make_service()
    outage = Outage.objects.create(service=service, confidence="crowd", started_at="2026-11-26T12:00:00Z")
    OutageEvent.objects.create(outage=outage, at="2026-11-26T12:00:00Z", kind="opened", data={"actual": 30})
    DetectorState.objects.create(service=service)
    page = operator.get(f"/admin/reports/outage/{outage.pk}/change/")
    assert page.status_code == 200
    assert "opened" in page.content.decode()
    assert operator.get("/admin/reports/outage/add/").status_code == 403
    assert operator.get("/admin/reports/detectorstate/").status_code == 200


def test_no_outage_field_can_be_edited_or_the_outage_deleted_in_admin(operator):
    from reports.models import Outage

    service = make_service()
    outage = Outage.objects.create(
        service=service, confidence="crowd", started_at="2026-11-26T12:00:00Z", ended_at="2026-11-26T12:20:00Z"
    )
    page = operator.get(f"/admin/reports/outage/{outage.pk}/change/").content.decode()
    for field in ("ended_at", "acknowledged_at", "team_state", "status", "peak_count", "issue_types"):
        assert f'name="{field}' not in page, field  # shown, never as an input
    operator.post(
        f"/admin/reports/outage/{outage.pk}/change/",
        {"ended_at_0": "2026-11-26", "ended_at_1": "13:00:00", "team_state": "resolved", "status": "resolved"},
    )
    outage.refresh_from_db()
    assert (outage.ended_at.isoformat(), outage.team_state, outage.status) == ("2026-11-26T12:20:00+00:00", "", "open")
    url = f"/admin/reports/outage/{outage.pk}/delete/"
    assert operator.post(url, {"post": "yes"}).status_code == 403
    assert Outage.objects.filter(pk=outage.pk).exists()


def test_services_and_api_keys_are_retired_and_revoked_never_deleted(operator):
    from reports.api.auth import api_key_create

    shop = make_service()
    file_report(shop)
    key, _ = api_key_create(name="Status team", scopes=["webhooks"])
    for url in [f"/admin/catalog/service/{shop.pk}/delete/", f"/admin/reports/apikey/{key.pk}/delete/"]:
        assert operator.get(url).status_code == 403, url
        assert operator.post(url, {"post": "yes"}).status_code == 403, url
    changelist = operator.get("/admin/catalog/service/").content.decode()
    assert "delete_selected" not in changelist
    assert Service.objects.filter(pk=shop.pk).exists() and Report.objects.filter(service=shop).count() == 1
