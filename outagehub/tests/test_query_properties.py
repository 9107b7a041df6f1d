"""Query parameters of the API's reads over generated values (hypothesis): 200, or a 4xx naming one, never a 500."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.tests.factories import make_service

pytestmark = pytest.mark.django_db

# The database is only read: one service serves every example.
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

READS = {
    "/api/v1/services/": ["q", "status", "page", "page_size", "format"],
    "/api/v1/outages/": ["service", "issue_type", "since", "until", "cursor", "page_size"],
    "/api/v1/services/tiktok-shop/series/": ["since", "until", "bucket", "format"],
    "/api/v1/services/tiktok-shop/breakdown/": ["since", "until"],
    "/api/v1/services/tiktok-shop/comments/": ["cursor", "page_size"],
}
values = (
    st.text(max_size=40)
    | st.integers().map(str)
    | st.floats().map(str)
    | st.sampled_from(["", "0", "-1", "1e999", "2026-02-30T00:00Z", "2026-01-01T00:00:00+99:00", "\x00", "\ud800"])
    | st.datetimes().map(lambda d: d.isoformat())
)


@pytest.fixture
def service():
    return make_service()


@FAST
@given(url=st.sampled_from(list(READS)), data=st.data())
def test_any_query_parameters_answer_200_or_a_4xx_naming_one(service, url, data):
    names = st.sampled_from(READS[url]) | st.text(min_size=1, max_size=10)
    params = data.draw(st.dictionaries(names, values, max_size=3))
    query = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in params.items()})
    response = Client().get(f"{url}?{query}")
    assert response.status_code in {200, 400, 404, 406}, response.content
    if response.status_code == 400:
        errors = response.json()["errors"]
        assert errors and set(errors) <= {*READS[url], *params, "non_field_errors"}
