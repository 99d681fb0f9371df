"""Booking with a pass on the booking pages: from the pass link (``?pass=``) or as a signed-in
holder, one session used per booking, each refusal a re-rendered form with its reason, a
package-only call explained to those without a pass, and the credit's fate in the emails.

Time is pinned: NOW is Tuesday 1 December 2026, 07:00 in New York; SLOT the next day at 10:00
there (16:00 in Berlin, the zone the client books in). Grace's "Three calls" is granted at NOW
and valid 30 days: it ends Thursday 31 December 2026, 13:00 in Berlin.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from booking.models import Booking, BookingEvent
from booking.services import booking_cancel, booking_create, booking_decline
from coaching.models import Offering
from practice import services
from practice.models import Package, Pass
from practice.tokens import pass_token
from tests.factories import OfferingFactory
from tests.support import NOW, SLOT, booking_form_data

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

PAGE = "/ada/intro-call/"
FORM = "/ada/intro-call/book/"
GRACE = "grace@example.com"
CHOICE = "Use a session of Three calls (3 left, until Thursday 31 December 2026, 13:00)"


@pytest.fixture
def package(offering: Offering) -> Package:
    return services.package_save(
        coach=offering.coach, name="Three calls", sessions=3, offerings=[offering], validity_days=30
    )


@pytest.fixture
def grant(package: Package):
    def make(*, to: str = GRACE, name: str = "Grace Hopper", of: Package | None = None) -> Pass:
        return services.pass_grant(package=of or package, client_email=to, client_name=name, now=NOW)

    return make


@pytest.fixture
def package_only(offering: Offering) -> Offering:
    offering.package_only = True
    offering.save()
    return offering


def html(response: Any) -> str:
    return unescape(response.content.decode())


def words(response: Any) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def slot_query(start: datetime = SLOT, **extra: str) -> dict[str, str]:
    return {"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "tz": "Europe/Berlin", **extra}


def open_form(client: Client, **extra: str) -> str:
    response = client.get(FORM, slot_query(**extra))
    assert response.status_code == HTTPStatus.OK, html(response)
    return html(response)


def form_data(page: str, **fields: str) -> dict[str, str]:
    """What the rendered form sends: its hidden fields, its checked radio, the typed fields."""
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    data.pop("csrfmiddlewaretoken", None)
    checked = re.search(r'<input type="radio" name="use_pass" value="([^"]*)"[^>]*checked', page)
    if checked:
        data["use_pass"] = checked.group(1)
    for name in ("name", "email"):
        found = re.search(rf'<input type="[a-z]+" name="{name}" value="([^"]*)"', page)
        if found:
            data[name] = found.group(1)
    data.setdefault("name", "Grace Hopper")
    data.setdefault("email", GRACE)
    data.setdefault("note", "")
    data.update(fields)
    return data


def book_with(pass_obj: Pass, start: datetime = SLOT) -> Booking:
    return booking_create(
        offering=pass_obj.package.offerings.get(),
        start=start,
        client_name="Grace Hopper",
        client_email=GRACE,
        client_time_zone="Europe/Berlin",
        client_pass=pass_obj,
        now=NOW,
    ).booking


def radio_labels(page: str) -> list[str]:
    return [
        " ".join(re.sub(r"<[^>]+>", " ", label).split())
        for label in re.findall(r'<label for="id_use_pass_\d+">(.*?)</label>', page, flags=re.DOTALL)
    ]


# ---------------------------------------------------------------------------
# From the pass link
# ---------------------------------------------------------------------------
def test_the_offering_page_names_the_package_of_the_link(client: Client, grant) -> None:
    pass_obj = grant()
    response = client.get(PAGE, {"pass": pass_token(pass_obj), "tz": "Europe/Berlin"})
    assert response.status_code == HTTPStatus.OK
    assert (
        "You're booking with your package: Three calls (3 left, until Thursday 31 December 2026, 13:00)"
        in (words(response))
    )
    # The page carries the pass's link: never cached, never indexed.
    assert response["Cache-Control"] == "private, no-store"


def test_the_form_offers_the_pass_of_the_link_selected_and_fills_in_its_address(
    client: Client, grant
) -> None:
    """The picker's links carry only the time: the visit remembers the pass of the link."""
    pass_obj = grant()
    client.get(PAGE, {"pass": pass_token(pass_obj)})
    page = open_form(client)
    assert radio_labels(page) == [CHOICE, "Don't use a package: book this call on its own"]
    assert re.search(rf'value="{re.escape(pass_token(pass_obj))}"[^>]*checked', page)
    assert f'name="email" value="{GRACE}"' in page
    assert 'name="name" value="Grace Hopper"' in page


