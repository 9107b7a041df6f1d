"""The home page's sparklines: the line's geometry (pure) and the hourly counts behind it (one query)."""

from __future__ import annotations

import datetime as dt

import pytest

from catalog.tests.factories import make_service
from reports.detection.tick import detection_tick
from reports.selectors.series import hourly_counts
from reports.tests.web.test_pages import MINUTE, T0, add_reports
from reports.web.sparkline import HEIGHT, PAD, WIDTH, sparkline


def test_the_highest_count_touches_the_top_and_zero_the_bottom() -> None:
    line = sparkline([0, 5, 10])
    assert line.points == f"{PAD},{HEIGHT - PAD} {WIDTH / 2},{HEIGHT / 2} {WIDTH - PAD},{PAD}"
    assert (line.highest, line.total) == (10, 15)


def test_no_reports_draw_a_flat_line_along_the_bottom() -> None:
    assert {p.split(",")[1] for p in sparkline([0, 0, 0]).points.split()} == {str(HEIGHT - PAD)}


@pytest.mark.django_db
def test_hourly_counts_of_several_services_in_one_query(django_assert_num_queries) -> None:
    shop, other = make_service(), make_service("amazon", "Amazon")
    add_reports(shop, T0, [2] * 90)  # 12:00 to 13:30
    add_reports(other, T0 + 30 * MINUTE, [1] * 10)
    for service in (shop, other):
        detection_tick(service_id=service.pk, now=T0 + 3 * dt.timedelta(hours=1))
    with django_assert_num_queries(1):
        counts = hourly_counts(
            service_ids=[shop.pk, other.pk], since=T0 - dt.timedelta(hours=1), until=T0 + dt.timedelta(hours=3)
        )
    assert counts == {shop.pk: [0, 120, 60, 0], other.pk: [0, 10, 0, 0]}
    assert hourly_counts(service_ids=[], since=T0, until=T0 + dt.timedelta(hours=1)) == {}
