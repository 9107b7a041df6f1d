"""The service page's form without a browser: error and limit paths (the whole page renders on each)."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.tests.factories import make_service
from reports.models import Channel, Report

pytestmark = pytest.mark.django_db

PAGE = "/s/tiktok-shop/"
SUBMIT = "/s/tiktok-shop/report/"


@pytest.fixture
def visitor() -> Client:
    return Client(REMOTE_ADDR="81.2.69.142", HTTP_USER_AGENT="Firefox")


def test_report_from_the_form_redirects_back_with_a_message(visitor):
    make_service()
    response = visitor.post(SUBMIT, {"issue_type": "shipping", "comment": "parcel lost"}, follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    assert "your shipping problem with TikTok Shop was counted" in response.content.decode()
    report = Report.objects.get()
    assert (report.channel, report.comment, report.counted) == (Channel.WEB, "parcel lost", True)


@pytest.mark.parametrize(
    ("second_browser", "says"),
    [
        ("Firefox", "You reported TikTok Shop a few minutes ago"),
        ("Chrome", "Your connection already counts as many people reporting TikTok Shop as it can"),
    ],
)
def test_a_report_that_does_not_count_says_why(settings, second_browser, says):
    settings.OUTAGEHUB_REPORTERS_PER_ADDRESS = 1
    make_service()
    Client(REMOTE_ADDR="81.2.69.142", HTTP_USER_AGENT="Firefox").post(SUBMIT, {"issue_type": "shipping"})
    again = Client(REMOTE_ADDR="81.2.69.142", HTTP_USER_AGENT=second_browser)
    page = again.post(SUBMIT, {"issue_type": "shipping"}, follow=True).content.decode()
    assert says in page
    assert Report.objects.filter(counted=False).count() == 1


def test_unknown_issue_type_re_renders_the_page_with_the_allowed_keys(visitor):
    make_service()
    response = visitor.post(SUBMIT, {"issue_type": "login"})
    assert response.status_code == 400
    assert "Allowed: server, payment, inventory, shipping" in response.content.decode()
    assert not Report.objects.exists()


def test_refused_report_re_renders_the_whole_page_chart_and_history_included(visitor):
    make_service()
    response = visitor.post(SUBMIT, {"issue_type": "login", "comment": "<i>hm</i>"})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="chart"' in html and html.count('<rect class="bar ') == 96
    assert "Outage history" in html and "Most reported problems" in html
    assert "&lt;i&gt;hm&lt;/i&gt;" in html and "<i>hm" not in html


def test_over_long_comment_is_refused_and_kept_in_the_form(visitor):
    make_service()
    response = visitor.post(SUBMIT, {"issue_type": "payment", "comment": "y" * 501})
    assert response.status_code == 400
    assert "y" * 501 in response.content.decode()
    assert not Report.objects.exists()


def test_form_is_rate_limited_like_the_api(visitor, settings):
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "1/min"
    make_service()
    assert visitor.post(SUBMIT, {"issue_type": "payment"}).status_code == 302
    limited = visitor.post(SUBMIT, {"issue_type": "payment"})
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert "Too many reports" in limited.content.decode()
    assert 'data-testid="chart"' in limited.content.decode()
    assert Report.objects.count() == 1


def test_unknown_or_inactive_service_page_is_404(visitor):
    make_service("gone", "Gone", active=False)
    assert visitor.get("/s/nope/").status_code == 404
    assert visitor.get("/s/gone/").status_code == 404
    assert visitor.post("/s/gone/report/", {"issue_type": "payment"}).status_code == 404


def test_get_on_the_submit_url_is_405(visitor):
    make_service()
    assert visitor.get(SUBMIT).status_code == 405


def test_home_search_survives_hostile_input(visitor):
    make_service()
    assert visitor.get("/?q=%00%00").status_code == 200
    assert visitor.get("/?q=" + "a" * 5000).status_code == 200
    assert "TikTok Shop" in visitor.get("/?q=tik").content.decode()


def test_pages_answer_head_for_monitors_and_link_checkers(visitor):
    make_service()
    for url in ["/", "/s/tiktok-shop/"]:
        response = visitor.head(url)
        assert response.status_code == 200, url
        assert response.content == b""


def test_a_form_body_in_a_charset_django_cannot_read_is_a_400_not_a_500():
    make_service()
    client = Client(enforce_csrf_checks=True)
    client.get("/s/tiktok-shop/")
    token = client.cookies["csrftoken"].value
    response = client.generic(
        "POST",
        "/s/tiktok-shop/report/",
        f"csrfmiddlewaretoken={token}&issue_type=server",
        content_type="application/x-www-form-urlencoded; charset=latin-1",
    )
    assert response.status_code == 400
