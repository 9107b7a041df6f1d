"""The friendly 404 and 500 pages: the site's layout and a service search, never Django's debug pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client, RequestFactory

from catalog.tests.factories import make_service
from outagehub.urls import handler500


def search_forms(html: str) -> list[str]:
    """The `q` field ids of the forms that GET the home page's service search."""
    forms = re.findall(r'<form class="search[^"]*" action="/" method="get" role="search">(.*?)</form>', html, re.S)
    return [re.search(r'<input id="([\w-]+)" name="q" type="search"', form).group(1) for form in forms]


def assert_site_layout(html: str) -> None:
    assert '<a class="brand" href="/">OutageHub</a>' in html
    assert '<link rel="stylesheet" href="/static/reports/site.css">' in html
    assert '<a href="/outages/">Outages</a>' in html


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False


@pytest.mark.django_db
def test_unknown_address_gets_the_friendly_404_with_a_search(production):
    response = Client().get("/no/such/page/")

    html = response.content.decode()
    assert response.status_code == 404
    assert_site_layout(html)
    assert "<h1>Page not found</h1>" in html and "<code>/no/such/page/</code>" in html
    assert search_forms(html) == ["q", "q-not-found"]  # the header's, and the page's own (ids differ)
    assert "Using the URLconf" not in html and "Django" not in html


@pytest.mark.django_db
def test_unknown_service_and_outage_get_the_friendly_404(production):
    make_service()

    for url in ("/s/nope/", "/s/tiktok-shop/outages/424242/", "/outages/424242/"):
        response = Client().get(url)
        assert response.status_code == 404 and "<h1>Page not found</h1>" in response.content.decode(), url


@pytest.mark.django_db
def test_404_escapes_the_address(production):
    html = Client().get('/s/x/"><script>alert(1)</script>/').content.decode()

    assert "<script>alert" not in html and "<code>/s/x/%22%3E%3Cscript%3Ealert%281%29%3C/script%3E/</code>" in html


def test_500_page_renders_without_the_database_or_a_request_context(settings):
    """No django_db mark: any query here raises. server_error renders 500.html with no context at all."""
    settings.DEBUG = False

    response = handler500(RequestFactory().get("/s/tiktok-shop/"))

    html = response.content.decode()
    assert response.status_code == 500
    assert_site_layout(html)
    assert "<h1>Something went wrong</h1>" in html and "the error has been logged" in html
    assert search_forms(html) == ["q", "q-error"]


@pytest.mark.django_db
def test_a_failing_page_answers_with_the_friendly_500(production, monkeypatch):
    def broken() -> dict[str, str]:
        raise RuntimeError("boom")

    monkeypatch.setattr("reports.web.follow.service_names", broken)

    response = Client(raise_request_exception=False).get("/outages/")

    html = response.content.decode()
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in html and "boom" not in html and "Traceback" not in html
