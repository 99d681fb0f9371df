"""Becoming a coach: who may, the live address check, errors that keep what was typed, one transaction."""

from __future__ import annotations

import html
import io
from datetime import time
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts.models import User
from coaching import services
from coaching.models import Coach, Offering, WeeklyHours
from tests.factories import CoachFactory, UserFactory
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

START = "/dashboard/start/"
CHECK = "/dashboard/start/address"


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "display_name": "Nina Newcoach",
        "headline": "Coaching for first-time managers",
        "slug": "nina",
        "time_zone": "Europe/Berlin",
        "offering_title": "First call",
        "offering_duration": "45",
        "offering_description": "We look at one question.",
    }
    for weekday in range(5):
        data.update({f"day{weekday}-on": "on", f"day{weekday}-start": "09:00", f"day{weekday}-end": "17:00"})
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture(autouse=True)
def _signup_open(settings) -> None:
    settings.COACH_SIGNUP = "open"


@pytest.fixture
def newcomer(db: None) -> User:
    return UserFactory(email="nina@example.com", name="Nina Newcoach")


@pytest.fixture
def signed_in(client: Client, newcomer: User) -> Client:
    client.force_login(newcomer)
    return client


# ---------------------------------------------------------------------------
# Who may
# ---------------------------------------------------------------------------
def test_the_dashboard_links_a_verified_non_coach_to_become_a_coach(signed_in: Client) -> None:
    response = signed_in.get("/dashboard/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "You're not a coach here" in text(response)
    assert 'href="/dashboard/start/"' in text(response)
    assert "Become a coach" in text(response)


def test_with_signup_closed_the_dashboard_says_coaches_are_invited(signed_in: Client, settings) -> None:
    settings.COACH_SIGNUP = "closed"
    page = text(signed_in.get("/dashboard/"))
    assert "invited by the people who run it" in page
    assert "/dashboard/start/" not in page
    response = signed_in.get(START)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert signed_in.post(START, form_data()).status_code == HTTPStatus.FORBIDDEN
    assert signed_in.get(CHECK, {"slug": "nina"}).status_code == HTTPStatus.FORBIDDEN
    assert not Coach.objects.exists()


def test_an_unverified_person_is_asked_to_confirm_their_address_first(client: Client) -> None:
    client.force_login(UserFactory(email="fresh@example.com", verified=False))
    page = text(client.get("/dashboard/"))
    assert "confirm your email address" in page
    assert "/dashboard/start/" not in page
    assert client.get(START).status_code == HTTPStatus.FORBIDDEN
    assert client.post(START, form_data()).status_code == HTTPStatus.FORBIDDEN
    assert not Coach.objects.exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(client: Client) -> None:
    response = client.get(START)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/login/?next=/dashboard/start/"
    assert client.get(CHECK, {"slug": "nina"}).status_code == HTTPStatus.FORBIDDEN


def test_a_coach_is_sent_to_their_dashboard(coach_client: Client, coach: Coach) -> None:
    response = coach_client.get(START, follow=True)
    assert response.redirect_chain == [("/dashboard/", HTTPStatus.FOUND)]
    assert "You're a coach already" in text(response)
    coach_client.post(START, form_data(slug="second-page"))
    assert Coach.objects.filter(user=coach.user).count() == 1
    assert not Coach.objects.filter(slug="second-page").exists()


# ---------------------------------------------------------------------------
# The form
# ---------------------------------------------------------------------------
def test_the_form_is_prefilled_from_the_account_with_mon_to_fri_nine_to_five(signed_in: Client) -> None:
    response = signed_in.get(START)
    assert response.status_code == HTTPStatus.OK
    form = response.context["form"]
    assert form["display_name"].value() == "Nina Newcoach"
    assert form["slug"].value() == "nina-newcoach"
    assert form["time_zone"].value() == "UTC"
    page = text(response)
    assert 'enctype="multipart/form-data"' in page
    assert "data-suggest-zone" in page
    for weekday in range(5):
        assert form[f"day{weekday}-on"].value() is True
    assert form["day5-on"].value() is False
    assert form["day0-start"].value().strftime("%H:%M") == "09:00"


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("dashboard", "“dashboard” is reserved. Please choose another address."),
        ("ada", "This address is taken. Please choose another one."),
        ("not a slug!", "Enter a valid “slug”"),
    ],
)
def test_a_bad_address_re_renders_with_its_message_and_keeps_what_was_typed(
    signed_in: Client, coach: Coach, slug: str, message: str
) -> None:
    response = signed_in.post(START, form_data(slug=slug))
    assert response.status_code == HTTPStatus.OK
    page = text(response)
    assert message in page
    assert 'aria-describedby="id_slug_helptext id_slug_error"' in page
    assert f'value="{slug}"' in page
    assert 'value="Coaching for first-time managers"' in page
    assert 'value="First call"' in page
    assert '<option value="Europe/Berlin" selected>' in page
    assert "data-suggest-zone" not in page  # the zone picked stays picked
    assert not Coach.objects.filter(user__email="nina@example.com").exists()


