"""The coach's landing page: intro, photo, offerings with their next free time, signup, sharing tags;
edited from the dashboard with a preview; the privacy policy page and where it is linked."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from coaching.models import Coach, Offering
from community.models import SitePage
from tests.factories import OfferingFactory, UserFactory
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]
# NOW is Tuesday 1 December 2026, 07:00 in New York; the coach works Mon-Fri 09-17 there,
# the offering needs no notice: the next free time is today 09:00 New York, 15:00 Berlin.


def page(client: Client, path: str = "/ada/") -> str:
    response = client.get(path)
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def png(size: tuple[int, int] = (20, 20)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "PNG")
    return SimpleUploadedFile("me.png", buffer.getvalue(), content_type="image/png")


def test_it_shows_the_intro_offerings_book_button_and_signup(
    client: Client, coach: Coach, offering: Offering
) -> None:
    Coach.objects.filter(pk=coach.pk).update(
        intro_markdown="I help you find your **next best move**.\n\n<script>alert(1)</script>",
        headline="Coaching for your next best move",
    )
    html = page(client)
    assert '<h1 id="coach-name">Ada Lovelace</h1>' in html
    assert "Coaching for your next best move" in html
    assert "<strong>next best move</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert '<a class="button button-large" href="/ada/intro-call/">Book a call</a>' in html
    assert 'Book<span class="visually-hidden"> Intro call</span>' in html
    assert "Join Ada Lovelace’s email community" in html
    assert 'action="/community/ada/join/"' in html


def test_it_says_when_the_next_free_time_is_in_the_coachs_zone_by_default(
    client: Client, coach: Coach, offering: Offering
) -> None:
    html = page(client)
    assert 'Next free: <time datetime="2026-12-01T09:00:00-05:00">today 09:00</time>' in html
    assert "New York time, Ada Lovelace’s zone" in html


def test_it_shows_the_next_free_time_in_the_visitors_zone(
    client: Client, coach: Coach, offering: Offering
) -> None:
    html = page(client, "/ada/?tz=Europe/Berlin")
    assert 'Next free: <time datetime="2026-12-01T15:00:00+01:00">today 15:00</time>' in html
    assert "your time (Europe/Berlin)" in html
    assert 'href="/ada/intro-call/?tz=Europe%2FBerlin">Book a call</a>' in html


def test_it_uses_a_signed_in_visitors_zone(client: Client, coach: Coach, offering: Offering) -> None:
    client.force_login(UserFactory(email="tokyo@example.com", time_zone="Asia/Kolkata"))
    html = page(client)
    assert "today 19:30" in html
    assert "your time (Asia/Kolkata)" in html


def test_it_ignores_a_bad_zone_parameter(client: Client, coach: Coach, offering: Offering) -> None:
    assert "New York time" in page(client, "/ada/?tz=Mars/Olympus")
    assert "New York time" in page(client, "/ada/?tz=" + "x" * 500)


def test_it_names_the_day_of_a_later_free_time(client: Client, coach: Coach) -> None:
    OfferingFactory(
        coach=coach, slug="long", title="Long call", duration_minutes=60, min_notice_minutes=3 * 24 * 60
    )
    assert 'datetime="2026-12-04T09:00:00-05:00">Fri 09:00</time>' in page(client)


def test_it_says_when_nothing_is_free(client: Client, coach: Coach, offering: Offering) -> None:
    coach.weekly_hours.all().delete()
    assert "No free times right now" in page(client)


def test_it_has_tags_for_search_and_sharing(
    client: Client, coach: Coach, offering: Offering, settings
) -> None:
    settings.SITE_URL = "https://coach.example"
    Coach.objects.filter(pk=coach.pk).update(
        headline="", intro_markdown="## Hi\n\nI help **you** & your team."
    )
    html = page(client)
    assert "<title>Ada Lovelace · Coaching Calls</title>" in html
    assert '<meta name="description" content="Hi I help you &amp; your team.">' in html
    assert '<meta property="og:title" content="Ada Lovelace">' in html
    assert '<meta property="og:description" content="Hi I help you &amp; your team.">' in html
    assert '<meta property="og:url" content="https://coach.example/ada/">' in html
    assert '<link rel="canonical" href="https://coach.example/ada/">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert "og:image" not in html  # no photo yet


def test_it_edits_the_landing_page_with_a_preview_and_a_photo(
    coach_client: Client, coach: Coach, offering: Offering, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    edit = page(coach_client, "/dashboard/landing/")
    assert 'data-preview-url="/dashboard/preview-markdown/"' in edit
    assert "js/landing-preview.js" in edit
    assert 'enctype="multipart/form-data"' in edit

    data = {
        "headline": "New headline",
        "intro_markdown": "Hello *there* <img src=x onerror=alert(1)>",
        "community_enabled": "on",
        "community_pitch": "Tips every other week",
    }
    preview = coach_client.post("/dashboard/landing/", {**data, "action": "preview"}).content.decode()
    pane = preview.split("data-preview-target>", 1)[1].split("</div>", 1)[0]
    assert pane.strip() == "<p>Hello <em>there</em> </p>"
    coach.refresh_from_db()
    assert coach.intro_markdown == ""  # a preview saves nothing

    saved = coach_client.post("/dashboard/landing/", {**data, "photo": png(), "action": "save"})
    assert saved.status_code == HTTPStatus.FOUND
    coach.refresh_from_db()
    assert coach.headline == "New headline"
    assert coach.photo.name.startswith("coaches/")
    html = page(coach_client)
    assert "Hello <em>there</em>" in html
    assert "Tips every other week" in html
    assert f'<meta property="og:image" content="{settings.SITE_URL}{coach.photo.url}">' in html
    assert f'<img class="landing-photo" src="{coach.photo.url}"' in html


def test_it_refuses_a_file_that_is_not_an_image(coach_client: Client, coach: Coach) -> None:
    fake = SimpleUploadedFile("me.png", b"not an image", content_type="image/png")
    response = coach_client.post("/dashboard/landing/", {"headline": "x", "photo": fake, "action": "save"})
    assert response.status_code == HTTPStatus.OK
    assert "Upload a valid image" in response.content.decode()
    coach.refresh_from_db()
    assert not coach.photo


def test_it_can_switch_the_community_signup_off(
    coach_client: Client, coach: Coach, offering: Offering
) -> None:
    coach_client.post("/dashboard/landing/", {"headline": "x", "intro_markdown": "", "action": "save"})
    coach.refresh_from_db()
    assert not coach.community_enabled
    assert "email community" not in page(coach_client)


def test_it_shows_the_default_privacy_policy_until_staff_write_one(client: Client) -> None:
    html = page(client, "/privacy/")
    assert '<h1 id="privacy-title">Privacy policy</h1>' in html
    assert "one-click unsubscribe" in html


def test_it_shows_the_privacy_policy_staff_wrote(client: Client) -> None:
    SitePage.objects.create(
        slug=SitePage.Slug.PRIVACY,
        title="How we treat your data",
        body_markdown="## Short\n\nWe keep **little**.",
    )
    html = page(client, "/privacy/")
    assert "How we treat your data" in html
    assert "<h2>Short</h2>" in html
    assert "We keep <strong>little</strong>." in html


def test_it_lets_staff_edit_the_privacy_policy_in_admin(client: Client) -> None:
    admin = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        "/admin/community/sitepage/add/",
        {"slug": "privacy", "title": "Privacy", "body_markdown": "We keep little."},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert "We keep little." in page(client, "/privacy/")


def test_it_links_the_privacy_policy_from_every_form_that_asks_for_an_email(client: Client) -> None:
    assert 'href="/privacy/"' in page(client, "/accounts/signup/")
    assert 'href="/privacy/"' in page(client, "/")  # the footer, on every page


def test_it_keeps_community_addresses_out_of_coach_slugs() -> None:
    from coaching.models import RESERVED_SLUGS

    assert {"community", "privacy", "dashboard"} <= RESERVED_SLUGS


def test_it_answers_404_on_an_unknown_coach_landing_page(client: Client) -> None:
    assert client.get("/nobody/").status_code == HTTPStatus.NOT_FOUND


def test_it_lands_on_the_page_in_a_fixed_number_of_queries(
    client: Client, coach: Coach, offering: Offering, django_assert_max_num_queries
) -> None:
    """Coach + offerings, then three per offering for the next free time."""
    OfferingFactory(coach=coach, slug="second", title="Second", duration_minutes=60)
    with django_assert_max_num_queries(12):
        client.get("/ada/")


def test_when_labels_read_naturally() -> None:
    from zoneinfo import ZoneInfo

    from common.display import when_label

    zone = ZoneInfo("Europe/Berlin")
    assert when_label(datetime(2026, 12, 2, 9, 0, tzinfo=UTC), zone, NOW) == "tomorrow 10:00"
    assert when_label(datetime(2026, 12, 5, 9, 0, tzinfo=UTC), zone, NOW) == "Sat 10:00"
    assert when_label(datetime(2026, 12, 15, 9, 30, tzinfo=UTC), zone, NOW) == "Tue 15 Dec, 10:30"
