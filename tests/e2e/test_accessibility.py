"""Every page passes an axe-core scan, and the slot picker works with the keyboard alone.

Each case opens one page in chromium as one person (signed out, a signed-in client or
the coach), with data enough that lists are not empty, optionally acts on it (sends a
form empty to render its errors), and runs axe-core over the result, at a desktop
width and again at a phone's. A violation of impact "serious" or "critical" fails the
case with the rule, its impact, the elements and the rule's help page. Rules are not switched off: where axe found a problem, the
template or the stylesheet was fixed.

time-machine's travel is process-wide, so it pins the clock of the live server's
thread too; tick=True keeps time moving so the browser's waits still progress.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.template.loader import render_to_string
from django.test import RequestFactory
from playwright.sync_api import BrowserContext, Page, expect

from accounts.models import User
from booking.models import Booking, BookingEvent, EmailDelivery
from booking.services import booking_cancel, feed_key_replace
from booking.tokens import manage_token
from coaching.models import BusyCalendar, Coach, DateOverride, Offering
from community import tokens
from community.models import Broadcast, BroadcastDelivery, SitePage, Subscriber
from tests.e2e.support import DESKTOP, PHONE, assert_accessible, sign_in
from tests.factories import OfferingFactory, UserFactory
from tests.support import NOW, SLOT

ANONYMOUS = "anonymous"
CLIENT = "client"
COACH = "coach"


# ---------------------------------------------------------------------------
# Data: one coach with a bit of everything, one client with bookings
# ---------------------------------------------------------------------------
@dataclass
class World:
    coach: Coach
    offering: Offering
    approval_offering: Offering
    spare_offering: Offering
    client: User
    confirmed: Booking
    pending: Booking
    cancelled: Booking
    past: Booking
    override: DateOverride
    calendar: BusyCalendar
    unverified: User
    # The email community: a subscriber in each state, broadcasts in each state.
    reader: Subscriber
    waiting: Subscriber
    gone: Subscriber
    expired_confirm_token: str
    draft: Broadcast
    sending: Broadcast
    sent: Broadcast

    def token(self, booking: Booking) -> str:
        return manage_token(booking)

    def confirm_link(self, subscriber: Subscriber) -> str:
        return f"/community/confirm/{tokens.confirm_token(subscriber)}/"

    def unsubscribe_link(self, subscriber: Subscriber) -> str:
        return f"/community/unsubscribe/{tokens.unsubscribe_token(subscriber)}/"


def join(coach: Coach, email: str, status: str, **extra: object) -> Subscriber:
    """A subscriber of ``coach`` in ``status``, without emails."""
    return Subscriber.objects.create(
        coach=coach,
        email=email,
        status=status,
        consent_text="Yes, send Ada Lovelace’s community letters to this address.",
        consented_at=NOW - timedelta(days=3),
        confirmed_at=NOW - timedelta(days=2) if status == Subscriber.Status.CONFIRMED else None,
        unsubscribed_at=NOW - timedelta(days=1) if status == Subscriber.Status.UNSUBSCRIBED else None,
        key=tokens.new_subscriber_key(),
        **extra,
    )


def community_world(coach: Coach) -> dict[str, Any]:
    """Ada's landing page text, subscribers in every state and broadcasts in every state."""
    coach.headline = "Coaching for engineers who lead"
    coach.intro_markdown = (
        "## How I work\n\nWe talk for **30 minutes** about *one* question.\n\n"
        "- Clarity\n- A next step\n\n> Bring a notebook.\n\n[My writing](https://example.com/blog)"
    )
    coach.community_pitch = "Tips, tools and challenges, twice a month"
    coach.save()
    reader = join(coach, "reader@example.com", Subscriber.Status.CONFIRMED, first_name="Rea")
    for n in range(3):
        join(coach, f"reader{n}@example.com", Subscriber.Status.CONFIRMED, source=Subscriber.Source.BOOKING)
    waiting = join(coach, "waiting@example.com", Subscriber.Status.PENDING, first_name="Wai")
    gone = join(coach, "gone-reader@example.com", Subscriber.Status.UNSUBSCRIBED)
    expiring = join(coach, "late@example.com", Subscriber.Status.PENDING)
    with time_machine.travel(NOW - tokens.CONFIRM_MAX_AGE - timedelta(days=1)):
        expired_confirm_token = tokens.confirm_token(expiring)

    body = "Hello friends,\n\nThis week's **challenge**: [try this](https://example.com/x).\n\n- one\n- two"
    draft = Broadcast.objects.create(
        coach=coach, subject="Your next best move", body_markdown=body, test_sent_at=NOW
    )
    sending = Broadcast.objects.create(
        coach=coach,
        subject="Halfway there",
        body_markdown=body,
        status=Broadcast.Status.SENDING,
        started_at=NOW,
        planned_at=NOW,
        progress_at=NOW,
        recipient_count=4,
    )
    for number, subscriber in enumerate(Subscriber.objects.filter(coach=coach, status="confirmed")):
        BroadcastDelivery.objects.create(
            broadcast=sending,
            subscriber=subscriber,
            status=BroadcastDelivery.Status.SENT if number < 2 else BroadcastDelivery.Status.PENDING,
        )
    sent = Broadcast.objects.create(
        coach=coach,
        subject="Welcome to the community",
        body_markdown=body,
        status=Broadcast.Status.SENT,
        started_at=NOW - timedelta(days=1),
        planned_at=NOW - timedelta(days=1),
        finished_at=NOW - timedelta(days=1),
        recipient_count=4,
        sent_count=4,
    )
    return {
        "reader": reader,
        "waiting": waiting,
        "gone": gone,
        "expired_confirm_token": expired_confirm_token,
        "draft": draft,
        "sending": sending,
        "sent": sent,
    }