def test_booking_with_the_pass_uses_one_session_and_the_confirmation_says_so(client: Client, grant) -> None:
    pass_obj = grant()
    page = open_form(client, **{"pass": pass_token(pass_obj)})
    response = client.post(FORM, form_data(page), follow=True)
    assert response.status_code == HTTPStatus.OK
    booking = Booking.objects.get()
    assert booking.client_pass_id == pass_obj.pk
    pass_obj.refresh_from_db()
    assert pass_obj.remaining == 2
    assert "1 session of Three calls used, 2 left." in words(response)


def test_the_client_may_book_without_using_the_pass(client: Client, grant) -> None:
    pass_obj = grant()
    page = open_form(client, **{"pass": pass_token(pass_obj)})
    client.post(FORM, form_data(page, use_pass=""))
    assert Booking.objects.get().client_pass_id is None
    pass_obj.refresh_from_db()
    assert pass_obj.remaining == 3


def test_a_pass_link_for_another_call_is_not_offered_and_says_why(
    client: Client, grant, offering: Offering
) -> None:
    other = OfferingFactory(coach=offering.coach, slug="deep-dive", title="Deep dive")
    package = services.package_save(
        coach=offering.coach, name="Deep dives", sessions=2, offerings=[other], validity_days=30
    )
    pass_obj = grant(of=package)
    page = open_form(client, **{"pass": pass_token(pass_obj)})
    assert radio_labels(page) == []
    assert "Your package “Deep dives” doesn't cover this call." in page


def test_a_tampered_pass_link_offers_nothing_and_says_so(client: Client, grant) -> None:
    pass_obj = grant()
    page = open_form(client, **{"pass": pass_token(pass_obj)[:-2] + "xx"})
    assert radio_labels(page) == []
    assert "The package link you followed isn't valid" in page


# ---------------------------------------------------------------------------
# The signed-in holder
# ---------------------------------------------------------------------------
def test_a_signed_in_client_is_offered_their_pass(client_user_client: Client, user: User, grant) -> None:
    pass_obj = grant(to=user.email)
    page = open_form(client_user_client)
    assert radio_labels(page)[0] == CHOICE
    client_user_client.post(FORM, form_data(page, email=user.email))
    booking = Booking.objects.get()
    assert (booking.client_pass_id, booking.client_id) == (pass_obj.pk, user.pk)


def test_a_signed_in_client_is_not_offered_someone_elses_pass(client_user_client: Client, grant) -> None:
    pass_obj = grant(to="someone@example.com")
    page = open_form(client_user_client, **{"pass": pass_token(pass_obj)})
    assert radio_labels(page) == []
    assert "Your package “Three calls” was sent to another email address" in page


def test_a_pass_that_ends_before_the_time_is_not_offered(
    client_user_client: Client, user: User, offering
) -> None:
    package = services.package_save(
        coach=offering.coach, name="One day", sessions=1, offerings=[offering], validity_days=1
    )
    services.pass_grant(package=package, client_email=user.email, client_name="C", now=NOW)
    assert radio_labels(open_form(client_user_client)) == []  # SLOT is 27 hours after the grant


