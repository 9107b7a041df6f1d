"""The report form against bots and spam: honeypot, CSRF, the comment filter, escaping, moderation."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from catalog.tests.factories import make_service
from reports.models import CommentState, Report
from reports.tests.factories import file_report

pytestmark = pytest.mark.django_db

SUBMIT = "/s/tiktok-shop/report/"


@pytest.fixture
def shop():
    return make_service()


@pytest.fixture
def visitor() -> Client:
    return Client(REMOTE_ADDR="81.2.69.142", HTTP_USER_AGENT="Firefox")


def test_the_form_carries_a_honeypot_hidden_from_people_and_screen_readers(visitor, shop):
    page = visitor.get("/s/tiktok-shop/").content.decode()
    assert 'name="website"' in page
    assert 'aria-hidden="true"' in page and 'tabindex="-1"' in page


def test_a_bot_filling_the_honeypot_gets_the_usual_thanks_and_nothing_is_stored(visitor, shop):
    response = visitor.post(SUBMIT, {"issue_type": "payment", "website": "http://spam.example"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [("/s/tiktok-shop/", 302)]
    assert "Thanks" in response.content.decode()
    assert not Report.objects.exists()


def test_a_person_leaving_the_honeypot_empty_is_counted(visitor, shop):
    assert visitor.post(SUBMIT, {"issue_type": "payment", "website": ""}).status_code == 302
    assert Report.objects.get().counted


def test_the_form_refuses_a_post_without_the_csrf_token(shop):
    strict = Client(enforce_csrf_checks=True, REMOTE_ADDR="81.2.69.142")
    assert strict.post(SUBMIT, {"issue_type": "payment"}).status_code == 403
    strict.get("/s/tiktok-shop/")
    token = strict.cookies["csrftoken"].value
    assert strict.post(SUBMIT, {"issue_type": "payment", "csrfmiddlewaretoken": "x" * 64}).status_code == 403
    assert strict.post(SUBMIT, {"issue_type": "payment", "csrfmiddlewaretoken": token}).status_code == 302
    assert Report.objects.count() == 1


@pytest.mark.parametrize(
    "comment",
    [
        "cheap followers at https://spam.example/buy",
        "visit www.spam.example now",
        "best deals bit.ly/xyz",
        '<a href="http://x.example">click</a>',
        "down down down down down down down down",
        "!!!!!!!!!!!!!!!!!!!!!!",
        "BUY NOW BUY NOW BUY NOW BUY NOW BUY NOW",
    ],
)
def test_a_comment_with_a_link_or_repeated_text_is_held_for_moderation_and_the_report_still_counts(
    visitor, shop, comment
):
    assert visitor.post(SUBMIT, {"issue_type": "payment", "comment": comment}).status_code == 302
    report = Report.objects.get()
    assert report.counted
    assert report.comment_state == CommentState.PENDING
    assert comment not in visitor.get("/s/tiktok-shop/").content.decode()
    assert visitor.get("/api/v1/services/tiktok-shop/comments/").json()["results"] == []


@pytest.mark.parametrize(
    "comment",
    ["Checkout fails with error 500", "Can't log in since 10:00, app says e.g. 'try again'", "Paiement refusé 3 fois"],
)
def test_an_ordinary_comment_is_shown_at_once(visitor, shop, comment):
    visitor.post(SUBMIT, {"issue_type": "payment", "comment": comment})
    assert Report.objects.get().comment_state == CommentState.VISIBLE


def test_a_comment_is_escaped_on_the_page_and_plain_text_in_the_api(shop):
    file_report(shop, comment='<script>alert("x")</script><img src=x onerror=alert(1)>')
    page = Client().get("/s/tiktok-shop/").content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    api = Client().get("/api/v1/services/tiktok-shop/comments/")
    assert api["Content-Type"] == "application/json"
    assert api.json()["results"][0]["comment"].startswith("<script>")  # data, not markup: the reader escapes


def test_a_comment_longer_than_the_limit_is_a_400_naming_the_limit(visitor, shop):
    response = visitor.post(SUBMIT, {"issue_type": "payment", "comment": "x" * 501})
    assert response.status_code == 400
    assert "500 characters" in response.content.decode()
    assert not Report.objects.exists()


def test_a_moderator_shows_a_held_comment_and_hides_a_visible_one_in_the_admin(shop):
    held = file_report(shop, comment="see www.example.com for the status")
    shown = file_report(shop, comment="payment page blank")
    assert (held.comment_state, shown.comment_state) == (CommentState.PENDING, CommentState.VISIBLE)
    moderator = Client()
    moderator.force_login(User.objects.create_superuser("mod", "mod@example.com", "not-a-real-password"))
    assert "see www.example.com" in moderator.get("/admin/reports/report/?comment_state=pending").content.decode()
    moderator.post("/admin/reports/report/", {"action": "show_comments", "_selected_action": [held.pk]})
    moderator.post("/admin/reports/report/", {"action": "hide_comments", "_selected_action": [shown.pk]})
    comments = [c["comment"] for c in Client().get("/api/v1/services/tiktok-shop/comments/").json()["results"]]
    assert comments == ["see www.example.com for the status"]
