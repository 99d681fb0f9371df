"""Booking a standing weekly series (issue 16): every occurrence a real booking at the
coach's wall-clock time, all or nothing (or the free ones), with its own reminders and one
credit each when paid with a pass; two overlapping series booked at once: one wins whole.

Time is pinned at Monday 1 March 2027, 07:00 in New York (the coach works Mon-Fri 09-17
there); New York moves its clocks on Sunday 14 March.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pytest
import time_machine

from booking.models import Booking, BookingSeries, Reminder
from booking.services import (
    Booker,
    SeriesUnavailable,
    SlotUnavailable,
    booking_create,
    booking_series_cancel_from,
    booking_series_create,
    client_bookings_forget,
)
from booking.tokens import series_for_manage_token, series_manage_token
from coaching.models import Offering
from practice import services as practice
from practice.models import PassEntry
from practice.services import PassExhausted
from tests.factories import UserFactory
from tests.support import SERIES_FIRST, SERIES_NOW, race

NOW = SERIES_NOW
# Tuesday 2 March 2027, 10:00 in New York (EST): 15:00 UTC; from 16 March (EDT) 14:00 UTC.
FIRST = SERIES_FIRST

pytestmark = pytest.mark.time_machine(NOW)


def grace(**overrides: object) -> Booker:
    return Booker(
        **{"name": "Grace Hopper", "email": "grace@example.com", "time_zone": "Europe/Berlin", **overrides}
    )  # type: ignore[arg-type]


def book_one(offering: Offering, start: datetime) -> Booking:
    return booking_create(
        offering=offering,
        start=start,
        client_name="Alan Turing",
        client_email="alan@example.com",
        client_time_zone="Europe/London",
    ).booking


@pytest.mark.django_db
def test_every_occurrence_is_a_booking_at_the_coach_s_wall_clock_time(weekly: Offering) -> None:
    made = booking_series_create(offering=weekly, start=FIRST, interval_weeks=1, count=4, booker=grace())
    assert [b.start for b in made.bookings] == [
        FIRST,
        FIRST + timedelta(weeks=1),
        FIRST + timedelta(weeks=2, hours=-1),
        FIRST + timedelta(weeks=3, hours=-1),
    ]
    assert {b.start.astimezone(weekly.coach.zone).hour for b in made.bookings} == {10}
    assert [b.series_index for b in made.bookings] == [0, 1, 2, 3]
    assert {b.status for b in made.bookings} == {Booking.Status.CONFIRMED}
    assert made.skipped == []
    series = BookingSeries.objects.get()
    assert (series.time_zone, series.interval_weeks, series.count) == ("America/New_York", 1, 4)
    assert series.occurrences.count() == 4
    # Each occurrence has reminders of its own, around its own time (a follow-up after it).
    for booking in made.bookings:
        dues = set(Reminder.objects.filter(booking=booking).values_list("due_at", flat=True))
        assert any(due < booking.start for due in dues)
        assert all(booking.start - timedelta(days=2) < due < booking.end + timedelta(days=1) for due in dues)


@pytest.mark.django_db
def test_one_taken_date_books_nothing_and_names_the_date(weekly: Offering) -> None:
    book_one(weekly, FIRST + timedelta(weeks=2, hours=-1))  # Tuesday 16 March, 10:00 EDT
    with pytest.raises(SeriesUnavailable) as refused:
        booking_series_create(offering=weekly, start=FIRST, interval_weeks=1, count=4, booker=grace())
    assert refused.value.dates == [date(2027, 3, 16)]
    assert not BookingSeries.objects.exists()
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_skip_unavailable_books_the_free_dates(weekly: Offering) -> None:
    book_one(weekly, FIRST + timedelta(weeks=2, hours=-1))
    made = booking_series_create(
        offering=weekly, start=FIRST, interval_weeks=2, count=3, booker=grace(), skip_unavailable=True
    )
    assert [b.start.date().isoformat() for b in made.bookings] == ["2027-03-02", "2027-03-30"]
    assert [b.series_index for b in made.bookings] == [0, 2]
    assert made.skipped == [date(2027, 3, 16)]


@pytest.mark.django_db
def test_dates_past_the_horizon_are_unavailable(offering: Offering) -> None:
    offering.horizon_days = 10
    offering.save(update_fields=["horizon_days"])
    with pytest.raises(SeriesUnavailable) as refused:
        booking_series_create(offering=offering, start=FIRST, interval_weeks=1, count=3, booker=grace())
    assert refused.value.dates == [date(2027, 3, 16)]


@pytest.mark.django_db
@pytest.mark.parametrize(("interval", "count"), [(0, 3), (5, 3), (1, 1), (1, 53)])
def test_out_of_range_repeats_are_refused_with_a_message(weekly: Offering, interval: int, count: int) -> None:
    with pytest.raises(Exception, match="Repeat every|A series has"):
        booking_series_create(
            offering=weekly, start=FIRST, interval_weeks=interval, count=count, booker=grace()
        )
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_a_pass_pays_one_credit_per_occurrence_all_up_front(weekly: Offering) -> None:
    package = practice.package_save(
        coach=weekly.coach, name="Three calls", sessions=3, offerings=[weekly], validity_days=90
    )
    client_pass = practice.pass_grant(package=package, client_email="grace@example.com", client_name="Grace")
    with pytest.raises(PassExhausted, match="3 sessions left; the series needs 4"):
        booking_series_create(
            offering=weekly, start=FIRST, interval_weeks=1, count=4, booker=grace(client_pass=client_pass)
        )
    assert not Booking.objects.exists()
    made = booking_series_create(
        offering=weekly, start=FIRST, interval_weeks=1, count=3, booker=grace(client_pass=client_pass)
    )
    client_pass.refresh_from_db()
    assert client_pass.remaining == 0
    uses = PassEntry.objects.filter(pass_obj=client_pass, kind=PassEntry.Kind.USE)
    assert sorted(uses.values_list("booking_id", flat=True)) == sorted(b.pk for b in made.bookings)


@pytest.mark.django_db
def test_the_series_link_opens_its_series_and_a_tampered_one_nothing(weekly: Offering) -> None:
    made = booking_series_create(offering=weekly, start=FIRST, interval_weeks=1, count=2, booker=grace())
    token = series_manage_token(made.series)
    assert series_for_manage_token(token) == made.series
    assert series_for_manage_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert series_for_manage_token(made.bookings[0].reference + ".x") is None


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_series_booked_at_once_one_wins_whole(weekly: Offering) -> None:
    """Real threads on the real database: the second series meets the first's bookings."""
    # Every week from 2 March, and every two weeks from 9 March: they share 9 and 23 March.
    plans = [(FIRST, 1, 4), (FIRST + timedelta(weeks=1), 2, 2)]

    def attempt(i: int) -> str:
        start, interval, count = plans[i]
        booking_series_create(
            offering=weekly,
            start=start,
            interval_weeks=interval,
            count=count,
            booker=grace(email=f"client{i}@example.com"),
        )
        return "booked"

    with time_machine.travel(NOW, tick=False):
        outcomes = race(2, attempt, taken=(SeriesUnavailable, SlotUnavailable))
    assert outcomes == Counter({"booked": 1, "taken": 1})
    series = BookingSeries.objects.get()
    assert Booking.objects.count() == series.count
    assert set(Booking.objects.values_list("series", flat=True)) == {series.pk}