# ---------------------------------------------------------------------------
# Each refusal: the form again, what was typed kept, the reason said, nothing booked
# ---------------------------------------------------------------------------
def test_a_pass_used_up_meanwhile_re_renders_with_the_reason(client: Client, grant) -> None:
    pass_obj = grant()
    page = open_form(client, **{"pass": pass_token(pass_obj)})
    for hour in range(3):  # three other bookings, in another tab, use it up
        book_with(pass_obj, SLOT + timedelta(days=1, hours=hour))
    response = client.post(FORM, form_data(page, note="Looking forward"))
    assert response.status_code == HTTPStatus.CONFLICT
    body = html(response)
    assert "This pass has no sessions left." in body
    assert "Looking forward" in body
    assert radio_labels(body) == [], "the used-up pass is not offered again"
    assert not Booking.objects.filter(client_pass__isnull=False, start=SLOT).exists()


def test_a_pass_that_ends_before_the_time_re_renders_with_the_reason(client: Client, offering) -> None:
    package = services.package_save(
        coach=offering.coach, name="One day", sessions=1, offerings=[offering], validity_days=1
    )
    pass_obj = services.pass_grant(package=package, client_email=GRACE, client_name="G", now=NOW)
    page = open_form(client)
    response = client.post(FORM, form_data(page, use_pass=pass_token(pass_obj)))
    assert response.status_code == HTTPStatus.CONFLICT
    assert "This pass has expired: sessions must start before it ends." in html(response)
    assert not Booking.objects.exists()


def test_another_address_than_the_passs_re_renders_with_the_address_kept(client: Client, grant) -> None:
    pass_obj = grant()
    page = open_form(client, **{"pass": pass_token(pass_obj)})
    response = client.post(FORM, form_data(page, email="typo@example.com"))
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    body = html(response)
    assert "Your package “Three calls” was sent to another email address" in body
    assert "Use the email address your package was sent to." in body
    assert 'name="email" value="typo@example.com"' in body
    assert radio_labels(body)[0] == CHOICE, "still offered: fixing the address is enough"
    assert not Booking.objects.exists()


def test_a_pass_for_another_call_sent_anyway_re_renders_with_the_reason(
    client: Client, grant, offering: Offering
) -> None:
    other = OfferingFactory(coach=offering.coach, slug="deep-dive", title="Deep dive")
    package = services.package_save(
        coach=offering.coach, name="Deep", sessions=2, offerings=[other], validity_days=30
    )
    pass_obj = grant(of=package)
    page = open_form(client)
    response = client.post(FORM, form_data(page, use_pass=pass_token(pass_obj)))
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "This pass does not cover this call." in html(response)
    assert not Booking.objects.exists()


def test_a_tampered_pass_sent_is_a_form_error(client: Client, grant) -> None:
    pass_obj = grant()
    page = open_form(client, **{"pass": pass_token(pass_obj)})
    response = client.post(FORM, form_data(page, use_pass=pass_token(pass_obj)[:-2] + "xx"))
    assert response.status_code == HTTPStatus.OK
    assert "The package you picked can't be used here. Open your package's link again." in html(response)
    assert not Booking.objects.exists(), "never booked without the pass behind the client's back"


def test_a_tampered_pass_sent_by_a_holder_is_a_form_error(
    client_user_client: Client, user: User, grant
) -> None:
    pass_obj = grant(to=user.email)
    page = open_form(client_user_client)
    response = client_user_client.post(
        FORM, form_data(page, email=user.email, use_pass=pass_token(pass_obj)[:-2] + "xx")
    )
    assert response.status_code == HTTPStatus.OK
    assert "That package can't be used here. Pick one of the choices." in html(response)
    assert not Booking.objects.exists()


def test_a_package_only_call_sent_without_a_pass_explains_itself(client: Client, package_only) -> None:
    """A hand-made POST (the form is not shown): 422 with the explanation, never a 500."""
    response = client.post(FORM, booking_form_data())
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    body = words(response)
    assert "This call is booked with a package: use one of its sessions." in body
    assert "This call is booked with a package" in body
    assert not Booking.objects.exists()


