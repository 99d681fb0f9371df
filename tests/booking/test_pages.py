"""The public booking pages: the slot picker in the client's zone, the booking form,
the confirmation, the manage link (cancel, reschedule) and "my bookings".

Time is pinned to Tuesday 1 December 2026, 07:00 in New York (NOW): Ada works
Mon-Fri 09:00-17:00 there, so her first free slot is 14:00 UTC today.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django.core.cache import cache
from django.test import Client
from django.urls import resolve

from accounts.models import User
from booking.models import Booking, BookingEvent
from booking.tokens import manage_token
from coaching.models import Coach, Offering, WeeklyHours
from tests.factories import DateOverrideFactory, OfferingFactory, UserFactory
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

PAGE = "/ada/intro-call/"
FORM = "/ada/intro-call/book/"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Rate limits count per address in the cache: every test starts with none used."""
    cache.clear()


def html(response: Any) -> str:
    return response.content.decode()


def day_times(page: str) -> dict[str, list[str]]:
    """{"Tuesday 1 December": ["15:00", ...]} for each day of the week view."""
    days: dict[str, list[str]] = {}
    for label, body in re.findall(
        r'<section class="picker-day[^"]*"[^>]*>\s*<h4[^>]*>(.*?)</h4>(.*?)</section>', page, flags=re.DOTALL
    ):
        days[label] = re.findall(r"<time datetime=\"[^\"]+\">(\d\d:\d\d)</time>", body)
    return days


def form_data(page: str, **fields: str) -> dict[str, str]:
    """The hidden fields of a rendered booking form plus ``fields``."""
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    data.pop("csrfmiddlewaretoken", None)
    data.update({"name": "Grace Hopper", "email": "grace@example.com", "note": ""})
    data.update(fields)
    return data