@pytest.mark.django_db
def test_a_deleted_account_leaves_no_name_or_working_link_on_its_series(weekly: Offering) -> None:
    user = UserFactory(email="grace@example.com")
    made = booking_series_create(
        offering=weekly, start=FIRST, interval_weeks=1, count=3, booker=grace(user=user)
    )
    old_link = series_manage_token(made.series)
    client_bookings_forget(user, [user.email], NOW)
    made.series.refresh_from_db()
    assert made.series.client_name == "Deleted client"
    assert "grace" not in made.series.client_email
    assert series_for_manage_token(old_link) is None
    assert set(Booking.objects.values_list("status", flat=True)) == {Booking.Status.CANCELLED}


@pytest.mark.django_db
def test_cancelling_the_rest_in_time_gives_their_credits_back(weekly: Offering) -> None:
    package = practice.package_save(
        coach=weekly.coach, name="Three calls", sessions=3, offerings=[weekly], validity_days=90
    )
    client_pass = practice.pass_grant(package=package, client_email="grace@example.com", client_name="Grace")
    made = booking_series_create(
        offering=weekly, start=FIRST, interval_weeks=1, count=3, booker=grace(client_pass=client_pass)
    )
    booking_series_cancel_from(series=made.series, from_index=1, by="client", now=NOW)
    client_pass.refresh_from_db()
    assert client_pass.remaining == 2
    kinds = sorted(PassEntry.objects.filter(pass_obj=client_pass).values_list("kind", flat=True))
    assert kinds == ["grant", "return", "return", "use", "use", "use"]


@pytest.mark.django_db
def test_an_operator_sees_a_series_in_the_admin_and_cannot_edit_it(weekly: Offering, client) -> None:
    made = booking_series_create(offering=weekly, start=FIRST, interval_weeks=1, count=2, booker=grace())
    client.force_login(UserFactory(email="operator@example.com", is_staff=True, is_superuser=True))
    listing = client.get("/admin/booking/bookingseries/")
    assert listing.status_code == 200 and made.series.reference in listing.content.decode()
    detail = client.get(f"/admin/booking/bookingseries/{made.series.pk}/change/")
    assert detail.status_code == 200
    assert 'name="count"' not in detail.content.decode()  # read-only
    assert client.get("/admin/booking/bookingseries/add/").status_code == 403