@pytest.fixture
def world(coach: Coach, offering: Offering, user: User, book) -> World:
    """Ada with three offerings, bookings in every state, an override, a busy calendar with
    an error, a failed email and feed links, a landing page, subscribers and broadcasts;
    a client with upcoming and past calls."""
    offering.description = "A first call to find your next best move.\n\nBring one question."
    offering.intake_questions = [
        {"label": "What would you like to talk about?", "type": "long_text", "required": True},
        {"label": "Your company", "type": "text", "required": False},
        {"label": "Have we talked before?", "type": "yes_no", "required": True},
    ]
    offering.save()
    approval = OfferingFactory(
        coach=coach, slug="deep-dive", title="Deep dive", duration_minutes=60, requires_approval=True
    )
    spare = OfferingFactory(coach=coach, slug="spare", title="Spare call", is_listed=False)

    client_fields = {"client": user, "client_email": user.email, "client_name": "Cleo Client"}
    confirmed = book(SLOT, **client_fields, answers={"What would you like to talk about?": "My next move"})
    pending = book(SLOT + timedelta(hours=2), on=approval, **client_fields)
    cancelled = book(SLOT + timedelta(hours=4), client_email="gone@example.com")
    booking_cancel(booking=cancelled, by=BookingEvent.Actor.CLIENT, reason="Changed my mind", now=NOW)
    cancelled.refresh_from_db()
    # Monday 30 November 10:00 in New York, booked the day before: over by NOW.
    past = book(SLOT - timedelta(days=2), now=NOW - timedelta(days=3), **client_fields)

    EmailDelivery.objects.update_or_create(
        event=confirmed.events.get(kind=BookingEvent.Kind.CREATED),
        recipient=EmailDelivery.Recipient.COACH,
        defaults={
            "booking": confirmed,
            "kind": "booking-confirmed",
            "status": EmailDelivery.Status.FAILED,
            "attempts": 5,
            "last_error": "SMTPRecipientsRefused (550)",
            "last_attempt_at": NOW,
        },
    )
    override = DateOverride.objects.create(coach=coach, date=SLOT.date() + timedelta(days=7), note="Holiday")
    calendar = BusyCalendar.objects.create(
        coach=coach,
        name="Work",
        url="https://calendar.example.com/secret/abcdef/basic.ics",
        last_error="The address answered 404 Not Found.",
        last_error_at=NOW,
    )
    feed_key_replace(owner=coach)
    feed_key_replace(owner=user)
    unverified = UserFactory(email="new@example.com", verified=False)
    EmailAddress.objects.create(user=unverified, email=unverified.email, primary=True, verified=False)
    return World(
        coach=coach,
        offering=offering,
        approval_offering=approval,
        spare_offering=spare,
        client=user,
        confirmed=confirmed,
        pending=pending,
        cancelled=cancelled,
        past=past,
        override=override,
        calendar=calendar,
        unverified=unverified,
        **community_world(coach),
    )


# ---------------------------------------------------------------------------
# Acting on a page before the scan
# ---------------------------------------------------------------------------
def fill_and_submit(
    values: dict[str, str], form: str = "main form", button: str = "button[type=submit]"
) -> Callable[[Page], None]:
    """Fill the form that holds the first of ``values``' fields, and send it with (the last) ``button``."""

    def act(page: Page) -> None:
        target = page.locator(form).filter(has=page.locator(next(iter(values))))
        target.evaluate("form => { form.noValidate = true; }")
        for selector, value in values.items():
            target.locator(selector).fill(value)
        with page.expect_navigation():
            target.locator(button).last.click()

    return act