def open_form(client: Client, start: datetime = SLOT, tz: str = "Europe/Berlin") -> str:
    response = client.get(FORM, {"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "tz": tz})
    assert response.status_code == HTTPStatus.OK, html(response)
    return html(response)


# ---------------------------------------------------------------------------
# Offering page
# ---------------------------------------------------------------------------
def test_it_shows_the_weeks_free_times_in_berlin(client: Client, offering: Offering) -> None:
    """09:00-17:00 in New York is 15:00-23:00 in Berlin; the weekend is empty; the coach's zone is named."""
    page = html(client.get(PAGE, {"tz": "Europe/Berlin"}))
    days = day_times(page)
    assert list(days) == [
        "Tuesday 1 December",
        "Wednesday 2 December",
        "Thursday 3 December",
        "Friday 4 December",
        "Saturday 5 December",
        "Sunday 6 December",
        "Monday 7 December",
    ]
    assert days["Tuesday 1 December"][0] == "15:00"
    assert days["Tuesday 1 December"][-1] == "22:30"
    assert len(days["Wednesday 2 December"]) == 16
    assert days["Saturday 5 December"] == days["Sunday 6 December"] == []
    assert "Times in <strong data-zone-label>Europe/Berlin</strong>" in page
    assert "Ada Lovelace works in New York time (America/New_York)" in page
    assert "1–7 December 2026" in page


def test_it_shows_half_hour_zones_and_days_that_cross_midnight(client: Client, offering: Offering) -> None:
    """In Kolkata (UTC+05:30) Ada's Tuesday runs from 19:30 Tuesday to 03:00 Wednesday."""
    days = day_times(html(client.get(PAGE, {"tz": "Asia/Kolkata"})))
    assert days["Tuesday 1 December"] == [
        "19:30",
        "20:00",
        "20:30",
        "21:00",
        "21:30",
        "22:00",
        "22:30",
        "23:00",
        "23:30",
    ]
    assert days["Wednesday 2 December"][:7] == ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30", "03:00"]
    assert days["Wednesday 2 December"][7] == "19:30"


def test_it_links_each_time_to_the_form_with_an_accessible_name(client: Client, offering: Offering) -> None:
    """A slot is a link whose name says the day and the time, carrying the instant in UTC and the zone."""
    page = html(client.get(PAGE, {"tz": "Europe/Berlin"}))
    assert (
        '<a class="slot-link" href="/ada/intro-call/book/?start=2026-12-02T15%3A00%3A00Z&amp;tz=Europe%2FBerlin">'
        '<span class="visually-hidden">Wednesday 2 December, </span>'
        '<time datetime="2026-12-02T16:00:00+01:00">16:00</time></a>'
    ) in page


def test_it_falls_back_to_the_coachs_zone_with_a_message_for_an_unknown_zone(
    client: Client, offering: Offering
) -> None:
    response = client.get(PAGE, {"tz": "Mars/Olympus_Mons"})
    assert response.status_code == HTTPStatus.OK
    page = html(response)
    assert "We don&#x27;t know the time zone “Mars/Olympus_Mons”" in page
    assert "Times in <strong data-zone-label>America/New_York</strong>" in page
    assert day_times(page)["Tuesday 1 December"][0] == "09:00"


def test_it_asks_the_browser_for_its_zone_when_none_is_known(client: Client, offering: Offering) -> None:
    """Without ?tz= or a remembered zone the coach's zone is shown and the script is told to detect."""
    page = html(client.get(PAGE))
    assert 'data-detect-zone="1"' in page
    assert 'data-tz="America/New_York"' in page
    assert '<script src="/static/js/slot-picker.js" defer></script>' in page
    assert "<option selected>America/New_York</option>" in page
    assert 'data-detect-zone="1"' not in html(client.get(PAGE, {"tz": "Europe/Berlin"}))


def test_it_shows_the_zone_a_signed_in_client_picks_without_writing_their_account(
    client_user_client: Client, user: User, offering: Offering
) -> None:
    """A GET never writes to the account: ?tz= shows times in that zone; booking remembers it."""
    page = html(client_user_client.get(PAGE, {"tz": "Asia/Kolkata"}))
    assert "Times in <strong data-zone-label>Asia/Kolkata</strong>" in page
    user.refresh_from_db()
    assert user.time_zone == ""
    page = html(client_user_client.get(PAGE))
    assert 'data-detect-zone="1"' in page


def test_it_pages_through_weeks(client: Client, offering: Offering) -> None:
    """The first week has no previous link; next week's page links back to this one."""
    page = html(client.get(PAGE, {"tz": "Europe/Berlin"}))
    assert 'rel="prev" href="" data-week-link="prev" hidden' in page
    assert 'href="/ada/intro-call/?tz=Europe%2FBerlin&amp;week=2026-12-08" data-week-link="next"' in page
    second = html(client.get(PAGE, {"tz": "Europe/Berlin", "week": "2026-12-08"}))
    assert "8–14 December 2026" in second
    assert 'href="/ada/intro-call/?tz=Europe%2FBerlin&amp;week=2026-12-01" data-week-link="prev"' in second
    assert list(day_times(second))[0] == "Tuesday 8 December"


def test_it_clamps_weeks_outside_the_booking_window(client: Client, offering: Offering) -> None:
    """A week in the past shows this week; one past the horizon shows the last bookable days."""
    assert "1–7 December 2026" in html(client.get(PAGE, {"week": "2020-01-01", "tz": "UTC"}))
    far = html(client.get(PAGE, {"week": "2999-01-01", "tz": "UTC"}))
    assert "30 January – 5 February 2027" in far
    assert 'rel="next" href="" data-week-link="next" hidden' in far


def test_it_points_an_empty_week_at_the_next_week_with_free_times(
    client: Client, coach: Coach, offering: Offering
) -> None:
    for day in range(1, 8):
        DateOverrideFactory(coach=coach, date=datetime(2026, 12, day, tzinfo=UTC).date())
    page = html(client.get(PAGE, {"tz": "America/New_York"}))
    assert "No free times in this week." in page
    assert "The next free time is Tuesday 8 December 2026, 09:00." in page
    assert 'href="/ada/intro-call/?tz=America%2FNew_York&amp;week=2026-12-08">Show that week</a>' in page


def test_it_says_so_when_nothing_is_free_within_the_horizon(
    client: Client, coach: Coach, offering: Offering
) -> None:
    WeeklyHours.objects.filter(coach=coach).delete()
    page = html(client.get(PAGE))
    assert "There are no free times in the next 60 days" in page
    assert "mailto:" not in page  # the coach's sign-in address is never shown


def test_it_answers_404_for_unknown_or_inactive_offerings(
    client: Client, coach: Coach, offering: Offering
) -> None:
    OfferingFactory(coach=coach, slug="retired", is_active=False)
    assert client.get("/ada/nothing/").status_code == HTTPStatus.NOT_FOUND
    assert client.get("/ada/retired/").status_code == HTTPStatus.NOT_FOUND
    assert client.get("/nobody/intro-call/").status_code == HTTPStatus.NOT_FOUND


def test_it_books_unlisted_offerings_by_their_link(client: Client, coach: Coach) -> None:
    OfferingFactory(coach=coach, slug="secret", title="Secret call", is_listed=False)
    assert client.get("/ada/secret/").status_code == HTTPStatus.OK


def test_it_leaves_the_dashboards_two_part_addresses_alone() -> None:
    """/dashboard/offerings/ looks like /<coach>/<offering>/ but belongs to the dashboard."""
    assert resolve("/dashboard/offerings/").url_name == "dashboard_offerings"
    assert resolve("/dashboard/bookings/").url_name == "dashboard_bookings"
    assert resolve("/accounts/login/").url_name == "account_login"
    assert resolve("/ada/intro-call/").url_name == "offering_page"


def test_it_adds_a_book_button_per_offering_on_the_coach_page(client: Client, offering: Offering) -> None:
    page = html(client.get("/ada/"))
    assert 'href="/ada/intro-call/">Book<span class="visually-hidden"> Intro call</span></a>' in page


def test_it_renders_the_offering_page_in_a_fixed_number_of_queries(
    client: Client, client_user_client: Client, offering: Offering, book, django_assert_max_num_queries
) -> None:
    """One query for the offering and coach, a few for the slots, whatever the bookings and the week;
    a signed-in visitor adds their session, account and coach profile."""
    for hour in range(5):
        book(SLOT + timedelta(hours=hour, days=1), client_email=f"c{hour}@example.com")
    anonymous = Client()
    with django_assert_max_num_queries(5):
        assert anonymous.get(PAGE, {"tz": "Europe/Berlin"}).status_code == HTTPStatus.OK
    with django_assert_max_num_queries(5):
        anonymous.get(PAGE, {"tz": "Europe/Berlin", "week": "2026-12-15"})
    with django_assert_max_num_queries(8):
        assert client_user_client.get(PAGE, {"tz": "Europe/Berlin"}).status_code == HTTPStatus.OK


# ---------------------------------------------------------------------------
# Booking form and confirmation
# ---------------------------------------------------------------------------
def test_it_shows_the_chosen_time_in_both_zones_on_the_form(client: Client, offering: Offering) -> None:
    page = open_form(client)
    assert "Wednesday 2 December 2026, 16:00–16:30" in page
    assert "(Europe/Berlin)" in page
    assert "10:00–10:30" in page
    assert "(America/New_York)" in page
    assert 'name="form_token"' in page
    assert 'value="2026-12-02T15:00:00Z"' in page


def test_it_books_as_a_guest_and_shows_the_confirmation(client: Client, offering: Offering) -> None:
    """A guest's booking is confirmed; the confirmation shows both zones, the manage link and the invite."""
    response = client.post(FORM, form_data(open_form(client), note="Career change"))
    booking = Booking.objects.get()
    token = manage_token(booking)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/b/{token}/confirmed/"
    assert booking.status == Booking.Status.CONFIRMED
    assert (booking.start, booking.client_time_zone, booking.client) == (SLOT, "Europe/Berlin", None)
    assert (booking.client_name, booking.client_email, booking.note) == (
        "Grace Hopper",
        "grace@example.com",
        "Career change",
    )

    page = html(client.get(response["Location"]))
    assert "You're booked" in page
    assert "Wednesday 2 December 2026, 16:00–16:30" in page
    assert "10:00–10:30" in page and "America/New_York" in page
    assert f'href="/b/{token}/invite.ics" download' in page
    assert f"http://testserver/b/{token}/" in page
    assert "grace@example.com" in page


def test_it_says_a_booking_waits_for_approval(client: Client, offering: Offering) -> None:
    offering.requires_approval = True
    offering.save()
    page = open_form(client)
    assert "Request this time" in page
    response = client.post(FORM, form_data(page), follow=True)
    assert Booking.objects.get().status == Booking.Status.PENDING
    assert "Request sent" in html(response)
    assert "Waiting for approval" in html(response)


def test_it_links_a_signed_in_clients_booking_and_locks_the_email(
    client_user_client: Client, user: User, offering: Offering
) -> None:
    """The email is the account's (a posted one is ignored), the booking is linked, the zone remembered."""
    page = open_form(client_user_client)
    assert re.search(r'<input type="email" name="email" value="client@example.com"[^>]*disabled', page)
    client_user_client.post(FORM, form_data(page, email="someone@evil.example"))
    booking = Booking.objects.get()
    assert booking.client == user
    assert booking.client_email == "client@example.com"
    user.refresh_from_db()
    assert user.time_zone == "Europe/Berlin"


def test_it_books_once_when_the_form_is_sent_twice(client: Client, offering: Offering) -> None:
    """A double click sends the same one-time token: one booking, and both land on its confirmation."""
    data = form_data(open_form(client))
    first = client.post(FORM, data)
    second = client.post(FORM, data)
    assert Booking.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_it_refuses_a_reused_token_with_other_details(client: Client, offering: Offering) -> None:
    data = form_data(open_form(client))
    client.post(FORM, data)
    response = client.post(FORM, {**data, "name": "Someone Else"})
    assert response.status_code == HTTPStatus.CONFLICT
    assert "This form was already sent with other details" in html(response)
    assert Booking.objects.count() == 1
    assert f'value="{data["form_token"]}"' not in html(response)


def test_it_offers_the_next_free_times_when_the_slot_was_just_taken(
    client: Client, offering: Offering, book
) -> None:
    page = open_form(client)
    book(SLOT)  # someone else is quicker
    response = client.post(FORM, form_data(page))
    assert response.status_code == HTTPStatus.CONFLICT
    body = html(response)
    assert "This time was just taken" in body
    assert "Wednesday 2 December, 16:30" in body
    assert 'name="start" id="alt-start-1" value="2026-12-02T15:30:00Z" checked' in body
    assert Booking.objects.count() == 1


def test_it_says_so_when_a_link_names_a_time_that_is_not_free(
    client: Client, offering: Offering, book
) -> None:
    book(SLOT)
    response = client.get(FORM, {"start": "2026-12-02T15:00:00Z", "tz": "Europe/Berlin"})
    assert response.status_code == HTTPStatus.OK
    assert "This time isn&#x27;t free any more" in html(response)
    assert 'name="form_token"' not in html(response)


def test_it_asks_the_offerings_intake_questions(client: Client, offering: Offering) -> None:
    offering.intake_questions = [
        {"label": "What do you want to talk about?", "type": "long_text", "required": True},
        {"label": "First call with me?", "type": "yes_no", "required": True},
        {"label": "LinkedIn", "type": "text", "required": False},
    ]
    offering.save()
    page = open_form(client)
    assert "What do you want to talk about?" in page
    missing = client.post(FORM, form_data(page))
    assert missing.status_code == HTTPStatus.OK
    assert html(missing).count("This question needs an answer.") == 2
    assert not Booking.objects.exists()
    client.post(FORM, form_data(page, q1="A new job", q2="yes"))
    assert Booking.objects.get().answers == {
        "What do you want to talk about?": "A new job",
        "First call with me?": "yes",
        "LinkedIn": "",
    }


def test_it_limits_how_fast_one_address_can_book(client: Client, offering: Offering, settings) -> None:
    settings.BOOKING_CREATE_RATE = "1/m"
    client.post(FORM, form_data(open_form(client)))
    response = client.post(FORM, form_data(open_form(client, SLOT + timedelta(hours=1))))
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many requests" in html(response)
    assert Booking.objects.count() == 1


# ---------------------------------------------------------------------------
# Manage link
# ---------------------------------------------------------------------------
def test_it_shows_a_booking_and_its_actions_on_the_manage_page(client: Client, book) -> None:
    booking = book()
    token = manage_token(booking)
    page = html(client.get(f"/b/{token}/"))
    assert "Wednesday 2 December 2026, 16:00–16:30" in page
    assert booking.reference in page
    assert f'href="/b/{token}/reschedule/"' in page
    assert f'href="/b/{token}/cancel/"' in page


def test_it_cancels_from_the_manage_link_after_a_confirmation_step(client: Client, book) -> None:
    booking = book()
    token = manage_token(booking)
    confirm = html(client.get(f"/b/{token}/cancel/"))
    assert "Cancel this booking?" in confirm
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    response = client.post(f"/b/{token}/cancel/", {"reason": "Something came up"}, follow=True)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert (booking.cancel_reason, booking.cancelled_by) == ("Something came up", BookingEvent.Actor.CLIENT)
    page = html(response)
    assert "Your booking is cancelled" in page
    assert "You cancelled this booking." in page
    assert f'href="/b/{token}/cancel/"' not in page
    assert f'href="/b/{token}/reschedule/"' not in page


def test_it_reschedules_from_the_manage_link(client: Client, book) -> None:
    """Pick a time in the client's zone, confirm it, and the same booking moves."""
    booking = book()
    token = manage_token(booking)
    picker = html(client.get(f"/b/{token}/reschedule/"))
    assert "Times in <strong data-zone-label>Europe/Berlin</strong>" in picker
    new_start = "2026-12-03T16:00:00Z"
    assert f'href="/b/{token}/reschedule/?start=2026-12-03T16%3A00%3A00Z&amp;tz=Europe%2FBerlin"' in picker
    # The booking's own time is not offered.
    assert "start=2026-12-02T15%3A00%3A00Z" not in picker

    confirm = html(client.get(f"/b/{token}/reschedule/", {"start": new_start, "tz": "Europe/Berlin"}))
    assert "Move your call to this time?" in confirm
    assert "Thursday 3 December 2026, 17:00–17:30" in confirm
    response = client.post(f"/b/{token}/reschedule/", {"start": new_start, "tz": "Europe/Berlin"})
    assert response["Location"] == f"/b/{token}/"
    booking.refresh_from_db()
    assert booking.start == datetime(2026, 12, 3, 16, tzinfo=UTC)
    assert booking.reschedule_count == 1
    assert "Your call is moved to Thursday 3 December 2026, 17:00–17:30" in html(client.get(f"/b/{token}/"))


def test_it_rejects_a_reschedule_to_a_taken_time(client: Client, book) -> None:
    booking = book()
    book(SLOT + timedelta(hours=1), client_email="other@example.com")
    token = manage_token(booking)
    response = client.post(f"/b/{token}/reschedule/", {"start": "2026-12-02T16:00:00Z"})
    assert response.status_code == HTTPStatus.CONFLICT
    assert "This time was just taken" in html(response)
    booking.refresh_from_db()
    assert booking.start == SLOT


def test_it_explains_why_a_late_change_is_not_possible(client: Client, book) -> None:
    """Two hours before the call (notice is 24 hours) the page says why and how to reach the coach."""
    booking = book()
    token = manage_token(booking)
    with time_machine.travel(SLOT - timedelta(hours=2), tick=False):
        page = html(client.get(f"/b/{token}/"))
        assert "Calls can be cancelled online until 1 day before they start." in page
        assert "Calls can be moved online until 1 day before they start." in page
        assert "ada@example.com" not in page  # no public contact address set
        assert f'href="/b/{token}/cancel/"' not in page
        assert f'href="/b/{token}/reschedule/"' not in page
        cancel_page = html(client.get(f"/b/{token}/cancel/"))
        assert "<form" not in cancel_page.split('<main id="main"')[1].split("</main>")[0]
        response = client.post(f"/b/{token}/cancel/", {"reason": ""})
        assert response.status_code == HTTPStatus.CONFLICT
        assert client.post(f"/b/{token}/reschedule/", {"start": "2026-12-03T16:00:00Z"}).status_code == (
            HTTPStatus.CONFLICT
        )
    booking.refresh_from_db()
    assert (booking.status, booking.start) == (Booking.Status.CONFIRMED, SLOT)


def test_it_stops_rescheduling_after_the_most_moves_allowed(client: Client, offering: Offering, book) -> None:
    offering.max_reschedules = 0
    offering.save()
    token = manage_token(book())
    page = html(client.get(f"/b/{token}/"))
    assert "the most allowed online" in page
    assert f'href="/b/{token}/reschedule/"' not in page
    assert f'href="/b/{token}/cancel/"' in page


def test_it_shows_a_cancelled_booking_without_actions(client: Client, book) -> None:
    booking = book()
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_by = "coach"
    booking.save()
    page = html(client.get(f"/b/{manage_token(booking)}/"))
    assert "Ada Lovelace cancelled this booking." in page
    assert "Change your booking" not in page


# ---------------------------------------------------------------------------
# My bookings and linking guest bookings
# ---------------------------------------------------------------------------
def test_it_lists_only_the_signed_in_clients_bookings(
    client_user_client: Client, user: User, other_user: User, book
) -> None:
    mine_next = book(SLOT, client=user, client_email=user.email)
    mine_past = book(SLOT + timedelta(hours=3), client=user, client_email=user.email)
    past_start = NOW - timedelta(days=3)
    Booking.objects.filter(pk=mine_past.pk).update(
        start=past_start,
        end=past_start + timedelta(minutes=30),
        blocked_start=past_start,
        blocked_end=past_start + timedelta(minutes=30),
    )
    mine_past.refresh_from_db()
    theirs = book(SLOT + timedelta(hours=1), client=other_user, client_name="Other Person")
    guest = book(SLOT + timedelta(hours=2), client_name="Guest Person", client_email=user.email)
    page = html(client_user_client.get("/my/bookings/"))
    upcoming, past = page.split('id="past-title"')
    assert f'href="/b/{manage_token(mine_next)}/"' in upcoming
    assert f'href="/b/{manage_token(mine_past)}/"' in past
    assert manage_token(theirs) not in page
    assert manage_token(guest) not in page


def test_it_paginates_my_bookings(client_user_client: Client, user: User, book) -> None:
    for hour in range(12):
        book(SLOT + timedelta(hours=hour % 7, days=hour // 7), client=user)
    page = html(client_user_client.get("/my/bookings/"))
    assert "Page 1 of 2" in page
    assert 'href="?upcoming=2"' in page
    assert client_user_client.get("/my/bookings/?upcoming=zzz").status_code == HTTPStatus.OK


def test_it_links_guest_bookings_when_the_email_is_verified(client: Client, book) -> None:
    booking = book(client_email="Newcomer@Example.com")
    other = book(SLOT + timedelta(hours=1), client_email="someone@example.com")
    person = UserFactory(email="newcomer@example.com", verified=False)
    address = EmailAddress.objects.create(user=person, email=person.email, verified=True, primary=True)
    email_confirmed.send(sender=EmailAddress, request=None, email_address=address)
    booking.refresh_from_db()
    other.refresh_from_db()
    assert booking.client == person
    assert other.client is None


def test_it_links_guest_bookings_of_a_verified_address_on_sign_in(client: Client, user: User, book) -> None:
    booking = book(client_email=user.email)
    client.force_login(user)
    booking.refresh_from_db()
    assert booking.client == user
    assert manage_token(booking) in html(client.get("/my/bookings/"))


def test_it_does_not_link_bookings_of_an_unverified_address_on_sign_in(client: Client, book) -> None:
    person = UserFactory(email="unverified@example.com", verified=False)
    booking = book(client_email=person.email)
    client.force_login(person)
    booking.refresh_from_db()
    assert booking.client is None


@pytest.mark.django_db
def test_it_offers_google_and_outlook_links_on_the_confirmation(client, book) -> None:
    """The confirmation page links to Google Calendar and Outlook with the call's times."""
    from booking.tokens import manage_token

    booking = book()
    html = client.get(f"/b/{manage_token(booking)}/confirmed/").content.decode()
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in html
    assert "outlook.live.com" in html
    assert "20261202T150000Z" in html
