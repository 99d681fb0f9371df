"""The client's journey, polished: a request's confirmation, the feed link, a retired offering's link,
the intake answers in the coach's approval email."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.core import mail
from django.test import Client, override_settings

from accounts.models import User
from booking.display import client_feed_url, webcal_url
from booking.models import Booking
from booking.tokens import manage_token
from coaching.models import Coach, Offering
from tests.factories import OfferingFactory
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

WEB_CALENDARS = ("calendar.google.com", "outlook.live.com", "outlook.office.com", "Google Calendar")


def _confirmation(client: Client, booking: Booking) -> str:
    response = client.get(f"/b/{manage_token(booking)}/confirmed/")
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


# ---------------------------------------------------------------------------
# A pending request does not push "Add to Google" before approval
# ---------------------------------------------------------------------------
def test_a_request_waiting_for_approval_offers_no_web_calendar_links(
    client: Client, offering: Offering, book
) -> None:
    offering.requires_approval = True
    offering.save()
    booking = book()
    assert booking.status == Booking.Status.PENDING

    page = _confirmation(client, booking)

    assert [marker for marker in WEB_CALENDARS if marker in page] == []
    assert "Ada Lovelace will confirm the time" in page
    # The .ics (STATUS:TENTATIVE) is offered as what it is.
    assert "Hold as tentative (.ics)" in page
    assert "Add to calendar (.ics)" not in page
    # Once approved, every calendar is offered.
    booking.status = Booking.Status.CONFIRMED
    booking.save(update_fields=["status"])
    page = _confirmation(client, booking)
    assert "Add to calendar (.ics)" in page
    assert "calendar.google.com" in page
    assert "will confirm the time" not in page


# ---------------------------------------------------------------------------
# "My bookings" links the client's calendar feed
# ---------------------------------------------------------------------------
def test_my_bookings_links_to_getting_a_calendar_feed(client_user_client: Client) -> None:
    page = client_user_client.get("/my/bookings/").content.decode()

    assert 'href="/my/calendar/"' in page
    assert "webcal://" not in page


def test_my_bookings_offers_the_existing_feed_to_subscribe(client_user_client: Client, user: User) -> None:
    client_user_client.post("/my/calendar/replace/")
    user.refresh_from_db()
    feed = client_feed_url(user)
    assert feed

    page = client_user_client.get("/my/bookings/").content.decode()

    assert f'href="{webcal_url(feed)}"' in page
    assert 'href="/my/calendar/"' in page


# ---------------------------------------------------------------------------
# A deactivated offering's old link: our own "not bookable now" page
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/ada/retired/", "/ada/retired/book/?start=2026-12-02T15:00:00Z"])
def test_a_retired_offerings_link_shows_the_coachs_other_offerings(
    client: Client, coach: Coach, offering: Offering, debug: bool, path: str
) -> None:
    OfferingFactory(coach=coach, slug="retired", title="Retired call", is_active=False)
    OfferingFactory(coach=coach, slug="secret", title="Secret call", is_listed=False)

    with override_settings(DEBUG=debug):
        response = client.get(path)

    assert response.status_code == HTTPStatus.NOT_FOUND
    page = response.content.decode()
    assert "This call is not bookable now" in page
    assert 'href="/ada/intro-call/"' in page
    assert "Retired call" not in page
    assert "Secret call" not in page
    # The site's own layout, not Django's technical 404.
    assert "Using the URLconf" not in page
    assert 'href="/ada/"' in page
    # An address without a coach stays the plain 404.
    response = client.get("/nobody/intro-call/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "not bookable now" not in response.content.decode()


# ---------------------------------------------------------------------------
# The approval email to the coach carries the intake answers
# ---------------------------------------------------------------------------
def test_the_coachs_approval_email_carries_the_intake_answers(
    offering: Offering, book, django_capture_on_commit_callbacks
) -> None:
    offering.requires_approval = True
    offering.intake_questions = [
        {"label": "What do you want to work on?", "type": "long_text", "required": True},
        {"label": "First session?", "type": "yes_no", "required": False},
    ]
    offering.save()
    answers = {"What do you want to work on?": "My <next> move\nand a plan", "First session?": "yes"}

    with django_capture_on_commit_callbacks(execute=True):
        book(answers=answers)

    [coach_mail] = [m for m in mail.outbox if m.to == ["ada@example.com"]]
    assert coach_mail.subject.startswith("To approve:")
    assert "What do you want to work on?: My <next> move\nand a plan" in coach_mail.body
    assert "First session?: yes" in coach_mail.body
    [(html, _)] = coach_mail.alternatives
    assert re.search(r"<dt[^>]*>What do you want to work on\?</dt>", html)
    assert "My &lt;next&gt; move<br>and a plan" in html
    # The client's own email does not repeat them.
    [client_mail] = [m for m in mail.outbox if m.to == ["grace@example.com"]]
    assert "What do you want to work on?" not in client_mail.body
