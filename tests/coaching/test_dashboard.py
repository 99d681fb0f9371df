"""The coach dashboard: only coaches get in, each sees only their own rows, saves persist."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, time, timedelta
from http import HTTPStatus
from typing import Any

import pytest
import time_machine
from django.db.models import CharField
from django.test import Client
from django.urls import reverse

from booking.models import Booking
from coaching.models import Coach, DateOverride, Offering, WeeklyHours
from tests.factories import CoachFactory, DateOverrideFactory, OfferingFactory
from tests.support import offering_data, week_data

# Monday 30 November 2026, 08:00 in New York (the coach fixture's zone).
MONDAY_8AM_NEW_YORK = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)

DASHBOARD_PAGES = [
    "dashboard",
    "dashboard_profile",
    "dashboard_offerings",
    "dashboard_offering_create",
    "dashboard_hours",
    "dashboard_overrides",
    "dashboard_override_create",
    "dashboard_preview",
]


def html(response: Any) -> str:
    return response.content.decode()


def preview_days(page: str) -> dict[str, list[str]]:
    """{"Tue 1 Dec": ["10:00", ...]} for each day of the preview that has slots."""
    days: dict[str, list[str]] = {}
    for label, body in re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", page, flags=re.DOTALL):
        times = re.findall(r"<time datetime=\"[^\"]+\">(\d\d:\d\d)</time>", body)
        if times:
            days[label] = times
    return days


@pytest.fixture
def other_coach(db: None) -> Coach:
    return CoachFactory(slug="grace", display_name="Grace Hopper", user__email="grace@example.com")


@pytest.fixture
def other_offering(other_coach: Coach) -> Offering:
    return OfferingFactory(coach=other_coach, slug="grace-call", title="Grace's secret call")


def make_booking(offering: Offering) -> Booking:
    """A confirmed booking of ``offering``, whatever secret columns the Booking model has."""
    start = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    values: dict[str, Any] = {
        "reference": "BK-TEST0001",
        "coach": offering.coach,
        "offering": offering,
        "client_name": "Client",
        "client_email": "client@example.com",
        "client_time_zone": "Europe/Berlin",
        "start": start,
        "end": start + timedelta(minutes=30),
        "blocked_start": start,
        "blocked_end": start + timedelta(minutes=30),
    }
    for field in Booking._meta.concrete_fields:
        if (
            isinstance(field, CharField)
            and field.name not in values
            and not field.blank
            and not field.has_default()
        ):
            values[field.name] = secrets.token_hex(32)[: field.max_length]
    return Booking.objects.create(**values)


# ---------------------------------------------------------------------------
# Who gets in
# ---------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("name", DASHBOARD_PAGES)
def test_it_sends_anonymous_visitors_to_the_login_page(client: Client, name: str) -> None:
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", DASHBOARD_PAGES)
def test_it_answers_403_with_a_friendly_page_to_a_signed_in_client(
    client_user_client: Client, name: str
) -> None:
    response = client_user_client.get(reverse(name))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "not a coach here" in html(response)


@pytest.mark.django_db
def test_it_keeps_a_client_from_posting_to_the_dashboard(
    client_user_client: Client, offering: Offering
) -> None:
    url = reverse("dashboard_offering_delete", args=[offering.pk])
    assert client_user_client.post(url).status_code == HTTPStatus.FORBIDDEN
    assert Offering.objects.filter(pk=offering.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["dashboard_offering_edit", "dashboard_offering_delete", "dashboard_offering_deactivate"]
)
def test_it_hides_another_coachs_offering(coach_client: Client, other_offering: Offering, name: str) -> None:
    """Coach A gets 404 for coach B's offering, on GET and POST, and nothing changes."""
    url = reverse(name, args=[other_offering.pk])
    assert coach_client.get(url).status_code == HTTPStatus.NOT_FOUND
    assert coach_client.post(url, offering_data(title="Stolen")).status_code == HTTPStatus.NOT_FOUND
    other_offering.refresh_from_db()
    assert other_offering.title == "Grace's secret call"
    assert other_offering.is_active