def empty_submit(form: str = "main form", button: str = "button[type=submit]") -> Callable[[Page], None]:
    """Send ``form`` (the last match) with its text fields emptied, past the browser's own
    required-field checks, so that the server renders its error messages."""

    def act(page: Page) -> None:
        target = page.locator(form).last
        target.evaluate(
            """(form) => {
                form.noValidate = true;
                form.querySelectorAll(
                  'input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=submit]), textarea'
                ).forEach((input) => { input.value = ""; });
            }"""
        )
        with page.expect_navigation():
            target.locator(button).last.click()

    return act


def click(name: str) -> Callable[[Page], None]:
    """Press the button called ``name`` (a form without fields: confirm, unsubscribe, preview)."""

    def act(page: Page) -> None:
        with page.expect_navigation():
            page.get_by_role("button", name=name, exact=True).click()

    return act


def bot_signup(page: Page) -> None:
    """A form-filling bot: it fills the hidden honeypot too, and is sent to "check your inbox"."""
    form = page.locator(".community-signup form")
    form.locator("input[name=email]").fill("bot@example.com")
    form.locator("input[name=consent]").check()
    form.locator("input[name=website]").evaluate("input => { input.value = 'https://spam.example.com'; }")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Almost there: check your inbox")


def landing_errors(page: Page) -> None:
    """A photo that is not an image, and a headline longer than the field allows."""
    form = page.locator(".dashboard-main form")
    headline = form.locator("input[name=headline]")
    headline.evaluate("input => input.removeAttribute('maxlength')")
    headline.fill("A headline far too long. " * 10)
    form.locator("input[name=photo]").set_input_files(
        {"name": "photo.png", "mimeType": "image/png", "buffer": b"not an image"}
    )
    with page.expect_navigation():
        form.get_by_role("button", name="Save landing page").click()
    expect(form.locator(".errorlist").first).to_be_visible()


def live_preview(page: Page) -> None:
    """Type into the introduction: the script renders the preview in place and says so."""
    page.locator("textarea[name=intro_markdown]").fill(
        "## Fresh words\n\nNow with a [link](https://example.com)."
    )
    expect(page.locator("[data-preview-status]")).to_have_text("Preview updated (not saved yet).")
    expect(page.locator("[data-preview-target] h2")).to_have_text("Fresh words")


def privacy_page(world: World) -> str:
    """The policy staff wrote in admin, in place of the default text."""
    SitePage.objects.update_or_create(
        slug=SitePage.Slug.PRIVACY,
        defaults={
            "title": "How we handle your data",
            "body_markdown": "## What we keep\n\nYour **email** and name.\n\n- Bookings\n- Subscriptions\n\n"
            "[Write to us](mailto:privacy@example.com)",
        },
    )
    return "/privacy/"


def csrf_failure(page: Page) -> None:
    """A form sent without its CSRF cookie (an expired session, cookies blocked)."""
    page.context.clear_cookies()
    page.locator("input[name=login]").fill("someone@example.com")
    page.locator("input[name=password]").fill("wrong password")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("That form could not be sent")


# ---------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    id: str
    role: str
    path: Callable[[World], str]
    act: Callable[[Page], None] | None = None
    status: int = 200
    # Error pages no browser request here can provoke: served from the rendered template.
    template: str = ""
    # The manage-link lookup limit, to see the "too many requests" page.
    manage_rate: str = ""


def at(path: str) -> Callable[[World], str]:
    return lambda world: path


def slot_query(world: World) -> str:
    return f"start={SLOT.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def free_slot_query(world: World) -> str:
    return f"start={(SLOT + timedelta(days=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}"


