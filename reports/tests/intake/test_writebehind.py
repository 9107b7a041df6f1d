"""Write-behind intake on real PostgreSQL and Redis: decided in Redis, stored in PostgreSQL exactly once."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json

import pytest
import redis
from django.test import Client

from catalog.tests.factories import make_service
from reports.intake import writebehind
from reports.intake.services import catalog_cache_clear, report_submit
from reports.models import Channel, Report
from reports.tests.factories import ALICE, BOB, BROWSER

pytestmark = pytest.mark.django_db(transaction=True)

NOON = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def write_behind(postgres, redis_url, settings):
    settings.OUTAGEHUB_INTAKE_WRITE_BEHIND = True
    settings.OUTAGEHUB_INTAKE_REDIS_URL = redis_url
    r = writebehind.client()
    r.delete(writebehind.STREAM)
    for key in r.scan_iter(f"{writebehind.KEY_PREFIX}*"):
        r.delete(key)
    catalog_cache_clear()
    yield r
    r.delete(writebehind.STREAM)
    catalog_cache_clear()


def submit(*, client=ALICE, user_agent=BROWSER, now=NOON, **kwargs) -> Report:
    kwargs.setdefault("issue_type_key", "payment")
    return report_submit(
        slug="tiktok-shop", channel=Channel.API, client=client, user_agent=user_agent, now=now, **kwargs
    )


def test_a_taken_report_waits_in_redis_and_the_drain_stores_it_once_under_its_id():
    shop = make_service()
    taken = submit(comment="card declined", country="de")
    assert taken.counted and not Report.objects.exists()  # answered before PostgreSQL has it
    assert writebehind.backlog() == 1
    assert writebehind.reports_drain() == 1
    stored = Report.objects.get(pk=taken.pk)
    assert (stored.service, stored.issue_type.key, stored.comment, stored.country, stored.counted) == (
        shop,
        "payment",
        "card declined",
        "DE",
        True,
    )
    assert (stored.created_at, stored.channel) == (NOON, Channel.API)
    assert writebehind.backlog() == 0
    assert writebehind.reports_drain() == 0  # a second drain finds nothing to do
    assert Report.objects.count() == 1


def test_a_repeat_within_the_cooldown_is_not_counted_and_says_when_it_counts_again():
    make_service()
    first = submit()
    again = submit(now=NOON + dt.timedelta(minutes=5))
    other = submit(client=BOB, now=NOON + dt.timedelta(minutes=5))
    assert (first.counted, again.counted, other.counted) == (True, False, True)
    assert again.not_counted_reason == "cooldown"
    # The cooldown runs 15 minutes in Redis from the first report (give or take the test's own run time).
    assert abs(again.counts_again_at - (NOON + dt.timedelta(minutes=20))) < dt.timedelta(seconds=30)
    writebehind.reports_drain()
    assert list(Report.objects.order_by("pk").values_list("counted", flat=True)) == [True, False, True]


def test_one_address_counts_as_at_most_its_reporter_slots(settings):
    settings.OUTAGEHUB_REPORTERS_PER_ADDRESS = 2
    make_service()
    verdicts = [submit(user_agent=f"browser {i}") for i in range(3)]
    assert [r.counted for r in verdicts] == [True, True, False]
    assert verdicts[2].not_counted_reason == "address_cap"


def test_concurrent_reports_of_one_reporter_count_once_across_web_processes():
    """The claim is one atomic script in Redis: however the requests interleave, one counts."""
    from concurrent.futures import ThreadPoolExecutor

    make_service()
    submit(client=BOB)  # warm the catalog cache and id block before racing
    with ThreadPoolExecutor(8) as pool:
        verdicts = list(pool.map(lambda _: submit().counted, range(16)))
    assert verdicts.count(True) == 1


def test_a_killed_workers_batch_is_taken_over_and_stored_once(write_behind, monkeypatch):
    make_service()
    taken = [submit(client=BOB, user_agent=f"ua {i}") for i in range(3)]
    r = write_behind
    writebehind.reports_drain(max_seconds=0)  # creates the group; stores the three
    more = [submit(client=ALICE, user_agent=f"ua {i}") for i in range(3)]
    # A worker reads the next batch and commits two of its rows, then is killed before acknowledging.
    read = r.xreadgroup(writebehind.GROUP, "dead-worker", {writebehind.STREAM: ">"}, count=10)
    entries = read[0][1]
    assert len(entries) == 3
    writebehind._insert(writebehind._rows(entries[:2]))
    monkeypatch.setattr(writebehind, "CLAIM_IDLE_MS", 0)  # its entries count as abandoned at once
    assert writebehind.reports_drain() == 1  # the third is written; the first two are skipped by id
    assert sorted(Report.objects.values_list("pk", flat=True)) == sorted(x.pk for x in taken + more)
    assert r.xpending(writebehind.STREAM, writebehind.GROUP)["pending"] == 0


def test_entries_of_a_deleted_service_are_dropped_not_retried_forever():
    shop = make_service()
    submit()
    shop.delete()
    assert writebehind.reports_drain() == 0
    assert writebehind.backlog() == 0


def test_with_redis_down_the_report_is_stored_at_once_under_its_reserved_id(monkeypatch):
    make_service()

    def redis_down(**kwargs):
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(writebehind, "report_append", redis_down)
    report = submit()
    assert Report.objects.get(pk=report.pk).counted is True  # stored synchronously, nothing waits


def test_the_api_answers_with_the_id_the_stored_report_gets(settings):
    settings.OUTAGEHUB_REPORT_RATE_LIMIT = "1000/min"
    make_service()
    client = Client(REMOTE_ADDR="81.2.69.142")
    url = "/api/v1/services/tiktok-shop/reports/"
    response = client.post(
        url, json.dumps({"issue_type": "server", "comment": "down"}), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["counted"], body["issue_type"], body["service"]) == (True, "server", "tiktok-shop")
    writebehind.reports_drain()
    stored = Report.objects.get(pk=body["id"])
    assert (stored.comment, stored.issue_type.key) == ("down", "server")


def test_an_unreadable_entry_is_dropped_and_does_not_block_the_ones_behind_it(write_behind):
    make_service()
    write_behind.xadd(writebehind.STREAM, {"something": "else"})
    taken = submit()
    assert writebehind.reports_drain() == 1
    assert Report.objects.get().pk == taken.pk
    assert writebehind.backlog() == 0


def test_one_network_counts_as_at_most_its_slots_and_the_rest_is_stored_flagged(settings):
    import ipaddress

    settings.OUTAGEHUB_REPORTERS_PER_NETWORK = 1
    make_service()
    first = submit(client=ipaddress.ip_address("81.2.69.10"))
    neighbour = submit(client=ipaddress.ip_address("81.2.69.20"))  # same /24
    assert (first.counted, neighbour.counted, neighbour.not_counted_reason) == (True, False, "network_cap")
    writebehind.reports_drain()
    assert Report.objects.get(pk=neighbour.pk).network_flagged is True
    assert Report.objects.get(pk=first.pk).network_flagged is False


def test_a_held_comment_stays_held_through_the_stream():
    from reports.intake.moderation import comment_state_for

    make_service()
    comment = "buy now at http://spam.example http://spam.example http://spam.example"
    report = submit(comment=comment)
    writebehind.reports_drain()
    assert comment_state_for(comment) == "pending"  # held by the link filter
    assert Report.objects.get(pk=report.pk).comment_state == "pending"


def test_a_drain_that_has_caught_up_leaves_later_arrivals_to_the_next_drain(monkeypatch):
    # Chasing the stream's tail in a flood wrote a handful of reports per batch, each batch paying
    # a transaction and two statements: the drain stops once a read comes back short.
    make_service()
    for n in range(3):
        submit(client=ipaddress.ip_address(f"81.2.69.{n + 1}"))
    insert = writebehind._insert
    arrived: list[Report] = []

    def insert_while_one_more_arrives(rows):
        if not arrived:
            arrived.append(submit(client=ipaddress.ip_address("81.2.69.99")))
        return insert(rows)

    monkeypatch.setattr(writebehind, "_insert", insert_while_one_more_arrives)
    assert writebehind.reports_drain(batch=10) == 3
    assert writebehind.backlog() == 1  # the late one waits for the next drain...
    assert writebehind.reports_drain(batch=10) == 1  # ...which stores it
    assert Report.objects.filter(pk=arrived[0].pk).exists()


def test_a_full_batch_is_followed_by_the_next_one_in_the_same_drain():
    make_service()
    for n in range(5):
        submit(client=ipaddress.ip_address(f"81.2.69.{n + 1}"))
    assert writebehind.reports_drain(batch=2) == 5  # 2 + 2 + 1: a full read means more may wait
    assert writebehind.backlog() == 0


def test_reports_are_taken_again_after_redis_forgets_its_scripts_and_its_connections(write_behind):
    # A Redis restarted knows no scripts and has dropped every connection: the first report after
    # it is stored another way, the ones after go through Redis again; each is stored once.
    make_service()
    assert submit(client=ipaddress.ip_address("81.2.1.1")).counted
    write_behind.script_flush()
    assert submit(client=ipaddress.ip_address("81.2.2.1")).counted  # the script is loaded again
    write_behind.client_kill_filter(_type="normal", skipme=True)
    taken = [submit(client=ipaddress.ip_address(f"81.2.{n}.1")) for n in (3, 4, 5)]  # one per network
    assert all(report.counted for report in taken)
    assert writebehind.backlog() >= 2  # after the first, through Redis again
    writebehind.reports_drain()
    assert Report.objects.count() == 5
    assert set(Report.objects.values_list("pk", flat=True)) >= {report.pk for report in taken}
