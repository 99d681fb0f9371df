"""Double opt-in: sign up, get a signed link by email, confirm; repeats are harmless; bots get nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.test import Client

from booking.models import Booking
from coaching.models import Coach, Offering
from community import selectors, services, tokens
from community.models import Subscriber
from tests.community.conftest import confirm_path, unsubscribe_path
from tests.support import NOW, SLOT, booking_form_data

pytestmark = pytest.mark.django_db

SIGNUP = "/community/ada/join/"


def sign_up(client: Client, capture, **fields: str):
    data = {"email": "reader@example.com", "first_name": "Rea", "consent": "on", "website": "", **fields}
    with capture(execute=True):
        return client.post(SIGNUP, data)


def test_it_signs_up_confirms_by_email_and_counts_only_then(
    client: Client, coach: Coach, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    """Signup -> pending + one email with a signed link -> the link's button confirms."""
    response = sign_up(client, django_capture_on_commit_callbacks, email="  Reader@Example.com ")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/community/ada/check-your-inbox/"
    assert "check your inbox" in client.get(response["Location"]).content.decode()

    subscriber = Subscriber.objects.get()
    assert subscriber.email == "reader@example.com"
    assert subscriber.first_name == "Rea"
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.source == Subscriber.Source.FORM
    assert "Ada Lovelace" in subscriber.consent_text
    assert selectors.subscriber_counts(coach)["confirmed"] == 0

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["reader@example.com"]
    assert message.subject == "Please confirm: join Ada Lovelace's email community"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = confirm_path(message)

    # Opening the link shows a button (a mail scanner's GET confirms nothing) ...
    page = client.get(path)
    assert page.status_code == HTTPStatus.OK
    assert "Yes, confirm my subscription" in page.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING
    # ... and the button confirms.
    done = client.post(path)
    assert done.status_code == HTTPStatus.OK
    assert "You’re in!" in done.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.confirmed_at is not None
    assert selectors.subscriber_counts(coach)["confirmed"] == 1