@pytest.mark.django_db
def test_it_hides_another_coachs_override(coach_client: Client, other_coach: Coach) -> None:
    theirs = DateOverrideFactory(coach=other_coach, date=date(2026, 12, 24))
    url = reverse("dashboard_override_delete", args=[theirs.pk])
    assert coach_client.get(url).status_code == HTTPStatus.NOT_FOUND
    assert coach_client.post(url).status_code == HTTPStatus.NOT_FOUND
    assert DateOverride.objects.filter(pk=theirs.pk).exists()
    assert "24 Dec" not in html(coach_client.get(reverse("dashboard_overrides")))


@pytest.mark.django_db
@time_machine.travel(MONDAY_8AM_NEW_YORK, tick=False)
def test_it_never_previews_another_coachs_offering(
    coach_client: Client, offering: Offering, other_offering: Offering
) -> None:
    page = html(coach_client.get(reverse("dashboard_preview"), {"offering": other_offering.pk}))
    assert "Grace" not in page
    assert "Intro call" in page


# ---------------------------------------------------------------------------
# Offerings
# ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_shows_an_empty_state_without_offerings(coach_client: Client) -> None:
    assert "You have no offerings yet" in html(coach_client.get(reverse("dashboard_offerings")))


@pytest.mark.django_db
def test_it_creates_an_offering_for_the_signed_in_coach(coach_client: Client, coach: Coach) -> None:
    response = coach_client.post(reverse("dashboard_offering_create"), offering_data(), follow=True)
    assert response.redirect_chain == [(reverse("dashboard_offerings"), HTTPStatus.FOUND)]
    assert "“Deep dive” saved." in html(response)
    created = Offering.objects.get(slug="deep-dive")
    assert created.coach == coach
    assert (created.duration_minutes, created.buffer_after_minutes, created.min_notice_minutes) == (
        60,
        10,
        240,
    )
    assert created.reminder_offsets == {"client": [1440, 60], "coach": [60]}


@pytest.mark.django_db
def test_it_rerenders_an_invalid_offering_with_linked_errors(coach_client: Client) -> None:
    response = coach_client.post(
        reverse("dashboard_offering_create"), offering_data(buffer_before_minutes="-1")
    )
    assert response.status_code == HTTPStatus.OK
    page = html(response)
    assert "A buffer can&#x27;t be negative" in page or "A buffer can't be negative" in page
    assert re.search(r'aria-describedby="[^"]*\bid_buffer_before_minutes_error\b[^"]*"', page)
    assert 'id="id_buffer_before_minutes_error"' in page
    assert not Offering.objects.exists()


@pytest.mark.django_db
def test_it_edits_an_offering_keeping_its_questions(coach_client: Client, offering: Offering) -> None:
    offering.intake_questions = [{"label": "Goal?", "type": "text", "required": True}]
    offering.save()
    form_page = html(coach_client.get(reverse("dashboard_offering_edit", args=[offering.pk])))
    assert 'value="Goal?"' in form_page
    data = offering_data(title="Intro call, longer", slug="intro-call", duration_minutes="45")
    data |= {
        "questions-TOTAL_FORMS": "3",
        "questions-INITIAL_FORMS": "1",
        "questions-0-label": "Goal?",
        "questions-0-type": "long_text",
        "questions-0-required": "on",
        "questions-1-label": "Anything else?",
        "questions-1-type": "text",
        "questions-2-label": "",
        "questions-2-type": "text",
    }
    response = coach_client.post(reverse("dashboard_offering_edit", args=[offering.pk]), data)
    assert response.status_code == HTTPStatus.FOUND
    offering.refresh_from_db()
    assert offering.title == "Intro call, longer"
    assert offering.duration_minutes == 45
    assert offering.intake_questions == [
        {"label": "Goal?", "type": "long_text", "required": True},
        {"label": "Anything else?", "type": "text", "required": False},
    ]


@pytest.mark.django_db
def test_it_deletes_an_offering_after_confirmation(coach_client: Client, offering: Offering) -> None:
    url = reverse("dashboard_offering_delete", args=[offering.pk])
    confirm = coach_client.get(url)
    assert "Delete “Intro call”?" in html(confirm)
    assert Offering.objects.filter(pk=offering.pk).exists()
    response = coach_client.post(url, follow=True)
    assert "“Intro call” deleted." in html(response)
    assert not Offering.objects.filter(pk=offering.pk).exists()


