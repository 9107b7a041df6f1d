from __future__ import annotations

import datetime as dt
import ipaddress
import json
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from catalog.models import IssueType
from catalog.tests.factories import make_service
from reports.intake.identity import address_slot_hashes, reporter_hash
from reports.intake.services import ReportDraft, cooldowns_prune, report_create, report_draft, report_ingest
from reports.models import Channel, CommentState, Report, ReporterCooldown
from reports.tests.factories import ALICE, BOB, BROWSER, file_report

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def test_new_service_gets_the_four_default_issue_types_in_order():
    service = make_service()
    keys = list(IssueType.objects.filter(service=service).values_list("key", flat=True))
    assert keys == ["server", "payment", "inventory", "shipping"]


def test_first_report_counts_and_repeat_within_cooldown_is_stored_but_not_counted():
    service = make_service()
    first = file_report(service, now=NOON)
    second = file_report(service, "server", now=NOON + dt.timedelta(minutes=14, seconds=59))
    assert first.counted is True
    assert second.counted is False
    assert Report.objects.filter(service=service).count() == 2


def test_an_uncounted_report_says_why_and_when_its_reporter_counts_again():
    service = make_service()
    first = file_report(service, now=NOON)
    second = file_report(service, now=NOON + dt.timedelta(minutes=10))
    assert (first.not_counted_reason, first.counts_again_at) == (None, None)
    assert (second.not_counted_reason, second.counts_again_at) == ("cooldown", NOON + dt.timedelta(minutes=15))


def test_across_the_midnight_salt_rotation_the_cooldown_end_is_the_earlier_days():
    service = make_service()
    before_midnight = dt.datetime(2026, 11, 26, 23, 55, tzinfo=dt.UTC)
    file_report(service, now=before_midnight)
    after = file_report(service, now=before_midnight + dt.timedelta(minutes=10))
    assert (after.not_counted_reason, after.counts_again_at) == ("cooldown", before_midnight + dt.timedelta(minutes=15))


def test_a_report_over_the_address_cap_says_so(settings):
    settings.OUTAGEHUB_REPORTERS_PER_ADDRESS = 1
    shop = make_service()
    file_report(shop, user_agent="browser 1", now=NOON)
    capped = file_report(shop, user_agent="browser 2", now=NOON + dt.timedelta(minutes=5))
    assert (capped.counted, capped.not_counted_reason) == (False, "address_cap")
    assert capped.counts_again_at == NOON + dt.timedelta(minutes=20)  # its own cooldown, just started
    again = file_report(shop, user_agent="browser 2", now=NOON + dt.timedelta(minutes=6))
    assert (again.not_counted_reason, again.counts_again_at) == ("cooldown", NOON + dt.timedelta(minutes=20))


def test_reporter_counts_again_once_the_cooldown_has_passed():
    service = make_service()
    file_report(service, now=NOON)
    later = file_report(service, now=NOON + dt.timedelta(minutes=15))
    assert later.counted is True


def test_cooldown_follows_the_setting(settings):
    settings.OUTAGEHUB_REPORT_COOLDOWN_SECONDS = 60
    service = make_service()
    file_report(service, now=NOON)
    assert file_report(service, now=NOON + dt.timedelta(seconds=59)).counted is False
    assert file_report(service, now=NOON + dt.timedelta(seconds=60)).counted is True


def test_uncounted_reports_do_not_extend_the_cooldown():
    service = make_service()
    file_report(service, now=NOON)
    file_report(service, now=NOON + dt.timedelta(minutes=10))
    assert file_report(service, now=NOON + dt.timedelta(minutes=15)).counted is True


def test_cooldown_is_per_service_and_per_reporter():
    shop, other = make_service(), make_service("amazon", "Amazon")
    file_report(shop, now=NOON)
    assert file_report(other, now=NOON).counted is True
    assert file_report(shop, client=BOB, now=NOON).counted is True
    assert file_report(shop, user_agent="another browser", now=NOON).counted is True


def test_one_address_counts_as_at_most_the_cap_of_reporters_whatever_its_user_agents(settings):
    settings.OUTAGEHUB_REPORTERS_PER_ADDRESS = 3
    shop = make_service()
    counted = [file_report(shop, user_agent=f"browser {i}", now=NOON).counted for i in range(10)]
    assert counted == [True] * 3 + [False] * 7
    assert Report.objects.filter(service=shop).count() == 10  # stored, just not counted
    # Other addresses and other services are not affected.
    assert file_report(shop, client=BOB, now=NOON).counted is True
    assert file_report(make_service("amazon", "Amazon"), user_agent="browser 9", now=NOON).counted is True
    # The slots free up with the cooldown.
    assert file_report(shop, user_agent="browser 11", now=NOON + dt.timedelta(minutes=15)).counted is True