def test_hours_that_end_before_they_start_or_none_at_all_are_explained(signed_in: Client) -> None:
    page = text(signed_in.post(START, form_data(**{"day1-end": "08:00"})))
    assert "Tuesday: 09:00–08:00 ends before it starts." in page
    no_days = {f"day{n}-on": None for n in range(5)}
    page = text(signed_in.post(START, form_data(**no_days)))
    assert "tick at least one day" in page
    page = text(
        signed_in.post(
            START,
            form_data(
                offering_duration="90", **{"day0-end": "09:30"}, **{f"day{n}-on": None for n in range(1, 5)}
            ),
        )
    )
    assert "A 90-minute call is longer than your longest day (30 minutes)." in page
    assert not Coach.objects.exists()


def test_a_wrong_duration_or_zone_is_a_message_not_a_500(signed_in: Client) -> None:
    response = signed_in.post(START, form_data(offering_duration="7", time_zone="Mars/Olympus"))
    assert response.status_code == HTTPStatus.OK
    page = text(response)
    assert "Select a valid choice" in page
    assert "“Mars/Olympus” is not a known time zone." in page


# ---------------------------------------------------------------------------
# The live check
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("slug", "ok", "message"),
    [
        ("nina", True, "http://testserver/nina/ is free."),
        ("Nina", True, "http://testserver/nina/ is free."),
        ("admin", False, "“admin” is reserved. Please choose another address."),
        ("ada", False, "This address is taken. Please choose another one."),
        ("ADA", False, "This address is taken. Please choose another one."),
        ("no spaces", False, "Enter a valid “slug”"),
        ("", False, "Choose an address for your page."),
    ],
)
def test_the_live_check_answers_ok_reserved_taken_and_invalid(
    signed_in: Client, coach: Coach, settings, slug: str, ok: bool, message: str
) -> None:
    settings.SITE_URL = "http://testserver"
    response = signed_in.get(CHECK, {"slug": slug})
    assert response.status_code == HTTPStatus.OK
    answer = response.json()
    assert answer["ok"] is ok
    assert answer["message"].startswith(message)


def test_the_live_check_is_rate_limited(signed_in: Client, monkeypatch) -> None:
    from coaching import onboarding

    monkeypatch.setattr(onboarding, "ADDRESS_CHECK_RATE", "2/m")
    assert signed_in.get(CHECK, {"slug": "a1"}).status_code == HTTPStatus.OK
    assert signed_in.get(CHECK, {"slug": "a2"}).status_code == HTTPStatus.OK
    response = signed_in.get(CHECK, {"slug": "a3"})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json()["ok"] is False


