"""Bookings out, through the write queue, against a real Radicale: a booking appears in the
coach's chosen calendar with the invite's UID and SCHEDULE-AGENT=CLIENT, moves with a reschedule
(also after the coach edited it there), disappears on cancel; a server that is away is retried
with backoff and visible; refused credentials mark the account broken."""

from __future__ import annotations

from datetime import timedelta

import pytest
import vobject
from icalendar import Calendar

from booking.calendar_writes import calendar_write_send, calendar_writes_due
from booking.invites import booking_uid
from booking.models import CalendarWrite
from booking.services import booking_cancel, booking_reschedule
from coaching.caldav_services import caldav_calendars_choose, caldav_connect
from coaching.models import CalDavAccount, Offering
from tests.caldav.conftest import PASSWORD, USER, Radicale
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]


@pytest.fixture
def writing(radicale: Radicale, offering: Offering, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    radicale.calendar("Work", "work")
    with django_capture_on_commit_callbacks(execute=True):
        account = caldav_connect(coach=offering.coach, server=radicale.url, username=USER, password=PASSWORD)
        work = account.calendars.get()
        caldav_calendars_choose(account=account, busy={work.pk}, write=work.pk)
    return account, radicale.client().calendar(url=work.url)


def objects(calendar) -> list[bytes]:  # type: ignore[no-untyped-def]
    return [e.data.encode() for e in calendar.events()]


def test_a_booking_is_written_moved_and_removed(writing, book, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    account, calendar = writing
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(SLOT)
    [data] = objects(calendar)
    [event] = Calendar.from_ical(data).walk("VEVENT")
    assert str(event["UID"]) == booking_uid(booking)
    assert event["ATTENDEE"].params["SCHEDULE-AGENT"] == "CLIENT"
    assert vobject.readOne(data.decode()).vevent.dtstart.value == SLOT

    # The coach edits it in their calendar app; then the client moves the call: ours wins.
    [stored] = calendar.events()
    stored.data = data.decode().replace("SUMMARY:", "SUMMARY:Edited ")
    stored.save()
    with django_capture_on_commit_callbacks(execute=True):
        booking_reschedule(booking=booking, new_start=SLOT + timedelta(hours=1), by="coach", now=NOW)
    [moved] = objects(calendar)
    assert vobject.readOne(moved.decode()).vevent.dtstart.value == SLOT + timedelta(hours=1)
    assert b"Edited" not in moved

    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking, by="coach", now=NOW)
    assert objects(calendar) == []
    write = CalendarWrite.objects.get()
    assert (write.status, write.present, write.etag) == ("done", False, "")


def test_a_server_away_is_retried_with_backoff_and_visible(
    writing, book, radicale: Radicale, time_machine
) -> None:  # type: ignore[no-untyped-def]
    account, calendar = writing
    CalDavAccount.objects.filter(pk=account.pk).update(home_url="http://127.0.0.1:9/")
    write_calendar = account.calendars.get()
    real_url = write_calendar.url
    write_calendar.url = "http://127.0.0.1:9/ada/work/"
    write_calendar.save(update_fields=["url"])
    booking = book(SLOT)
    from booking.calendar_writes import calendar_write_plan

    write = calendar_write_plan(booking=booking, now=NOW)
    assert calendar_write_send(write_id=write.pk, now=NOW) == "retry"
    write.refresh_from_db()
    assert write.status == "pending" and "refused the connection" in write.last_error
    assert write.next_attempt_at > NOW and calendar_writes_due(now=NOW) == []
    # The server is back (same calendar): the next due attempt writes it.
    CalendarWrite.objects.filter(pk=write.pk).update(href=real_url + write.href.rsplit("/", 1)[-1])
    later = write.next_attempt_at + timedelta(seconds=1)
    assert calendar_writes_due(now=later) == [write.pk]
    assert calendar_write_send(write_id=write.pk, now=later) == "written"
    assert len(objects(calendar)) == 1


def test_refused_credentials_mark_the_account_broken(writing, book, tmp_path) -> None:  # type: ignore[no-untyped-def]
    account, _ = writing
    (tmp_path / "users").write_text(f"{USER}:revoked\n")
    booking = book(SLOT)
    from booking.calendar_writes import calendar_write_plan

    write = calendar_write_plan(booking=booking, now=NOW)
    assert calendar_write_send(write_id=write.pk, now=NOW) == "failed"
    account.refresh_from_db()
    assert account.status == CalDavAccount.Status.BROKEN
    write.refresh_from_db()
    assert write.status == "failed" and "refused the username or password" in write.last_error
    # Nothing more is planned for a broken account.
    assert calendar_write_plan(booking=booking, now=NOW) is None