CASES = [
    # Public pages, signed out.
    Case("home", ANONYMOUS, at("/")),
    Case("coach-page", ANONYMOUS, at("/ada/")),
    Case("offering", ANONYMOUS, at("/ada/intro-call/")),
    Case("offering-in-kolkata", ANONYMOUS, at("/ada/intro-call/?tz=Asia/Kolkata")),
    Case("offering-unknown-zone", ANONYMOUS, at("/ada/intro-call/?tz=Mars/Olympus")),
    Case("offering-later-week", ANONYMOUS, at("/ada/intro-call/?tz=Europe/Berlin&week=2026-12-08")),
    Case("offering-empty-week", ANONYMOUS, at("/ada/intro-call/?tz=America/New_York&week=2026-12-05")),
    Case("offering-approval", ANONYMOUS, at("/ada/deep-dive/")),
    Case("booking-form", ANONYMOUS, lambda w: f"/ada/intro-call/book/?{free_slot_query(w)}&tz=Europe/Berlin"),
    Case(
        "booking-form-errors",
        ANONYMOUS,
        lambda w: f"/ada/intro-call/book/?{free_slot_query(w)}&tz=Europe/Berlin",
        act=empty_submit(".booking-form"),
    ),
    Case(
        "booking-form-taken",
        ANONYMOUS,
        lambda w: f"/ada/intro-call/book/?{slot_query(w)}&tz=Europe/Berlin",
    ),
    Case("booking-form-bad-link", ANONYMOUS, at("/ada/intro-call/book/?start=yesterday"), status=400),
    Case("confirmation", ANONYMOUS, lambda w: f"/b/{w.token(w.confirmed)}/confirmed/"),
    Case("confirmation-pending", ANONYMOUS, lambda w: f"/b/{w.token(w.pending)}/confirmed/"),
    Case("manage", ANONYMOUS, lambda w: f"/b/{w.token(w.confirmed)}/"),
    Case("manage-cancelled", ANONYMOUS, lambda w: f"/b/{w.token(w.cancelled)}/"),
    Case("manage-past", ANONYMOUS, lambda w: f"/b/{w.token(w.past)}/"),
    Case("manage-cancel", ANONYMOUS, lambda w: f"/b/{w.token(w.confirmed)}/cancel/"),
    Case("manage-cancel-too-late", ANONYMOUS, lambda w: f"/b/{w.token(w.past)}/cancel/"),
    Case("manage-reschedule-cancelled", ANONYMOUS, lambda w: f"/b/{w.token(w.cancelled)}/reschedule/"),
    Case("manage-reschedule", ANONYMOUS, lambda w: f"/b/{w.token(w.confirmed)}/reschedule/"),
    Case(
        "manage-reschedule-confirm",
        ANONYMOUS,
        lambda w: f"/b/{w.token(w.confirmed)}/reschedule/?{free_slot_query(w)}&tz=Europe/Berlin",
    ),
    Case(
        "manage-too-many", ANONYMOUS, lambda w: f"/b/{w.token(w.confirmed)}/", status=429, manage_rate="0/m"
    ),
    Case("not-found", ANONYMOUS, at("/nobody/nothing/"), status=404),
    Case("offering-not-bookable", ANONYMOUS, at("/ada/no-longer-offered/"), status=404),
    # The landing page's signup and the email community, signed out.
    Case(
        "coach-page-signup-errors",
        ANONYMOUS,
        at("/ada/"),
        act=fill_and_submit({"input[name=email]": "not an address"}, form=".community-signup form"),
    ),
    Case("community-signup", ANONYMOUS, at("/community/ada/join/")),
    Case(
        "community-signup-errors",
        ANONYMOUS,
        at("/community/ada/join/"),
        act=empty_submit(".community-signup form"),
    ),
    Case(
        "community-signup-bad-address",
        ANONYMOUS,
        at("/community/ada/join/"),
        act=fill_and_submit(
            {"input[name=email]": "not an address", "input[name=first_name]": "Rea"}, ".community-signup form"
        ),
    ),
    Case("community-signup-honeypot", ANONYMOUS, at("/community/ada/join/"), act=bot_signup),
    Case("community-check-inbox", ANONYMOUS, at("/community/ada/check-your-inbox/")),
    Case("community-confirm", ANONYMOUS, lambda w: w.confirm_link(w.waiting)),
    Case(
        "community-confirmed",
        ANONYMOUS,
        lambda w: w.confirm_link(w.waiting),
        act=click("Yes, confirm my subscription"),
    ),
    Case("community-confirm-already", ANONYMOUS, lambda w: w.confirm_link(w.reader)),
    Case("community-confirm-unsubscribed", ANONYMOUS, lambda w: w.confirm_link(w.gone)),
    Case(
        "community-confirm-tampered",
        ANONYMOUS,
        lambda w: w.confirm_link(w.waiting)[:-4] + "AA/",
        status=404,
    ),
    Case(
        "community-confirm-expired",
        ANONYMOUS,
        lambda w: f"/community/confirm/{w.expired_confirm_token}/",
        status=400,
    ),
    Case("community-unsubscribe", ANONYMOUS, lambda w: w.unsubscribe_link(w.reader)),
    Case(
        "community-unsubscribed", ANONYMOUS, lambda w: w.unsubscribe_link(w.reader), act=click("Unsubscribe")
    ),
    Case("community-unsubscribe-already", ANONYMOUS, lambda w: w.unsubscribe_link(w.gone)),
    Case("privacy", ANONYMOUS, at("/privacy/")),
    Case("privacy-written-by-staff", ANONYMOUS, privacy_page),
    Case("csrf-failure", ANONYMOUS, at("/accounts/login/"), act=csrf_failure),
    Case("403-page", ANONYMOUS, at("/__template__/403/"), template="403.html"),
    Case("400-page", ANONYMOUS, at("/__template__/400/"), template="400.html"),
    Case("500-page", ANONYMOUS, at("/__template__/500/"), template="500.html"),
    # Account pages, signed out.
    Case("login", ANONYMOUS, at("/accounts/login/")),
    Case("login-errors", ANONYMOUS, at("/accounts/login/"), act=empty_submit()),
    Case(
        "login-wrong-password",
        ANONYMOUS,
        at("/accounts/login/"),
        act=fill_and_submit({"input[name=login]": "client@example.com", "input[name=password]": "nope"}),
    ),
    Case("signup", ANONYMOUS, at("/accounts/signup/")),
    Case("signup-errors", ANONYMOUS, at("/accounts/signup/"), act=empty_submit()),
    Case("password-reset", ANONYMOUS, at("/accounts/password/reset/")),
    Case("password-reset-errors", ANONYMOUS, at("/accounts/password/reset/"), act=empty_submit()),
    Case("password-reset-done", ANONYMOUS, at("/accounts/password/reset/done/")),
    Case(
        "password-reset-from-key",
        ANONYMOUS,
        lambda w: (
            f"/accounts/password/reset/key/{user_pk_to_url_str(w.client)}-{default_token_generator.make_token(w.client)}/"
        ),
    ),
    Case(
        "password-reset-from-key-errors",
        ANONYMOUS,
        lambda w: (
            f"/accounts/password/reset/key/{user_pk_to_url_str(w.client)}-{default_token_generator.make_token(w.client)}/"
        ),
        act=fill_and_submit({"input[name=password1]": "short", "input[name=password2]": "other"}),
    ),
    Case("password-reset-bad-key", ANONYMOUS, at("/accounts/password/reset/key/1-nonsense/")),
    Case("password-reset-key-done", ANONYMOUS, at("/accounts/password/reset/key/done/")),
    Case("verification-sent", ANONYMOUS, at("/accounts/confirm-email/")),
    Case(
        "confirm-email",
        ANONYMOUS,
        lambda w: (
            f"/accounts/confirm-email/{EmailConfirmationHMAC(EmailAddress.objects.get(user=w.unverified)).key}/"
        ),
    ),
    Case("confirm-email-bad-key", ANONYMOUS, at("/accounts/confirm-email/nonsense/")),
    Case("account-inactive", ANONYMOUS, at("/accounts/inactive/")),
    Case("social-login-cancelled", ANONYMOUS, at("/accounts/3rdparty/login/cancelled/")),
    Case("social-login-error", ANONYMOUS, at("/accounts/3rdparty/login/error/"), status=401),
    # A signed-in client.
    Case("home-signed-in", CLIENT, at("/")),
    Case("offering-signed-in", CLIENT, at("/ada/intro-call/")),
    Case("booking-form-signed-in", CLIENT, lambda w: f"/ada/intro-call/book/?{free_slot_query(w)}"),
    Case("my-bookings", CLIENT, at("/my/bookings/")),
    Case("my-data", CLIENT, at("/my/data/")),
    Case("my-data-delete", CLIENT, at("/my/data/delete/")),
    Case(
        "my-data-delete-errors",
        CLIENT,
        at("/my/data/delete/"),
        act=fill_and_submit({"input[name=confirm_email]": "not-me@example.com"}),
    ),
    Case("my-calendar", CLIENT, at("/my/calendar/")),
    Case("my-calendar-replace", CLIENT, at("/my/calendar/replace/")),
    Case("account-email", CLIENT, at("/accounts/email/")),
    Case(
        "account-email-errors",
        CLIENT,
        at("/accounts/email/"),
        act=fill_and_submit({"input[name=email]": "not an address"}, form="main form.form-add"),
    ),
    Case("password-change", CLIENT, at("/accounts/password/change/")),
    Case("password-change-errors", CLIENT, at("/accounts/password/change/"), act=empty_submit()),
    Case("reauthenticate", CLIENT, at("/accounts/reauthenticate/")),
    Case("logout", CLIENT, at("/accounts/logout/")),
    Case("connected-accounts", CLIENT, at("/accounts/3rdparty/")),
    Case("not-a-coach", CLIENT, at("/dashboard/"), status=403),
    # The coach's dashboard.
    Case("dashboard", COACH, at("/dashboard/")),
    Case("dashboard-profile", COACH, at("/dashboard/profile/")),
    Case(
        "dashboard-profile-errors", COACH, at("/dashboard/profile/"), act=empty_submit(".dashboard-main form")
    ),
    Case("dashboard-offerings", COACH, at("/dashboard/offerings/")),
    Case("dashboard-offering-new", COACH, at("/dashboard/offerings/new/")),
    Case(
        "dashboard-offering-new-errors",
        COACH,
        at("/dashboard/offerings/new/"),
        act=empty_submit(".dashboard-main form"),
    ),
    Case("dashboard-offering-edit", COACH, lambda w: f"/dashboard/offerings/{w.offering.pk}/"),
    Case(
        "dashboard-offering-delete-booked",
        COACH,
        lambda w: f"/dashboard/offerings/{w.offering.pk}/delete/",
    ),
    Case("dashboard-offering-delete", COACH, lambda w: f"/dashboard/offerings/{w.spare_offering.pk}/delete/"),
    Case(
        "dashboard-offering-deactivate",
        COACH,
        lambda w: f"/dashboard/offerings/{w.offering.pk}/deactivate/",
    ),
    Case("dashboard-hours", COACH, at("/dashboard/hours/")),
    Case(
        "dashboard-hours-errors",
        COACH,
        at("/dashboard/hours/"),
        act=fill_and_submit({"#id_day0-0-start": "17:00", "#id_day0-0-end": "09:00"}),
    ),
    Case("dashboard-overrides", COACH, at("/dashboard/overrides/")),
    Case("dashboard-override-new", COACH, at("/dashboard/overrides/new/")),
    Case(
        "dashboard-override-new-errors",
        COACH,
        at("/dashboard/overrides/new/"),
        act=empty_submit(".dashboard-main form"),
    ),
    Case("dashboard-override-delete", COACH, lambda w: f"/dashboard/overrides/{w.override.pk}/delete/"),
    Case("dashboard-preview", COACH, at("/dashboard/preview/")),
    Case("dashboard-bookings", COACH, at("/dashboard/bookings/")),
    Case("dashboard-bookings-all", COACH, at("/dashboard/bookings/?when=all")),
    Case("dashboard-booking", COACH, lambda w: f"/dashboard/bookings/{w.confirmed.reference}/"),
    Case("dashboard-booking-pending", COACH, lambda w: f"/dashboard/bookings/{w.pending.reference}/"),
    Case("dashboard-booking-cancelled", COACH, lambda w: f"/dashboard/bookings/{w.cancelled.reference}/"),
    Case("dashboard-booking-past", COACH, lambda w: f"/dashboard/bookings/{w.past.reference}/"),
    Case("dashboard-booking-approve", COACH, lambda w: f"/dashboard/bookings/{w.pending.reference}/approve/"),
    Case("dashboard-booking-decline", COACH, lambda w: f"/dashboard/bookings/{w.pending.reference}/decline/"),
    Case("dashboard-booking-cancel", COACH, lambda w: f"/dashboard/bookings/{w.confirmed.reference}/cancel/"),
    Case("dashboard-booking-complete", COACH, lambda w: f"/dashboard/bookings/{w.past.reference}/complete/"),
    Case("dashboard-booking-no-show", COACH, lambda w: f"/dashboard/bookings/{w.past.reference}/no-show/"),
    Case(
        "dashboard-booking-reschedule",
        COACH,
        lambda w: f"/dashboard/bookings/{w.confirmed.reference}/reschedule/",
    ),
    Case(
        "dashboard-booking-reschedule-confirm",
        COACH,
        lambda w: f"/dashboard/bookings/{w.confirmed.reference}/reschedule/?{free_slot_query(w)}",
    ),
    Case("dashboard-calendars", COACH, at("/dashboard/calendars/")),
    Case(
        "dashboard-calendars-errors",
        COACH,
        at("/dashboard/calendars/"),
        act=fill_and_submit(
            {"input[name=name]": "", "input[name=url]": "not a calendar"}, "form:has(input[name=url])"
        ),
    ),
    Case("dashboard-calendar-remove", COACH, lambda w: f"/dashboard/calendars/{w.calendar.pk}/remove/"),
    Case("dashboard-feed-replace", COACH, at("/dashboard/calendars/feed/")),
    Case("dashboard-emails", COACH, at("/dashboard/emails/")),
    Case("dashboard-api-tokens", COACH, at("/dashboard/api-tokens/")),
    Case("dashboard-api-token-new", COACH, at("/dashboard/api-tokens/new/")),
    Case(
        "dashboard-api-token-created",
        COACH,
        at("/dashboard/api-tokens/new/"),
        act=fill_and_submit({"#id_name": "CRM sync"}),
    ),
    Case(  # the list with a token in it: create one, then "Done"
        "dashboard-api-tokens-listed",
        COACH,
        at("/dashboard/api-tokens/new/"),
        act=lambda page: (
            fill_and_submit({"#id_name": "CRM sync"})(page),
            page.get_by_role("link", name="Done", exact=True).click(),
            page.wait_for_url("**/dashboard/api-tokens/"),
        ),
    ),
    # The landing page editor, subscribers and broadcasts.
    Case("dashboard-landing", COACH, at("/dashboard/landing/")),
    Case("dashboard-landing-errors", COACH, at("/dashboard/landing/"), act=landing_errors),
    Case("dashboard-landing-preview", COACH, at("/dashboard/landing/"), act=click("Preview without saving")),
    Case("dashboard-landing-live-preview", COACH, at("/dashboard/landing/"), act=live_preview),
    Case("dashboard-subscribers", COACH, at("/dashboard/subscribers/")),
    Case("dashboard-subscribers-filtered", COACH, at("/dashboard/subscribers/?status=pending&q=wai")),
    Case("dashboard-subscribers-none-match", COACH, at("/dashboard/subscribers/?q=nobody")),
    Case("dashboard-broadcasts", COACH, at("/dashboard/broadcasts/")),
    Case("dashboard-broadcast-new", COACH, at("/dashboard/broadcasts/new/")),
    Case(
        "dashboard-broadcast-new-errors",
        COACH,
        at("/dashboard/broadcasts/new/"),
        act=empty_submit(".dashboard-main form", button="button[value=save]"),
    ),
    Case(
        "dashboard-broadcast-new-preview",
        COACH,
        at("/dashboard/broadcasts/new/"),
        act=fill_and_submit(
            {"input[name=subject]": "Hello", "textarea[name=body_markdown]": "Some **bold** news"},
            ".dashboard-main form",
            button="button[value=preview]",
        ),
    ),
    Case("dashboard-broadcast-draft", COACH, lambda w: f"/dashboard/broadcasts/{w.draft.pk}/"),
    Case("dashboard-broadcast-sending", COACH, lambda w: f"/dashboard/broadcasts/{w.sending.pk}/"),
    Case("dashboard-broadcast-sent", COACH, lambda w: f"/dashboard/broadcasts/{w.sent.pk}/"),
    Case("dashboard-broadcast-edit", COACH, lambda w: f"/dashboard/broadcasts/{w.draft.pk}/edit/"),
    Case(
        "dashboard-broadcast-edit-errors",
        COACH,
        lambda w: f"/dashboard/broadcasts/{w.draft.pk}/edit/",
        act=empty_submit(".dashboard-main form", button="button[value=save]"),
    ),
    Case(
        "dashboard-broadcast-test-sent",
        COACH,
        lambda w: f"/dashboard/broadcasts/{w.draft.pk}/",
        act=click("Send a test to me"),
    ),
    Case("dashboard-broadcast-send", COACH, lambda w: f"/dashboard/broadcasts/{w.draft.pk}/send/"),
    Case("dashboard-broadcast-delete", COACH, lambda w: f"/dashboard/broadcasts/{w.draft.pk}/delete/"),
    Case("my-bookings-coach", COACH, at("/my/bookings/")),
    Case("my-data-coach", COACH, at("/my/data/")),
]