# ---------------------------------------------------------------------------
# Success, all or nothing
# ---------------------------------------------------------------------------
def test_submitting_creates_the_coach_offering_and_hours_then_shows_the_ready_page(
    signed_in: Client, newcomer: User, settings
) -> None:
    settings.SITE_URL = "https://coach.example.org"
    response = signed_in.post(
        START, form_data(**{"day5-on": "on", "day5-start": "10:00", "day5-end": "12:00"})
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/dashboard/start/ready/"
    coach = Coach.objects.get(user=newcomer)
    assert (coach.slug, coach.display_name, coach.headline, coach.time_zone) == (
        "nina",
        "Nina Newcoach",
        "Coaching for first-time managers",
        "Europe/Berlin",
    )
    offering = Offering.objects.get(coach=coach)
    assert (offering.title, offering.slug, offering.duration_minutes, offering.description) == (
        "First call",
        "first-call",
        45,
        "We look at one question.",
    )
    assert offering.is_active and offering.is_listed
    assert list(
        WeeklyHours.objects.filter(coach=coach).order_by("weekday").values_list("weekday", "start", "end")
    ) == [
        *[(n, time(9), time(17)) for n in range(5)],
        (5, time(10), time(12)),
    ]

    ready = signed_in.get(response["Location"])
    assert ready.status_code == HTTPStatus.OK
    page = text(ready)
    assert "Your page is ready" in page
    assert 'value="https://coach.example.org/nina/"' in page
    assert "Copy link" in page
    assert "mailto:?" in page
    assert 'href="/nina/"' in page
    public = signed_in.get("/nina/")
    assert public.status_code == HTTPStatus.OK
    assert "First call" in text(public)


def test_a_photo_is_stored_with_the_profile(
    signed_in: Client, newcomer: User, settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, "JPEG")
    photo = SimpleUploadedFile("me.jpg", buffer.getvalue(), content_type="image/jpeg")
    response = signed_in.post(START, form_data(photo=photo))
    assert response.status_code == HTTPStatus.FOUND
    coach = Coach.objects.get(user=newcomer)
    assert coach.photo.name.startswith("coaches/")
    assert (Path(settings.MEDIA_ROOT) / coach.photo.name).exists()


def test_a_file_that_is_not_a_photo_is_a_message(signed_in: Client) -> None:
    photo = SimpleUploadedFile("me.jpg", b"not an image", content_type="image/jpeg")
    response = signed_in.post(START, form_data(photo=photo))
    assert response.status_code == HTTPStatus.OK
    assert "Upload a valid image." in text(response)
    assert not Coach.objects.exists()


def test_an_address_taken_between_the_check_and_the_save_is_a_message_and_leaves_nothing(
    signed_in: Client, monkeypatch
) -> None:
    """Another person takes "nina" after the form checked it: the database refuses, the page says so."""
    CoachFactory(slug="nina")
    checked = services.coach_slug_problem
    monkeypatch.setattr(
        services, "coach_slug_problem", lambda slug, **kw: "" if slug == "nina" else checked(slug, **kw)
    )
    response = signed_in.post(START, form_data())
    assert response.status_code == HTTPStatus.OK
    assert "This address was just taken. Please choose another one." in text(response)
    assert Coach.objects.count() == 1
    assert not Offering.objects.exists()


def test_a_failure_after_the_coach_is_created_leaves_nothing(
    signed_in: Client, newcomer: User, monkeypatch
) -> None:
    def broken(**kwargs: Any) -> None:
        raise services.SetupError("The hours could not be saved.")

    monkeypatch.setattr(services, "weekly_hours_replace", broken)
    response = signed_in.post(START, form_data())
    assert response.status_code == HTTPStatus.OK
    assert "The hours could not be saved." in text(response)
    assert not Coach.objects.filter(user=newcomer).exists()
    assert not Offering.objects.exists()
    assert not WeeklyHours.objects.exists()


def test_the_ready_page_is_for_coaches_only(signed_in: Client) -> None:
    assert signed_in.get("/dashboard/start/ready/").status_code == HTTPStatus.FORBIDDEN