def test_an_ipv6_client_is_capped_per_64(settings):
    settings.OUTAGEHUB_REPORTERS_PER_ADDRESS = 2
    shop = make_service()
    # Within one /64 only the user agent tells people apart; here three people try.
    hosts = [ipaddress.ip_address(f"2a00:1450:4001:80b::{i:x}") for i in range(1, 4)]
    counted = [file_report(shop, client=h, user_agent=f"browser {i}", now=NOON).counted for i, h in enumerate(hosts)]
    assert counted == [True, True, False]
    assert file_report(shop, client=ipaddress.ip_address("2a00:1450:4001:80c::1"), now=NOON).counted is True


def test_a_repeating_reporter_takes_no_second_slot(settings):
    settings.OUTAGEHUB_REPORTERS_PER_ADDRESS = 2
    shop = make_service()
    for _ in range(5):
        file_report(shop, user_agent="same browser", now=NOON)
    assert file_report(shop, user_agent="a second person", now=NOON).counted is True


def test_the_cap_can_be_turned_off(settings):
    settings.OUTAGEHUB_REPORTERS_PER_ADDRESS = 0
    settings.OUTAGEHUB_REPORTERS_PER_NETWORK = 0  # one address is one network too
    shop = make_service()
    assert all(file_report(shop, user_agent=f"browser {i}", now=NOON).counted for i in range(10))


def test_cooldown_survives_the_midnight_salt_rotation():
    service = make_service()
    before_midnight = dt.datetime(2026, 11, 26, 23, 55, tzinfo=dt.UTC)
    file_report(service, now=before_midnight)
    after = file_report(service, now=before_midnight + dt.timedelta(minutes=10))
    today, tomorrow = before_midnight.date(), before_midnight.date() + dt.timedelta(days=1)
    assert reporter_hash(ALICE, BROWSER, today) != reporter_hash(ALICE, BROWSER, tomorrow)  # a new day, a new salt
    assert after.counted is False
    assert file_report(service, now=before_midnight + dt.timedelta(minutes=15)).counted is True


def test_unknown_issue_type_names_the_allowed_keys():
    service = make_service()
    with pytest.raises(ValidationError) as info:
        file_report(service, "login", now=NOON)
    message = info.value.message_dict["issue_type"][0]
    assert "'login'" in message
    assert "server, payment, inventory, shipping" in message
    assert not Report.objects.exists()


def test_inactive_issue_type_takes_no_reports():
    service = make_service()
    IssueType.objects.filter(service=service, key="shipping").update(active=False)
    with pytest.raises(ValidationError) as info:
        file_report(service, "shipping", now=NOON)
    assert "shipping" not in info.value.message_dict["issue_type"][0].split("Allowed:")[1]


def test_inactive_service_takes_no_reports():
    service = make_service(active=False)
    with pytest.raises(ValidationError):
        file_report(service, now=NOON)


def test_country_is_derived_from_the_address_when_not_given():
    service = make_service()
    assert file_report(service, client=ALICE, now=NOON).country == "GB"
    assert file_report(service, client=BOB, now=NOON).country == "US"
    private = file_report(service, client=ipaddress.ip_address("10.0.0.1"), now=NOON)
    assert private.country == ""


def test_given_country_wins_and_is_normalised():
    service = make_service()
    assert file_report(service, client=ALICE, country="de", now=NOON).country == "DE"


@pytest.mark.parametrize("bad", ["XX", "UK", "DEU", "1", "D"])
def test_invalid_country_is_rejected(bad):
    service = make_service()
    with pytest.raises(ValidationError) as info:
        file_report(service, country=bad, now=NOON)
    assert "ISO 3166-1 alpha-2" in info.value.message_dict["country"][0]


def test_comment_is_kept_as_plain_text_without_control_characters():
    service = make_service()
    report = file_report(service, comment="  Checkout fails\x1b[31m\r\nagain <b>\x00  ", now=NOON)
    assert report.comment == "Checkout fails[31m\nagain <b>"
    assert report.comment_state == CommentState.VISIBLE


def test_comment_over_500_characters_is_rejected_and_nothing_is_stored():
    service = make_service()
    with pytest.raises(ValidationError) as info:
        file_report(service, comment="x" * 501, now=NOON)
    assert "500" in info.value.message_dict["comment"][0]
    assert not Report.objects.exists()
    assert not ReporterCooldown.objects.exists()
    assert file_report(service, comment="x" * 500, now=NOON).counted is True


