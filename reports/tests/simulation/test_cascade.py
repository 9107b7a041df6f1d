"""Cascades: an upstream outage hitting its dependents with lags (model.cascade, the service, `simulate --cascade`)."""

from __future__ import annotations

import datetime as dt
import random
import statistics
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.loader import catalog_load, parse_catalog
from reports.models import SimulatedOutage
from reports.simulation.model import CASCADE_LAG_MAX_MINUTES, MINUTE, SimOutage, SimService, cascade, cascade_lag

T = dt.datetime(2026, 3, 4, 19, 0, tzinfo=dt.UTC)
UPSTREAM = SimOutage("cdn", "server", T, T + 30 * MINUTE, 20.0)
SHOPS = [SimService(f"shop-{i}", 1.0, ("app", "payment")) for i in range(40)]


def test_cascade_lags_are_whole_minutes_between_one_and_the_maximum_with_a_median_of_about_three():
    rng = random.Random(1)
    lags = [cascade_lag(rng) / MINUTE for _ in range(2000)]
    assert all(lag == int(lag) and 1 <= lag <= CASCADE_LAG_MAX_MINUTES for lag in lags)
    assert statistics.median(lags) == 3


def test_every_dependent_goes_down_after_its_upstream_on_its_most_reported_issue_type():
    hit = cascade(UPSTREAM, SHOPS, random.Random(2))

    assert [o.slug for o in hit] == [s.slug for s in SHOPS]
    assert {o.issue_type for o in hit} == {"app"}
    assert all(T + MINUTE <= o.start <= T + CASCADE_LAG_MAX_MINUTES * MINUTE for o in hit)
    assert all(UPSTREAM.end < o.end for o in hit)
    assert all(3.0 <= o.factor <= 20.0 for o in hit)
    assert len({o.start for o in hit}) > 3  # lags differ


def test_a_share_of_dependents_is_hit_and_services_without_issue_types_never():
    hit = cascade(UPSTREAM, [*SHOPS, SimService("empty", 1.0, ())], random.Random(3), share=0.5)
    assert 10 <= len(hit) <= 30 and "empty" not in {o.slug for o in hit}


CATALOG = """
services:
  - {slug: cdn, name: CDN, demo_traffic: 1.0}
  - {slug: shop-a, name: Shop A, demo_traffic: 1.0, depends_on: [cdn]}
  - {slug: shop-b, name: Shop B, demo_traffic: 0.5, depends_on: [cdn]}
  - {slug: no-traffic, name: No Traffic, depends_on: [cdn]}
  - {slug: other, name: Other, demo_traffic: 1.0}
"""


@pytest.mark.django_db
def test_simulate_cascade_schedules_the_upstream_and_its_simulated_dependents():
    catalog_load(parse_catalog(CATALOG))
    out = StringIO()

    call_command(
        "simulate", "--outage", "cdn:server", "--cascade", "--at=-10m", "--for", "20m", "--seed", "4", stdout=out
    )

    rows = {o.service.slug: o for o in SimulatedOutage.objects.select_related("service")}
    assert sorted(rows) == ["cdn", "shop-a", "shop-b"]
    assert rows["shop-a"].starts_at > rows["cdn"].starts_at and rows["shop-a"].issue_type_key == "server"
    assert out.getvalue().count("outage scheduled:") == 3


@pytest.mark.django_db
@pytest.mark.parametrize("share", ["0", "1.5", "nan"])
def test_simulate_refuses_a_share_outside_zero_to_one_and_schedules_nothing(share):
    catalog_load(parse_catalog(CATALOG))
    with pytest.raises(CommandError, match="--cascade-share"):
        call_command("simulate", "--outage", "cdn:server", "--cascade", "--cascade-share", share, stdout=StringIO())
    assert not SimulatedOutage.objects.exists()