def test_it_refuses_a_tampered_confirmation_link(
    client: Client, coach: Coach, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    sign_up(client, django_capture_on_commit_callbacks)
    path = confirm_path(mailoutbox[0])
    token = path.rstrip("/").rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (tampered, "nonsense", "x" * 400, token.replace(":", ".")):
        assert client.get(f"/community/confirm/{bad}/").status_code == HTTPStatus.NOT_FOUND
        assert client.post(f"/community/confirm/{bad}/").status_code == HTTPStatus.NOT_FOUND
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_it_refuses_a_link_signed_for_another_subscriber_key(
    client: Client, coach: Coach, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    """A new key revokes every link sent before it."""
    sign_up(client, django_capture_on_commit_callbacks)
    path = confirm_path(mailoutbox[0])
    Subscriber.objects.update(key=tokens.new_subscriber_key())
    assert client.post(path).status_code == HTTPStatus.NOT_FOUND


def test_it_says_an_expired_confirmation_link_has_expired(
    client: Client, coach: Coach, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    """After 7 days the link answers 400 with a way to sign up again, and confirms nothing."""
    with time_machine.travel(NOW, tick=False) as traveller:
        sign_up(client, django_capture_on_commit_callbacks)
        path = confirm_path(mailoutbox[0])
        traveller.shift(tokens.CONFIRM_MAX_AGE - timedelta(minutes=1))
        assert client.get(path).status_code == HTTPStatus.OK  # still good just before
        traveller.shift(timedelta(minutes=2))
        for response in (client.get(path), client.post(path)):
            assert response.status_code == HTTPStatus.BAD_REQUEST
            html = response.content.decode()
            assert "This confirmation link has expired" in html
            assert 'href="/community/ada/join/"' in html
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_it_makes_signing_up_and_confirming_twice_harmless(
    client: Client, coach: Coach, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    """Twice in a row: one row, one email. Later: the confirmation again. Confirmed: "already in"."""
    with time_machine.travel(NOW, tick=False) as traveller:
        sign_up(client, django_capture_on_commit_callbacks)
        again = sign_up(client, django_capture_on_commit_callbacks)
        assert again.status_code == HTTPStatus.FOUND
        assert Subscriber.objects.count() == 1
        assert len(mailoutbox) == 1  # no second email within ten minutes

        traveller.shift(services.NOTICE_EVERY + timedelta(seconds=1))
        sign_up(client, django_capture_on_commit_callbacks)
        assert len(mailoutbox) == 2
        assert "Please confirm" in mailoutbox[1].subject

        path = confirm_path(mailoutbox[1])
        assert "You’re in!" in client.post(path).content.decode()
        # Confirming twice (either link) says so and changes nothing.
        first_link = confirm_path(mailoutbox[0])
        for response in (client.get(first_link), client.post(first_link), client.post(path)):
            assert response.status_code == HTTPStatus.OK
            assert "You’re already in" in response.content.decode()
        confirmed_at = Subscriber.objects.get().confirmed_at

        # Signing up once confirmed: the page answers as always, the email says "already in".
        traveller.shift(services.NOTICE_EVERY + timedelta(seconds=1))
        sign_up(client, django_capture_on_commit_callbacks, first_name="")
        assert len(mailoutbox) == 3
        assert mailoutbox[2].subject == "You're already in Ada Lovelace's email community"
        subscriber = Subscriber.objects.get()
        assert subscriber.status == Subscriber.Status.CONFIRMED
        assert subscriber.confirmed_at == confirmed_at
        assert subscriber.first_name == "Rea"


def test_it_starts_double_opt_in_afresh_after_an_unsubscribe(
    client: Client, coach: Coach, mailoutbox, django_capture_on_commit_callbacks, subscriber
) -> None:
    gone = subscriber(status=Subscriber.Status.UNSUBSCRIBED)
    sign_up(client, django_capture_on_commit_callbacks)
    gone.refresh_from_db()
    assert gone.status == Subscriber.Status.PENDING
    assert gone.confirmed_at is None
    assert len(mailoutbox) == 1
    assert "Please confirm" in mailoutbox[0].subject


def test_it_keeps_an_address_unsubscribed_when_an_old_confirmation_link_is_used(
    client: Client, coach: Coach, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    sign_up(client, django_capture_on_commit_callbacks)
    client.post(unsubscribe_path(mailoutbox[0]))
    response = client.post(confirm_path(mailoutbox[0]))
    assert "This subscription has ended" in response.content.decode()
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


def test_it_gives_a_bot_filling_the_honeypot_nothing(
    client: Client, coach: Coach, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    """Same answer as a person, but no row and no email."""
    response = sign_up(client, django_capture_on_commit_callbacks, website="https://spam.example")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/community/ada/check-your-inbox/"
    assert not Subscriber.objects.exists()
    assert mailoutbox == []


def test_it_hides_the_honeypot_with_a_class_not_an_inline_style(client: Client, coach: Coach) -> None:
    html = client.get("/ada/").content.decode()
    assert '<div class="hp-field" aria-hidden="true">' in html
    assert 'name="website"' in html
    assert 'tabindex="-1"' in html
    assert "style=" not in html


def test_it_rate_limits_signups_per_address(
    client: Client, coach: Coach, settings, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    settings.COMMUNITY_SIGNUP_RATE = "2/m"
    for n in range(2):
        assert (
            sign_up(client, django_capture_on_commit_callbacks, email=f"r{n}@example.com").status_code == 302
        )
    response = sign_up(client, django_capture_on_commit_callbacks, email="r9@example.com")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many signups" in response.content.decode()
    assert Subscriber.objects.count() == 2
    assert len(mailoutbox) == 2


def test_it_switches_the_rate_limit_off_with_the_setting(
    client: Client, coach: Coach, settings, django_capture_on_commit_callbacks
) -> None:
    settings.COMMUNITY_SIGNUP_RATE = "1/m"
    settings.RATE_LIMITS_ENABLED = False
    for n in range(3):
        assert (
            sign_up(client, django_capture_on_commit_callbacks, email=f"r{n}@example.com").status_code == 302
        )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": ""}, "Enter your email address."),
        ({"email": "not-an-address"}, "Enter an email address like name@example.com."),
        ({"email": "a@" + "b" * 300 + ".com"}, "Ensure this value has at most 254 characters"),
        ({"consent": ""}, "Tick the box to agree to the emails"),
        ({"first_name": "x" * 101}, "Ensure this value has at most 100 characters"),
    ],
)
def test_it_explains_what_is_wrong_with_the_form(
    client: Client, coach: Coach, mailoutbox, django_capture_on_commit_callbacks, fields, message
) -> None:
    response = sign_up(client, django_capture_on_commit_callbacks, **fields)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    html = response.content.decode()
    assert message in html
    assert "Please fix the problem" in html
    assert 'aria-invalid="true"' in html
    assert not Subscriber.objects.exists()
    assert mailoutbox == []


def test_it_links_the_privacy_policy_from_the_signup_form(client: Client, coach: Coach) -> None:
    for path in ("/ada/", SIGNUP):
        html = client.get(path).content.decode()
        assert 'href="/privacy/"' in html
        assert '<label for="signup_consent">' in html


def test_it_answers_404_for_a_coach_without_a_community(client: Client, coach: Coach) -> None:
    assert client.get("/community/nobody/join/").status_code == HTTPStatus.NOT_FOUND
    Coach.objects.filter(pk=coach.pk).update(community_enabled=False)
    assert client.get(SIGNUP).status_code == HTTPStatus.NOT_FOUND
    assert (
        client.post(SIGNUP, {"email": "a@example.com", "consent": "on"}).status_code == HTTPStatus.NOT_FOUND
    )
    assert 'name="website"' not in client.get("/ada/").content.decode()


def test_it_resends_a_lost_confirmation_from_the_sweep(
    coach: Coach, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    """The broker lost the message: the beat sweep sends it, once."""
    from community.tasks import sweep_community

    with time_machine.travel(NOW, tick=False) as traveller:
        services.subscriber_subscribe(
            coach=coach, email="lost@example.com", consent_text="Yes"
        )  # no on-commit run
        assert mailoutbox == []
        traveller.shift(selectors.SWEEP_GRACE + timedelta(seconds=1))
        assert sweep_community() == 1
        assert len(mailoutbox) == 1
        assert sweep_community() == 0
        assert len(mailoutbox) == 1


# ---------------------------------------------------------------------------
# Opting in on the booking form
# ---------------------------------------------------------------------------
@pytest.mark.time_machine(NOW, tick=False)
def test_it_offers_the_community_unticked_on_the_booking_form(client: Client, offering: Offering) -> None:
    html = client.get(
        f"/ada/intro-call/book/?start={SLOT:%Y-%m-%dT%H:%M:%SZ}&tz=Europe/Berlin"
    ).content.decode()
    assert 'name="join_community"' in html
    assert "checked" not in html.split('name="join_community"')[1].split(">")[0]
    assert 'href="/privacy/"' in html


@pytest.mark.time_machine(NOW, tick=False)
def test_it_subscribes_a_client_who_opts_in_while_booking(
    client: Client, offering: Offering, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    """Ticked: a pending subscriber from the booking and a confirmation email besides the booking's."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/ada/intro-call/book/", booking_form_data(join_community="on"))
    assert response.status_code == HTTPStatus.FOUND
    assert Booking.objects.count() == 1
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.first_name) == ("grace@example.com", "Grace")
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.source == Subscriber.Source.BOOKING
    assert [m.subject for m in mailoutbox].count("Please confirm: join Ada Lovelace's email community") == 1


@pytest.mark.time_machine(NOW, tick=False)
def test_it_subscribes_nobody_who_leaves_the_box_unticked(
    client: Client, offering: Offering, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/ada/intro-call/book/", booking_form_data())
    assert response.status_code == HTTPStatus.FOUND
    assert not Subscriber.objects.exists()
    assert not any("confirm: join" in m.subject for m in mailoutbox)


@pytest.mark.time_machine(NOW, tick=False)
def test_it_subscribes_an_api_client_who_opts_in_with_the_booking(
    client: Client, offering: Offering, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    """``"join_community": true`` in POST /api/v1/bookings: the same double opt-in as the form."""
    body = {
        "coach": "ada",
        "offering": "intro-call",
        "start": SLOT.isoformat(),
        "name": "Grace Hopper",
        "email": "Grace@Example.com",
        "timezone": "Europe/Berlin",
        "join_community": True,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/bookings", body, content_type="application/json")
    assert response.status_code == HTTPStatus.CREATED
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.status, subscriber.source) == (
        "grace@example.com",
        Subscriber.Status.PENDING,
        Subscriber.Source.BOOKING,
    )
    assert "Ada Lovelace’s community letters" in subscriber.consent_text
    assert [m.subject for m in mailoutbox].count("Please confirm: join Ada Lovelace's email community") == 1


@pytest.mark.time_machine(NOW, tick=False)
def test_it_subscribes_nobody_when_the_booking_fails(client: Client, offering: Offering, book) -> None:
    """The opt-in is part of the booking's transaction: a slot just taken books nothing and signs up nobody."""
    book(SLOT)
    data = booking_form_data(join_community="on", email="late@example.com")
    response = client.post("/ada/intro-call/book/", data)
    assert response.status_code == HTTPStatus.CONFLICT
    assert not Subscriber.objects.filter(email="late@example.com").exists()


def test_it_keeps_time_in_utc(coach: Coach) -> None:
    """Consent and confirmation times are aware UTC instants."""
    result = services.subscriber_subscribe(
        coach=coach, email="a@example.com", consent_text="Yes", now=datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert result.subscriber.consented_at.tzinfo is not None
    assert result.outcome == "new"