# ---------------------------------------------------------------------------
# Package-only calls
# ---------------------------------------------------------------------------
def test_a_package_only_call_explains_itself_to_visitors_without_a_pass(client: Client, package_only) -> None:
    offering_page = client.get(PAGE)
    assert "This call is booked with a package" in words(offering_page)
    assert "data-slot-picker" not in html(offering_page)
    form_page = client.get(FORM, slot_query())
    assert form_page.status_code == HTTPStatus.OK
    assert "This call is booked with a package" in words(form_page)
    assert '<form method="post"' not in html(form_page)


def test_a_package_only_call_books_with_the_pass_and_offers_no_way_around(
    client: Client, grant, package_only
) -> None:
    pass_obj = grant()
    offering_page = client.get(PAGE, {"pass": pass_token(pass_obj)})
    assert "data-slot-picker" in html(offering_page)
    page = open_form(client)
    assert radio_labels(page) == [CHOICE]
    client.post(FORM, form_data(page))
    assert Booking.objects.get().client_pass_id == pass_obj.pk


def test_a_package_only_call_is_open_to_a_signed_in_holder(
    client_user_client: Client, user: User, grant, package_only
) -> None:
    grant(to=user.email)
    assert "data-slot-picker" in html(client_user_client.get(PAGE))


# ---------------------------------------------------------------------------
# The credit's fate in the client's emails
# ---------------------------------------------------------------------------
def client_email_for(booking: Booking, kind: str) -> str:
    from booking.emails import messages_for_event

    # As the send task reads it: from the database, the pass's balance as it is now.
    event = BookingEvent.objects.select_related("booking").get(booking=booking, kind=kind)
    [to_client, _to_coach] = messages_for_event(event, now=NOW)
    assert to_client.to[0].endswith(GRACE)
    return to_client.body + to_client.alternatives[0][0]


def test_an_early_cancellation_email_says_the_session_goes_back(grant) -> None:
    booking = book_with(grant())
    booking_cancel(booking=booking, by=BookingEvent.Actor.CLIENT, now=NOW)
    assert "Your session goes back on your package “Three calls”: 3 left." in client_email_for(
        booking, "cancelled"
    )


def test_a_late_cancellation_email_says_the_session_is_used_up(grant) -> None:
    booking = book_with(grant())
    booking_cancel(booking=booking, by=BookingEvent.Actor.CLIENT, now=SLOT - timedelta(hours=1))
    body = client_email_for(booking, "cancelled")
    assert (
        "This late cancellation uses up the session of your package “Three calls”, as the policy said: 2 left."
        in body
    )


def test_a_late_cancellation_returned_late_says_so(grant, offering: Offering) -> None:
    offering.late_cancel_credit = Offering.LateCancelCredit.RETURN_LATE
    offering.save()
    booking = book_with(grant())
    booking_cancel(booking=booking, by=BookingEvent.Actor.CLIENT, now=SLOT - timedelta(hours=1))
    body = client_email_for(booking, "cancelled")
    assert (
        "Your session goes back on your package “Three calls”, marked as a late cancellation: 3 left." in body
    )


def test_a_decline_email_says_the_session_goes_back(grant, offering: Offering) -> None:
    offering.requires_approval = True
    offering.save()
    booking = book_with(grant())
    booking_decline(booking=booking, now=NOW)
    assert "Your session goes back on your package “Three calls”: 3 left." in client_email_for(
        booking, "declined"
    )


def test_a_booking_without_a_pass_says_nothing_of_credits(offering: Offering, book) -> None:
    booking = book()
    booking_cancel(booking=booking, by=BookingEvent.Actor.CLIENT, now=NOW)
    assert "package" not in client_email_for(booking, "cancelled")


def test_the_coachs_copy_says_nothing_of_the_clients_package(grant) -> None:
    from booking.emails import messages_for_event

    booking = book_with(grant())
    booking_cancel(booking=booking, by=BookingEvent.Actor.COACH, now=NOW)
    event = BookingEvent.objects.get(booking=booking, kind="cancelled")
    [_to_client, to_coach] = messages_for_event(event, now=NOW)
    assert "goes back on your package" not in to_coach.body