@pytest.mark.django_db
def test_it_refuses_to_delete_a_booked_offering_and_offers_deactivation(
    coach_client: Client, offering: Offering
) -> None:
    make_booking(offering)
    url = reverse("dashboard_offering_delete", args=[offering.pk])
    assert "Deactivate it instead" in html(coach_client.get(url))
    response = coach_client.post(url)
    assert response.status_code == HTTPStatus.CONFLICT
    assert "has bookings, so it can&#x27;t be deleted" in html(response)
    assert Offering.objects.filter(pk=offering.pk).exists()

    coach_client.post(reverse("dashboard_offering_deactivate", args=[offering.pk]))
    offering.refresh_from_db()
    assert not offering.is_active


@pytest.mark.django_db
def test_it_only_asks_for_confirmation_on_get(coach_client: Client, offering: Offering) -> None:
    """Deleting and deactivating need a POST; a GET only asks."""
    coach_client.get(reverse("dashboard_offering_deactivate", args=[offering.pk]))
    offering.refresh_from_db()
    assert offering.is_active


@pytest.mark.django_db
def test_it_paginates_offerings(coach_client: Client, coach: Coach) -> None:
    for n in range(21):
        OfferingFactory(coach=coach, title=f"Call {n:02d}")
    assert "Page 1 of 2" in html(coach_client.get(reverse("dashboard_offerings")))


# ---------------------------------------------------------------------------
# Weekly hours
# ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_shows_the_week_grid_with_fieldsets_and_the_current_hours(coach_client: Client) -> None:
    page = html(coach_client.get(reverse("dashboard_hours")))
    assert page.count("<legend>") == 7
    assert "<legend>Sunday</legend>" in page
    assert 'name="day0-0-start" value="09:00"' in page
    assert 'name="day6-2-end"' in page


@pytest.mark.django_db
def test_it_replaces_the_weekly_hours(coach_client: Client, coach: Coach) -> None:
    data = week_data(
        **{"day1-0": ("10:00", "12:00"), "day1-1": ("14:00", "15:30"), "day5-0": ("09:00", "10:00")}
    )
    response = coach_client.post(reverse("dashboard_hours"), data, follow=True)
    assert "Weekly hours saved." in html(response)
    saved = list(WeeklyHours.objects.filter(coach=coach).values_list("weekday", "start", "end"))
    assert saved == [(1, time(10), time(12)), (1, time(14), time(15, 30)), (5, time(9), time(10))]


@pytest.mark.django_db
def test_it_keeps_the_hours_when_the_week_is_invalid(coach_client: Client, coach: Coach) -> None:
    data = week_data(**{"day1-0": ("10:00", "12:00"), "day1-1": ("11:00", "13:00")})
    response = coach_client.post(reverse("dashboard_hours"), data)
    assert response.status_code == HTTPStatus.OK
    page = html(response)
    assert "Tuesday: 10:00–12:00 overlaps 11:00–13:00." in page
    assert 'aria-describedby="id_day1-1-start_error"' in page
    assert WeeklyHours.objects.filter(coach=coach).count() == 5


@pytest.mark.django_db
def test_it_clears_the_whole_week(coach_client: Client, coach: Coach) -> None:
    coach_client.post(reverse("dashboard_hours"), week_data())
    assert not WeeklyHours.objects.filter(coach=coach).exists()


@pytest.mark.django_db
def test_it_leaves_other_coaches_hours_alone(coach_client: Client, other_coach: Coach) -> None:
    WeeklyHours.objects.create(coach=other_coach, weekday=2, start=time(8), end=time(9))
    coach_client.post(reverse("dashboard_hours"), week_data(**{"day1-0": ("10:00", "12:00")}))
    assert WeeklyHours.objects.filter(coach=other_coach).count() == 1