@pytest.fixture(autouse=True)
def _no_rate_limits(settings) -> None:
    """allauth's limiters count per address (always 127.0.0.1 here)."""
    settings.ACCOUNT_RATE_LIMITS = False


@pytest.fixture
def pinned() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_it_has_no_serious_accessibility_violations(
    case: Case, page: Page, context: BrowserContext, live_server, pinned: None, world: World, settings
) -> None:
    """axe-core finds nothing serious or critical on the page, on a desktop or a phone."""
    base_url = live_server.url
    page.set_viewport_size(DESKTOP)
    if case.role == CLIENT:
        sign_in(context, base_url, world.client)
    elif case.role == COACH:
        sign_in(context, base_url, world.coach.user)
    if case.manage_rate:
        settings.MANAGE_LOOKUP_RATE = case.manage_rate
    if case.template:
        request = RequestFactory().get("/")
        html = render_to_string(case.template, request=request)
        page.route(
            f"{base_url}{case.path(world)}", lambda route: route.fulfill(body=html, content_type="text/html")
        )

    response = page.goto(base_url + case.path(world))
    assert response is not None
    if case.act is None:
        assert response.status == case.status, f"{case.id}: {response.status} at {page.url}"
    else:
        case.act(page)
    page.wait_for_load_state("networkidle")
    assert_accessible(page, f"{case.id} at {DESKTOP['width']}px")

    # A phone: the layout changes (stacked buttons, tables as lists), so scan again, and
    # nothing may need scrolling sideways at 320 CSS pixels (WCAG 1.4.10 Reflow).
    page.set_viewport_size(PHONE)
    assert_accessible(page, f"{case.id} at {PHONE['width']}px")
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{case.id}: {overflow}px wider than a {PHONE['width']}px screen"