def test_channel_is_recorded():
    service = make_service()
    assert file_report(service, channel=Channel.WEB, now=NOON).channel == Channel.WEB


def test_no_raw_address_is_stored_anywhere():
    service = make_service()
    for ip in ("81.2.69.142", "2a00:1450:4001::1"):
        file_report(service, client=ipaddress.ip_address(ip), comment="down", now=NOON)
    with connection.cursor() as cursor:
        for model in (Report, ReporterCooldown):
            cursor.execute(f"SELECT * FROM {model._meta.db_table}")
            dump = repr(cursor.fetchall())
            assert "81.2.69.142" not in dump
            assert "2a00:1450:4001" not in dump


def test_prune_removes_only_expired_cooldowns():
    service = make_service()
    file_report(service, client=ALICE, now=NOON)
    file_report(service, client=BOB, now=NOON + dt.timedelta(minutes=10))
    # Each counted report holds three cooldowns: its reporter's, its address slot's and its network slot's.
    assert cooldowns_prune(now=NOON + dt.timedelta(minutes=16)) == 3
    assert ReporterCooldown.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_simultaneous_reports_from_one_reporter_count_once(postgres):
    """Eight threads, eight connections, one reporter: exactly one counted report."""
    service = make_service()
    barrier = threading.Barrier(8)
    results: list[bool] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            barrier.wait()
            report = report_create(
                service=service, issue_type_key="payment", channel=Channel.API, client=ALICE, user_agent=BROWSER
            )
            results.append(report.counted)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == [False] * 7 + [True]
    assert Report.objects.filter(counted=True).count() == 1


def test_a_draft_for_the_broker_holds_no_address_or_user_agent(settings):
    draft = report_draft(
        service="tiktok-shop",
        issue_type_key="payment",
        channel=Channel.API,
        client=ALICE,
        user_agent=BROWSER,
        comment="can't pay",
        now=NOON,
    )
    message = json.dumps(draft.to_message())
    assert str(ALICE) not in message and BROWSER not in message
    assert ReportDraft.from_message(json.loads(message)) == draft
    assert draft.country == "GB"  # looked up before the address was forgotten


def test_an_ingested_draft_counts_as_it_would_have_when_it_arrived():
    shop = make_service()
    draft = report_draft(
        service=shop.slug, issue_type_key="payment", channel=Channel.WEB, client=ALICE, user_agent=BROWSER, now=NOON
    )
    report = report_ingest(draft=draft)
    assert (report.created_at, report.counted, report.channel, report.country) == (NOON, True, Channel.WEB, "GB")
    # The reporter's cooldown started at its own time: a report of theirs 14 minutes later does not count.
    assert file_report(shop, now=NOON + dt.timedelta(minutes=14)).counted is False
    # Delivered twice (the broker is at-least-once), it is stored again but not counted again.
    assert report_ingest(draft=draft).counted is False
    assert Report.objects.filter(counted=True).count() == 1


def test_a_draft_for_a_service_or_issue_type_gone_meanwhile_is_dropped(caplog):
    shop = make_service()
    IssueType.objects.filter(service=shop, key="payment").update(active=False)
    for service in (shop.slug, "gone"):
        draft = report_draft(service=service, issue_type_key="payment", channel=Channel.API, client=BOB, now=NOON)
        assert report_ingest(draft=draft) is None
    assert not Report.objects.exists()
    assert "dropped a deferred report of gone" in caplog.text


def test_once_the_cooldown_is_pruned_nothing_stored_tells_who_reported():
    from django.apps import apps
    from django.core import serializers

    shop = make_service()
    file_report(shop, comment="checkout fails", now=NOON)
    hashes = {reporter_hash(ALICE, BROWSER, NOON.date()), *address_slot_hashes(ALICE, NOON, 3)}

    def stored() -> str:
        return "".join(
            serializers.serialize("json", m.objects.all()) for m in apps.get_app_config("reports").get_models()
        )

    assert any(h in stored() for h in hashes)  # during the cooldown, its hashes are held
    cooldowns_prune(now=NOON + dt.timedelta(minutes=15))
    everything = stored()
    assert "checkout fails" in everything  # the report itself is kept...
    assert not any(h in everything for h in hashes) and str(ALICE) not in everything  # ...but not who sent it


# --- report_submit: the one way the page and the API file a report ---------------------