# ---------------------------------------------------------------------------
# Date overrides
# ---------------------------------------------------------------------------
@pytest.mark.django_db
@time_machine.travel(MONDAY_8AM_NEW_YORK, tick=False)
def test_it_adds_and_removes_an_override(coach_client: Client, coach: Coach) -> None:
    data = {"date": "2026-12-24", "unavailable": "on", "note": "Holiday"}
    response = coach_client.post(reverse("dashboard_override_create"), data, follow=True)
    assert "Override for Thu 24 Dec saved." in html(response)
    assert "Unavailable all day" in html(response)
    override = DateOverride.objects.get(coach=coach)
    assert (override.date, override.start, override.end, override.note) == (
        date(2026, 12, 24),
        None,
        None,
        "Holiday",
    )

    url = reverse("dashboard_override_delete", args=[override.pk])
    assert "Remove the override for Thu 24 Dec 2026?" in html(coach_client.get(url))
    response = coach_client.post(url, follow=True)
    assert "Override for Thu 24 Dec removed" in html(response)
    assert not DateOverride.objects.filter(coach=coach).exists()


@pytest.mark.django_db
@time_machine.travel(MONDAY_8AM_NEW_YORK, tick=False)
def test_it_removes_every_window_of_a_date_together(coach_client: Client, coach: Coach) -> None:
    data = {
        "date": "2026-12-05",
        "window-0-start": "09:00",
        "window-0-end": "10:00",
        "window-1-start": "13:00",
        "window-1-end": "14:00",
    }
    coach_client.post(reverse("dashboard_override_create"), data)
    assert "Available 09:00–10:00, 13:00–14:00" in html(coach_client.get(reverse("dashboard_overrides")))
    first = DateOverride.objects.filter(coach=coach).order_by("start").first()
    coach_client.post(reverse("dashboard_override_delete", args=[first.pk]))
    assert not DateOverride.objects.filter(coach=coach).exists()


@pytest.mark.django_db
@time_machine.travel(MONDAY_8AM_NEW_YORK, tick=False)
def test_it_lists_upcoming_overrides_only_and_paginates_by_date(coach_client: Client, coach: Coach) -> None:
    DateOverrideFactory(coach=coach, date=date(2026, 11, 1), note="Long gone")
    for n in range(21):
        DateOverrideFactory(coach=coach, date=date(2026, 12, 1) + timedelta(days=n))
    first = html(coach_client.get(reverse("dashboard_overrides")))
    assert "Long gone" not in first
    assert "Page 1 of 2" in first
    assert "Tue 1 Dec" in first
    assert "Mon 21 Dec" in html(coach_client.get(reverse("dashboard_overrides"), {"page": 2}))


@pytest.mark.django_db
@time_machine.travel(MONDAY_8AM_NEW_YORK, tick=False)
def test_it_refuses_a_past_override_in_the_page(coach_client: Client, coach: Coach) -> None:
    response = coach_client.post(
        reverse("dashboard_override_create"), {"date": "2026-11-29", "unavailable": "on"}
    )
    assert response.status_code == HTTPStatus.OK
    assert "Sun 29 Nov 2026 has passed" in html(response)
    assert not DateOverride.objects.exists()


# ---------------------------------------------------------------------------
# Profile
# ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_saves_the_profile(coach_client: Client, coach: Coach) -> None:
    data = {
        "display_name": "Ada L.",
        "headline": "Numbers",
        "bio": "",
        "time_zone": "Europe/London",
        "default_meeting_url": "https://meet.example.com/ada",
    }
    response = coach_client.post(reverse("dashboard_profile"), data, follow=True)
    assert "Profile saved." in html(response)
    coach.refresh_from_db()
    assert (coach.display_name, coach.time_zone) == ("Ada L.", "Europe/London")


@pytest.mark.django_db
def test_it_explains_an_unknown_zone_in_the_page(coach_client: Client, coach: Coach) -> None:
    response = coach_client.post(
        reverse("dashboard_profile"), {"display_name": "Ada", "time_zone": "Nowhere/Land"}
    )
    assert "is not a known time zone" in html(response)
    coach.refresh_from_db()
    assert coach.time_zone == "America/New_York"


