"""The coach's Calendars page with CalDAV accounts, against a real Radicale: connect (a refused
password is shown at the password, nothing kept), choose the busy calendars and the one bookings
go to, read now, disconnect after a question; another coach's account is not found."""

from __future__ import annotations

import pytest

from coaching.caldav_services import caldav_connect
from coaching.models import CalDavAccount, CalDavCalendar
from tests.caldav.conftest import PASSWORD, USER, Radicale
from tests.factories import CoachFactory
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

PAGE = "/dashboard/calendars/"


def test_connect_choose_and_disconnect_from_the_page(
    coach_client, radicale: Radicale, django_capture_on_commit_callbacks
) -> None:
    radicale.calendar("Work", "work")
    radicale.calendar("Family", "family")
    assert "No calendar account connected yet." in coach_client.get(PAGE).content.decode()
    response = coach_client.post(
        PAGE + "caldav/", {"server": radicale.url, "username": USER, "password": "wrong"}
    )
    assert response.status_code == 400
    assert "refused the username or password" in response.content.decode()
    assert not CalDavAccount.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(
            PAGE + "caldav/", {"server": radicale.url, "username": USER, "password": PASSWORD}
        )
    assert response.status_code == 302
    account = CalDavAccount.objects.get()
    page = coach_client.get(PAGE).content.decode()
    assert "Connected: 2 calendars found" in page and "Family" in page and PASSWORD not in page

    work = account.calendars.get(name="Work")
    family = account.calendars.get(name="Family")
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(f"{PAGE}caldav/{account.pk}/", {"busy": [str(work.pk)], "write": str(work.pk)})
    assert list(CalDavCalendar.objects.order_by("name").values_list("name", "busy", "write_bookings")) == [
        ("Family", False, False),
        ("Work", True, True),
    ]
    assert coach_client.post(f"{PAGE}caldav/{account.pk}/sync/").status_code == 302
    assert family.pk  # still listed
    assert "Disconnect " in coach_client.get(f"{PAGE}caldav/{account.pk}/remove/").content.decode()
    assert CalDavAccount.objects.exists()
    coach_client.post(f"{PAGE}caldav/{account.pk}/remove/")
    assert not CalDavAccount.objects.exists()


def test_another_coachs_account_is_not_found(coach_client, radicale: Radicale) -> None:
    radicale.calendar("Work", "work")
    theirs = caldav_connect(
        coach=CoachFactory(slug="other"), server=radicale.url, username=USER, password=PASSWORD
    )
    for path in ("", "sync/", "remove/"):
        assert coach_client.post(f"{PAGE}caldav/{theirs.pk}/{path}").status_code == 404


def test_odd_choices_change_nothing_they_should_not(coach_client, radicale: Radicale, offering) -> None:
    radicale.calendar("Work", "work")
    account = caldav_connect(coach=offering.coach, server=radicale.url, username=USER, password=PASSWORD)
    response = coach_client.post(f"{PAGE}caldav/{account.pk}/", {"busy": ["x", "²", "999999"], "write": "١"})
    assert response.status_code == 302
    assert not CalDavCalendar.objects.filter(write_bookings=True).exists()


def test_a_booking_that_could_not_be_written_is_listed_and_tried_again(
    coach_client, radicale: Radicale, offering, book, django_capture_on_commit_callbacks
) -> None:
    from booking.calendar_writes import calendar_write_plan
    from booking.models import CalendarWrite
    from coaching.caldav_services import caldav_calendars_choose

    radicale.calendar("Work", "work")
    account = caldav_connect(coach=offering.coach, server=radicale.url, username=USER, password=PASSWORD)
    work = account.calendars.get()
    caldav_calendars_choose(account=account, busy={work.pk}, write=work.pk)
    booking = book()
    write = calendar_write_plan(booking=booking, now=NOW)
    CalendarWrite.objects.filter(pk=write.pk).update(
        status="failed", attempts=8, last_error="The calendar server answered 507."
    )
    page = coach_client.get(PAGE).content.decode()
    assert "could not be written into your calendar" in page and booking.reference in page
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(f"{PAGE}caldav/writes/{write.pk}/retry/")
    write.refresh_from_db()
    assert write.status == "done" and write.present
    assert len(radicale.client().calendar(url=work.url).events()) == 1