def _submit(slug: str = "tiktok-shop", issue_type: str = "payment", **kwargs):
    from reports.intake.services import report_submit

    return report_submit(
        slug=slug, issue_type_key=issue_type, channel=Channel.API, client=ALICE, user_agent=BROWSER, now=NOON, **kwargs
    )


def test_submit_stores_and_counts_a_report_of_an_active_service():
    make_service()
    report = _submit(comment="card declined")
    assert isinstance(report, Report)
    assert (report.issue_type.key, report.counted, report.comment, report.created_at) == (
        "payment",
        True,
        "card declined",
        NOON,
    )


@pytest.mark.parametrize("active", [True, False])
def test_submit_refuses_an_unknown_or_retired_service(active):
    from catalog.models import Service

    make_service(slug="etsy", name="Etsy", active=active)
    with pytest.raises(Service.DoesNotExist, match="tiktok-shop"):
        _submit()
    if not active:
        with pytest.raises(Service.DoesNotExist, match="etsy"):
            _submit(slug="etsy")
    assert not Report.objects.exists()


def test_submit_names_a_bad_issue_type():
    make_service()
    with pytest.raises(ValidationError) as caught:
        _submit(issue_type="teleport")
    assert "issue_type" in caught.value.message_dict
    assert not Report.objects.exists()


def test_submit_with_the_database_down_hands_the_report_to_the_broker_and_it_is_stored_at_its_own_time(
    monkeypatch,
):
    from django.db import OperationalError

    from outagehub.celery import app

    service = make_service()

    def lookup_fails(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("reports.intake.services.service_get", lookup_fails)
    app.conf.task_always_eager = True  # the worker stores it at once
    try:
        draft = _submit()
    finally:
        app.conf.task_always_eager = False
    assert isinstance(draft, ReportDraft)
    assert (draft.service, draft.issue_type, draft.created_at) == ("tiktok-shop", "payment", NOON)
    stored = Report.objects.get(service=service)
    assert (stored.issue_type.key, stored.created_at, stored.counted) == ("payment", NOON, True)


def test_submit_with_database_and_broker_down_is_unavailable_and_stores_nothing(monkeypatch):
    from django.db import OperationalError
    from kombu.exceptions import OperationalError as BrokerDown

    from reports.intake.services import IntakeUnavailable
    from reports.tasks import reports_ingest

    make_service()

    def fails(*args, **kwargs):
        raise OperationalError("database down")

    def broker_fails(*args, **kwargs):
        raise BrokerDown("broker down")

    monkeypatch.setattr("reports.intake.services.report_create", fails)
    monkeypatch.setattr(reports_ingest, "delay", broker_fails)
    with pytest.raises(IntakeUnavailable):
        _submit()
    assert not Report.objects.exists()


# --- retention: reports_prune -----------------------------------------------------------


def test_pruning_deletes_reports_past_the_retention_and_keeps_newer_ones_and_the_rollups(monkeypatch):
    from reports.intake import services
    from reports.models import ReportMinute

    monkeypatch.setattr(services, "PRUNE_BATCH", 2)  # several batches
    shop = make_service()
    payment = IssueType.objects.get(service=shop, key="payment")
    old = [
        file_report(shop, client=ipaddress.ip_address(f"81.2.69.{i}"), now=NOON - dt.timedelta(days=91))
        for i in range(5)
    ]
    kept = file_report(shop, now=NOON - dt.timedelta(days=89))
    ReportMinute.objects.create(service=shop, issue_type=payment, minute=old[0].created_at, count=5)
    assert services.reports_prune(now=NOON) == 5
    assert list(Report.objects.values_list("pk", flat=True)) == [kept.pk]
    assert ReportMinute.objects.get(service=shop).count == 5  # the record of that minute stays


def test_retention_comes_from_the_setting_and_zero_keeps_everything(settings):
    from reports.intake.services import reports_prune

    shop = make_service()
    file_report(shop, now=NOON - dt.timedelta(days=40))
    settings.OUTAGEHUB_REPORT_RETENTION_DAYS = 0
    assert reports_prune(now=NOON) == 0
    settings.OUTAGEHUB_REPORT_RETENTION_DAYS = 30
    assert reports_prune(now=NOON) == 1
    assert not Report.objects.exists()


def test_the_hourly_task_prunes_with_the_current_time(settings):
    from reports.tasks import reports_prune_old

    shop = make_service()
    file_report(shop, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=100))
    file_report(shop, client=BOB, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    assert reports_prune_old() == 1
    assert Report.objects.count() == 1