# ---------------------------------------------------------------------------
# Preview
# ---------------------------------------------------------------------------
@pytest.mark.django_db
@time_machine.travel(MONDAY_8AM_NEW_YORK, tick=False)
def test_it_previews_exactly_the_slots_the_rules_imply(
    coach_client: Client, coach: Coach, offering: Offering
) -> None:
    """Tuesday 10-12 weekly, Wednesday only 14:00-15:00, next Tuesday off: local New York times."""
    WeeklyHours.objects.filter(coach=coach).delete()
    WeeklyHours.objects.create(coach=coach, weekday=1, start=time(10), end=time(12))
    DateOverrideFactory(coach=coach, date=date(2026, 12, 2), start=time(14), end=time(15))
    DateOverrideFactory(coach=coach, date=date(2026, 12, 8))  # outside the 7 days anyway
    page = html(coach_client.get(reverse("dashboard_preview")))
    assert preview_days(page) == {
        "Tue 1 Dec": ["10:00", "10:30", "11:00", "11:30"],
        "Wed 2 Dec": ["14:00", "14:30"],
    }
    assert '<time datetime="2026-12-01T10:00:00-05:00">10:00</time>' in page
    assert "Mon 30 Nov" in page
    assert "Sun 6 Dec" in page
    assert "6 free slots this week." in page


@pytest.mark.django_db
@time_machine.travel(MONDAY_8AM_NEW_YORK + timedelta(hours=2), tick=False)
def test_it_applies_and_explains_minimum_notice(
    coach_client: Client, coach: Coach, offering: Offering
) -> None:
    """At 10:00 on Monday with 2 hours' notice, Monday's first slot is 12:00."""
    offering.min_notice_minutes = 120
    offering.save()
    page = html(coach_client.get(reverse("dashboard_preview")))
    assert preview_days(page)["Mon 30 Nov"][0] == "12:00"
    assert "Clients must book at least 2 hours ahead" in page


@pytest.mark.django_db
@time_machine.travel(MONDAY_8AM_NEW_YORK, tick=False)
def test_it_shows_the_chosen_offering(coach_client: Client, coach: Coach, offering: Offering) -> None:
    hour_long = OfferingFactory(coach=coach, title="Deep dive", duration_minutes=60, slot_step_minutes=60)
    page = html(coach_client.get(reverse("dashboard_preview"), {"offering": hour_long.pk}))
    assert f'<option value="{hour_long.pk}" selected>' in page
    assert preview_days(page)["Mon 30 Nov"] == [f"{h:02d}:00" for h in range(9, 17)]


@pytest.mark.django_db
@time_machine.travel(MONDAY_8AM_NEW_YORK, tick=False)
def test_it_shows_an_empty_state_when_no_slot_is_free(
    coach_client: Client, coach: Coach, offering: Offering
) -> None:
    WeeklyHours.objects.filter(coach=coach).delete()
    page = html(coach_client.get(reverse("dashboard_preview")))
    assert "No free slots this week — check your" in page


@pytest.mark.django_db
def test_it_invites_a_coach_without_offerings_to_create_one(coach_client: Client) -> None:
    assert "Create your first offering" in html(coach_client.get(reverse("dashboard_preview")))


@pytest.mark.django_db
@time_machine.travel(MONDAY_8AM_NEW_YORK, tick=False)
@pytest.mark.parametrize("name", ["dashboard_preview"])
def test_it_builds_the_preview_in_a_bounded_number_of_queries(
    coach_client: Client, coach: Coach, offering: Offering, django_assert_max_num_queries: Any, name: str
) -> None:
    """Session, user, coach, offerings, then the selector's at most four: however busy the week."""
    for n in range(5):
        OfferingFactory(coach=coach, title=f"Extra {n}")
    for day in range(1, 6):
        DateOverrideFactory(coach=coach, date=date(2026, 12, day), start=time(9), end=time(12))
    # +1: the navigation's count of bookings waiting for approval (booking/context_processors.py).
    with django_assert_max_num_queries(9):
        response = coach_client.get(reverse(name))
    assert response.status_code == HTTPStatus.OK


@pytest.mark.django_db
@time_machine.travel(MONDAY_8AM_NEW_YORK, tick=False)
def test_the_home_page_shows_the_zone_links_and_the_preview(coach_client: Client, offering: Offering) -> None:
    """The home page (the agenda) links to the setup pages and to the preview, which shows the week."""
    page = html(coach_client.get(reverse("dashboard")))
    assert "America/New_York" in page
    for name in (
        "dashboard_offerings",
        "dashboard_hours",
        "dashboard_overrides",
        "dashboard_profile",
        "dashboard_preview",
    ):
        assert f'href="{reverse(name)}"' in page
    preview = html(coach_client.get(reverse("dashboard_preview")))
    assert preview_days(preview)["Mon 30 Nov"][0] == "09:00"
