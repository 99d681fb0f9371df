"""A coach's CalDAV account end to end against a real Radicale: connect (credentials stored
encrypted, not readable in a database dump), sync busy calendars into busy blocks the slot engine
sees, an event added in Radicale blocks the slot after the next sync and frees it when deleted,
our own booking objects are not read back as busy, and refused credentials or a server that is
gone are recorded on the account (blocks kept), never a 500."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from booking.calendar_objects import calendar_object, object_name
from booking.slots import offering_slot_is_free
from coaching import caldav
from coaching.caldav_services import caldav_calendar_sync, caldav_calendars_choose, caldav_connect
from coaching.models import BusyBlock, CalDavAccount, CalDavCalendar, Offering
from tests.caldav.conftest import PASSWORD, USER, Radicale
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]


def event(uid: str, start: str, end: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261120T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


@pytest.fixture
def connected(radicale: Radicale, offering: Offering, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    work = radicale.calendar("Work", "work")
    radicale.calendar("Family", "family")
    with django_capture_on_commit_callbacks(execute=True):
        account = caldav_connect(coach=offering.coach, server=radicale.url, username=USER, password=PASSWORD)
    return account, work


def sync_all(account: CalDavAccount) -> None:
    for calendar in CalDavCalendar.objects.filter(account=account, busy=True).select_related(
        "account", "coach"
    ):
        caldav_calendar_sync(calendar=calendar)


def test_connecting_keeps_the_calendars_and_an_encrypted_password(connected) -> None:  # type: ignore[no-untyped-def]
    account, _ = connected
    assert sorted(account.calendars.values_list("name", "busy", "write_bookings")) == [
        ("Family", True, False),
        ("Work", True, False),
    ]
    assert PASSWORD not in account.password_token
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM coaching_caldavaccount")
        assert PASSWORD not in repr(cursor.fetchall())
    dump = io.StringIO()
    call_command("dumpdata", "coaching", stdout=dump)
    assert PASSWORD not in dump.getvalue()


def test_an_event_added_in_the_calendar_blocks_the_slot_after_the_next_sync(
    connected, offering: Offering
) -> None:  # type: ignore[no-untyped-def]
    account, work = connected
    assert offering_slot_is_free(offering=offering, start=SLOT, now=NOW)
    added = work.save_event(event("dentist", "20261202T150000Z", "20261202T153000Z"))
    assert offering_slot_is_free(offering=offering, start=SLOT, now=NOW)  # not synced yet
    sync_all(account)
    assert not offering_slot_is_free(offering=offering, start=SLOT, now=NOW)
    assert BusyBlock.objects.filter(caldav_calendar__name="Work").count() == 1
    added.delete()
    sync_all(account)
    assert offering_slot_is_free(offering=offering, start=SLOT, now=NOW)


def test_a_calendar_that_does_not_count_blocks_nothing(connected, offering: Offering) -> None:  # type: ignore[no-untyped-def]
    account, work = connected
    work.save_event(event("dentist", "20261202T150000Z", "20261202T153000Z"))
    sync_all(account)
    family = account.calendars.get(name="Family")
    caldav_calendars_choose(account=account, busy={family.pk}, write=None)
    assert offering_slot_is_free(offering=offering, start=SLOT, now=NOW)
    assert not BusyBlock.objects.filter(caldav_calendar__name="Work").exists()


def test_our_own_booking_in_the_calendar_is_not_read_back_as_busy(
    connected, offering: Offering, book
) -> None:  # type: ignore[no-untyped-def]
    account, _ = connected
    booking = book(SLOT)
    work = account.calendars.get(name="Work")
    login = caldav.Account(home_url=account.home_url, username=USER, password=PASSWORD)
    caldav.put_event(login, work.url + object_name(booking), calendar_object(booking, now=NOW))
    sync_all(account)
    assert not BusyBlock.objects.exists()
    assert work.events.get().busy == []


def test_refused_credentials_mark_the_account_and_keep_the_blocks(
    connected, radicale: Radicale, tmp_path, mailoutbox
) -> None:  # type: ignore[no-untyped-def]
    account, work = connected
    work.save_event(event("dentist", "20261202T150000Z", "20261202T153000Z"))
    sync_all(account)
    (tmp_path / "users").write_text(f"{USER}:a-new-password\n")  # the coach revoked the app password
    sync_all(account)
    account.refresh_from_db()
    assert account.status == CalDavAccount.Status.BROKEN
    assert "refused the username or password" in account.last_error
    assert BusyBlock.objects.count() == 1
    # The coach is told once, however often it is tried.
    CalDavAccount.objects.filter(pk=account.pk).update(status=CalDavAccount.Status.OK)
    sync_all(account)
    told = [m for m in mailoutbox if "needs signing in again" in m.subject]
    assert len(told) == 1 and told[0].to == ["ada@example.com"]
    assert PASSWORD not in told[0].body and "a-new-password" not in told[0].body


def test_a_server_that_went_away_is_recorded(connected, offering: Offering) -> None:  # type: ignore[no-untyped-def]
    account, _ = connected
    CalDavAccount.objects.filter(pk=account.pk).update(home_url="http://127.0.0.1:9/ada/")
    for calendar in CalDavCalendar.objects.filter(account=account):
        calendar.url = calendar.url.replace(f":{calendar.url.split(':')[2].split('/')[0]}/", ":9/")
        calendar.save(update_fields=["url"])
    sync_all(account)
    account.refresh_from_db()
    assert account.status == CalDavAccount.Status.OK
    assert "refused the connection" in account.last_error
    assert account.last_error_at is not None and account.last_error_at <= NOW + timedelta(seconds=1)


def test_connecting_a_broken_account_again_mends_it(
    connected, radicale: Radicale, offering: Offering, tmp_path, mailoutbox
) -> None:  # type: ignore[no-untyped-def]
    account, _ = connected
    radicale.calendar("Holidays", "holidays")  # made in the calendar app since connecting
    (tmp_path / "users").write_text(f"{USER}:app-password-2\n")
    sync_all(account)
    account.refresh_from_db()
    assert account.status == CalDavAccount.Status.BROKEN
    again = caldav_connect(
        coach=offering.coach, server=radicale.url, username=USER, password="app-password-2"
    )
    assert (
        again.pk == account.pk
        and again.status == CalDavAccount.Status.OK
        and again.broken_notified_at is None
    )
    assert sorted(again.calendars.values_list("name", flat=True)) == ["Family", "Holidays", "Work"]
    assert CalDavAccount.objects.count() == 1