# ---------------------------------------------------------------------------
# The slot picker with the keyboard alone
# ---------------------------------------------------------------------------
def focused(page: Page) -> dict[str, Any]:
    """The focused element: its text, label, id, class, and its focus ring against what is behind it."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            let behind = el.parentElement, background = "rgb(255, 255, 255)";
            while (behind) {
              const colour = getComputedStyle(behind).backgroundColor;
              if (colour && colour !== "transparent" && colour !== "rgba(0, 0, 0, 0)") { background = colour; break; }
              behind = behind.parentElement;
            }
            return {
              tag: el.tagName.toLowerCase(),
              text: (el.innerText || el.value || "").trim(),
              label: el.getAttribute("aria-label") || "",
              id: el.id,
              className: typeof el.className === "string" ? el.className : "",
              outline: style.outlineStyle,
              outlineWidth: parseFloat(style.outlineWidth) || 0,
              outlineColor: style.outlineColor,
              background: background,
            };
        }"""
    )


def relative_luminance(css_colour: str) -> float:
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", css_colour)[:3])
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def tab_to(page: Page, matches: Callable[[dict[str, Any]], bool], *, limit: int = 40) -> dict[str, Any]:
    """Press Tab until the focused element matches. Every stop on the way shows a focus ring
    at least 2px wide with 3:1 contrast against the background around it (WCAG 1.4.11)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        assert now["outline"] not in ("", "none") and now["outlineWidth"] >= 2, f"no visible focus on {now}"
        ratio = contrast(now["outlineColor"], now["background"])
        assert ratio >= 3, f"focus ring contrast {ratio:.2f}:1 on {now}"
        if matches(now):
            return now
    raise AssertionError("Tab never reached the element")


def test_it_picks_a_time_and_reaches_the_booking_form_with_the_keyboard_alone(
    page: Page, live_server, pinned: None, world: World
) -> None:
    """Tab to the zone filter, the zone list, the week links and a slot; Enter works each one,
    and the live region says what changed without a page load."""
    page.goto(f"{live_server.url}/ada/intro-call/")
    status = page.locator("[data-picker-status]")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_attribute("aria-live", "polite")
    # The page script noticed the browser's zone (Europe/Berlin) and said so.
    expect(page.locator("[data-zone-label]")).to_have_text("Europe/Berlin")
    expect(status).to_contain_text("Showing 1–7 December 2026 in Europe/Berlin")
    page.evaluate("() => { window.__sameDocument = true; }")

    # The filter narrows the zone list; the list is the next stop and Enter on "Show times" applies it.
    tab_to(page, lambda el: el["label"] == "Filter the list of time zones")
    page.keyboard.type("Kolkata")
    expect(status).to_contain_text("Asia/Kolkata selected")
    tab_to(page, lambda el: el["id"] == "zone-select", limit=1)
    expect(page.locator("#zone-select")).to_have_value("Asia/Kolkata")
    tab_to(page, lambda el: el["text"] == "Show times", limit=1)
    page.keyboard.press("Enter")
    expect(status).to_contain_text("Showing 1–7 December 2026 in Asia/Kolkata")
    expect(page.locator("[data-zone-label]")).to_have_text("Asia/Kolkata")

    # Next week, then back, from the keyboard: the live region announces each week.
    tab_to(page, lambda el: "Next week" in el["text"])
    page.keyboard.press("Enter")
    expect(page.locator("[data-week-title]")).to_have_text("8–14 December 2026")
    expect(status).to_have_text(re.compile(r"^Showing 8–14 December 2026 in Asia/Kolkata: \d+ free times\.$"))
    assert "week=2026-12-08" in page.url
    page.keyboard.press("Shift+Tab")
    assert "Previous week" in focused(page)["text"]
    page.keyboard.press("Enter")
    expect(page.locator("[data-week-title]")).to_have_text("1–7 December 2026")
    expect(status).to_contain_text("Showing 1–7 December 2026 in Asia/Kolkata")
    # The previous-week link is gone in the first week: focus moved to the week's title, not lost.
    assert focused(page)["id"] == "week-title"
    assert page.evaluate("() => window.__sameDocument === true"), "the week changed with a page load"

    # The first free time: Tuesday 1 December 09:00 in New York is 19:30 in Kolkata.
    tab_to(page, lambda el: "slot-link" in el["className"])
    expect(page.locator(":focus")).to_have_accessible_name("Tuesday 1 December, 19:30")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book Intro call")
    expect(page.get_by_text("Tuesday 1 December 2026, 19:30–20:00")).to_be_visible()
    assert_accessible(page, "booking form reached by keyboard")
