"""Dashboard forms refuse what cannot work, with a message that says what to fix."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest

from coaching import services
from coaching.forms import (
    CoachProfileForm,
    DateOverrideForm,
    OfferingForm,
    WeeklyHoursForm,
    longest_window_minutes,
    parse_reminder_offsets,
)
from coaching.models import Coach, Offering, WeeklyHours
from tests.factories import CoachFactory, DateOverrideFactory, OfferingFactory
from tests.support import offering_data, week_data

TODAY = date(2026, 11, 30)  # a Monday


def _errors(form: Any) -> str:
    return " ".join(str(message) for messages in form.errors.values() for message in messages)


# ---------------------------------------------------------------------------
# Weekly hours
# ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_refuses_a_window_that_ends_before_it_starts(coach: Coach) -> None:
    form = WeeklyHoursForm(week_data(**{"day0-0": ("17:00", "09:00")}), coach=coach)
    assert not form.is_valid()
    assert form.errors["day0-0-end"] == [
        "Monday: 17:00–09:00 ends before it starts. The end must be after the start."
    ]


@pytest.mark.django_db
def test_it_refuses_a_window_that_ends_when_it_starts(coach: Coach) -> None:
    form = WeeklyHoursForm(week_data(**{"day2-0": ("09:00", "09:00")}), coach=coach)
    assert not form.is_valid()
    assert "Wednesday: 09:00–09:00 ends before it starts" in _errors(form)


@pytest.mark.django_db
def test_it_refuses_overlapping_windows_naming_the_day_and_windows(coach: Coach) -> None:
    form = WeeklyHoursForm(
        week_data(**{"day1-0": ("11:00", "13:00"), "day1-1": ("09:00", "12:00")}),
        coach=coach,
    )
    assert not form.is_valid()
    assert form.errors["day1-0-start"] == ["Tuesday: 09:00–12:00 overlaps 11:00–13:00."]


@pytest.mark.django_db
def test_it_accepts_windows_that_touch(coach: Coach) -> None:
    form = WeeklyHoursForm(
        week_data(**{"day1-0": ("09:00", "12:00"), "day1-1": ("12:00", "13:00")}), coach=coach
    )
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_it_refuses_an_end_without_a_start(coach: Coach) -> None:
    form = WeeklyHoursForm(week_data(**{"day4-1": ("", "12:00")}), coach=coach)
    assert not form.is_valid()
    assert form.errors["day4-1-start"] == [
        "Friday: add a start time for the window ending 12:00, or clear its end."
    ]


@pytest.mark.django_db
def test_it_refuses_a_start_without_an_end(coach: Coach) -> None:
    form = WeeklyHoursForm(week_data(**{"day6-0": ("10:00", "")}), coach=coach)
    assert not form.is_valid()
    assert "Sunday: add an end time for the window starting 10:00" in _errors(form)


@pytest.mark.django_db
def test_it_ignores_blank_rows_and_accepts_rows_added_by_the_script(coach: Coach) -> None:
    """Rows beyond the three rendered ones (added in the browser) are read too."""
    data = week_data(**{"day0-0": ("09:00", "10:00")})
    data |= {"day0-5-start": "15:00", "day0-5-end": "16:00"}
    form = WeeklyHoursForm(data, coach=coach)
    assert form.is_valid(), form.errors
    assert form.windows[0] == [(time(9), time(10)), (time(15), time(16))]
    assert form.windows[3] == []


@pytest.mark.django_db
def test_it_shows_a_blank_row_after_a_full_day(coach: Coach) -> None:
    """A day with three windows gets a fourth, empty row so it can grow without JavaScript."""
    for hour in (6, 8, 10):
        WeeklyHours.objects.create(coach=coach, weekday=6, start=time(hour), end=time(hour + 1))
    form = WeeklyHoursForm(coach=coach)
    sunday = form.days[6]
    assert len(sunday.rows) == 4
    assert sunday.rows[0].start.value() == time(6)
    assert sunday.rows[3].start.value() is None


# ---------------------------------------------------------------------------
# Offerings
# ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_refuses_a_call_longer_than_every_window(coach: Coach) -> None:
    """The coach works 09:00-17:00 (480 minutes): a 9-hour call never fits."""
    WeeklyHours.objects.filter(coach=coach).update(end=time(11))
    form = OfferingForm(offering_data(duration_minutes="150"), coach=coach, today=TODAY)
    assert not form.is_valid()
    assert form.errors["duration_minutes"] == [
        "This call is longer than any of your available windows (the longest is 120 minutes). "
        "Make it shorter or widen your weekly hours."
    ]


@pytest.mark.django_db
def test_it_counts_touching_windows_and_override_windows_as_room_for_a_call(coach: Coach) -> None:
    WeeklyHours.objects.filter(coach=coach).delete()
    WeeklyHours.objects.create(coach=coach, weekday=0, start=time(9), end=time(10))
    WeeklyHours.objects.create(coach=coach, weekday=0, start=time(10), end=time(11))
    assert OfferingForm(offering_data(duration_minutes="120"), coach=coach, today=TODAY).is_valid()
    assert not OfferingForm(offering_data(duration_minutes="180"), coach=coach, today=TODAY).is_valid()
    DateOverrideFactory(coach=coach, date=date(2026, 12, 5), start=time(8), end=time(12))
    form = OfferingForm(offering_data(duration_minutes="180"), coach=coach, today=TODAY)
    assert form.is_valid(), form.errors


def test_it_measures_the_longest_stretch_of_a_day() -> None:
    assert (
        longest_window_minutes([(time(13), time(14)), (time(9), time(10)), (time(10), time(11, 30))]) == 150
    )
    assert longest_window_minutes([]) == 0


@pytest.mark.django_db
def test_it_refuses_a_negative_buffer(coach: Coach) -> None:
    form = OfferingForm(offering_data(buffer_before_minutes="-5"), coach=coach, today=TODAY)
    assert not form.is_valid()
    assert form.errors["buffer_before_minutes"] == ["A buffer can't be negative. Use 0 for none."]


@pytest.mark.django_db
def test_it_refuses_a_zero_slot_step(coach: Coach) -> None:
    form = OfferingForm(offering_data(slot_step_minutes="0"), coach=coach, today=TODAY)
    assert not form.is_valid()
    assert form.errors["slot_step_minutes"] == ["Start times must be at least 5 minutes apart."]


@pytest.mark.django_db
def test_it_refuses_a_slug_the_coach_already_uses(coach: Coach, offering: Offering) -> None:
    form = OfferingForm(offering_data(slug="intro-call"), coach=coach, today=TODAY)
    assert not form.is_valid()
    assert form.errors["slug"] == ["You already have an offering at the address “intro-call”. Pick another."]


@pytest.mark.django_db
def test_it_allows_a_slug_another_coach_uses_and_keeping_ones_own(coach: Coach, offering: Offering) -> None:
    OfferingFactory(coach=CoachFactory(), slug="deep-dive")
    assert OfferingForm(offering_data(), coach=coach, today=TODAY).is_valid()
    edit = OfferingForm(offering_data(slug="intro-call"), instance=offering, coach=coach, today=TODAY)
    assert edit.is_valid(), edit.errors


@pytest.mark.django_db
def test_it_makes_the_slug_from_the_title_when_blank(coach: Coach) -> None:
    form = OfferingForm(offering_data(slug="", title="Career Check-in"), coach=coach, today=TODAY)
    assert form.is_valid(), form.errors
    assert services.offering_save(coach=coach, offering=form.cleaned_offering()).slug == "career-check-in"


@pytest.mark.django_db
def test_it_saves_questions_rows_and_reminder_offsets(coach: Coach) -> None:
    """Blank question rows are dropped; reminders are read as minutes or hours."""
    data = offering_data(client_reminders="1h, 24h, 30m", coach_reminders="")
    data |= {
        "questions-TOTAL_FORMS": "3",
        "questions-INITIAL_FORMS": "0",
        "questions-0-label": "What would you like to talk about?",
        "questions-0-type": "long_text",
        "questions-0-required": "on",
        "questions-1-label": "",
        "questions-1-type": "text",
        "questions-2-label": "First call?",
        "questions-2-type": "yes_no",
    }
    form = OfferingForm(data, coach=coach, today=TODAY)
    assert form.is_valid(), (form.errors, form.questions.errors)
    offering = services.offering_save(coach=coach, offering=form.cleaned_offering())
    offering.refresh_from_db()
    assert offering.coach == coach
    assert offering.intake_questions == [
        {"label": "What would you like to talk about?", "type": "long_text", "required": True},
        {"label": "First call?", "type": "yes_no", "required": False},
    ]
    assert offering.reminder_offsets == {"client": [1440, 60, 30], "coach": []}


@pytest.mark.django_db
def test_it_refuses_the_same_question_twice(coach: Coach) -> None:
    data = offering_data() | {
        "questions-TOTAL_FORMS": "2",
        "questions-INITIAL_FORMS": "0",
        "questions-0-label": "Goal?",
        "questions-0-type": "text",
        "questions-1-label": "goal?",
        "questions-1-type": "text",
    }
    form = OfferingForm(data, coach=coach, today=TODAY)
    assert not form.is_valid()
    assert form.questions.forms[1].errors["label"] == [
        "“goal?” is asked twice. Make each question different."
    ]


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("", []),
        ("30", [30]),
        ("24h, 1h", [1440, 60]),
        ("2 hours,15 min, 1d", [1440, 120, 15]),
        ("60, 1h", [60]),
    ],
)
def test_it_reads_reminder_offsets(text: str, minutes: list[int]) -> None:
    assert parse_reminder_offsets(text) == minutes


@pytest.mark.django_db
def test_it_refuses_a_reminder_that_is_not_a_time(coach: Coach) -> None:
    form = OfferingForm(offering_data(client_reminders="tomorrow"), coach=coach, today=TODAY)
    assert not form.is_valid()
    assert form.errors["client_reminders"] == [
        "“tomorrow” isn't a time before the call. Use minutes (30) or hours (2h), separated by commas."
    ]


# ---------------------------------------------------------------------------
# Profile
# ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_refuses_an_unknown_time_zone(coach: Coach) -> None:
    form = CoachProfileForm({"display_name": "Ada", "time_zone": "Mars/Olympus_Mons"}, instance=coach)
    assert not form.is_valid()
    assert form.errors["time_zone"] == [
        "“Mars/Olympus_Mons” is not a known time zone. Pick one like Europe/Berlin."
    ]


@pytest.mark.django_db
def test_it_offers_every_zone_and_saves_one(coach: Coach) -> None:
    form = CoachProfileForm({"display_name": "Ada", "time_zone": "Asia/Kolkata"}, instance=coach)
    assert ("Asia/Kolkata", "Asia/Kolkata") in form.fields["time_zone"].widget.choices
    assert form.is_valid(), form.errors
    assert form.save().time_zone == "Asia/Kolkata"


# ---------------------------------------------------------------------------
# Date overrides
# ---------------------------------------------------------------------------
def override_data(**overrides: str) -> dict[str, str]:
    data = {"date": "2026-12-24", "note": ""}
    data |= {f"window-{n}-{part}": "" for n in range(3) for part in ("start", "end")}
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_it_refuses_an_override_in_the_past(coach: Coach) -> None:
    form = DateOverrideForm(override_data(date="2026-11-29", unavailable="on"), coach=coach, today=TODAY)
    assert not form.is_valid()
    assert form.errors["date"] == ["Sun 29 Nov 2026 has passed. Pick today or a later date."]


@pytest.mark.django_db
def test_it_accepts_an_override_for_today(coach: Coach) -> None:
    form = DateOverrideForm(override_data(date="2026-11-30", unavailable="on"), coach=coach, today=TODAY)
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_it_refuses_unavailable_mixed_with_windows(coach: Coach) -> None:
    data = override_data(unavailable="on", **{"window-0-start": "10:00", "window-0-end": "12:00"})
    form = DateOverrideForm(data, coach=coach, today=TODAY)
    assert not form.is_valid()
    assert form.errors["unavailable"][0].startswith(
        "Choose either “unavailable all day” or windows, not both."
    )


@pytest.mark.django_db
def test_it_refuses_an_override_with_neither(coach: Coach) -> None:
    form = DateOverrideForm(override_data(), coach=coach, today=TODAY)
    assert not form.is_valid()
    assert form.errors["unavailable"] == ["Tick “unavailable all day”, or add at least one window."]


@pytest.mark.django_db
def test_it_refuses_override_windows_that_overlap_or_end_before_they_start(coach: Coach) -> None:
    data = override_data(
        **{
            "window-0-start": "09:00",
            "window-0-end": "12:00",
            "window-1-start": "11:30",
            "window-1-end": "13:00",
            "window-2-start": "18:00",
            "window-2-end": "17:00",
        }
    )
    form = DateOverrideForm(data, coach=coach, today=TODAY)
    assert not form.is_valid()
    assert form.errors["window-1-start"] == ["Thu 24 Dec: 09:00–12:00 overlaps 11:30–13:00."]
    assert form.errors["window-2-end"] == [
        "Thu 24 Dec: 18:00–17:00 ends before it starts. The end must be after the start."
    ]
    assert "unavailable" not in form.errors


@pytest.mark.django_db
def test_it_refuses_a_second_override_for_the_same_date(coach: Coach) -> None:
    DateOverrideFactory(coach=coach, date=date(2026, 12, 24))
    form = DateOverrideForm(override_data(unavailable="on"), coach=coach, today=TODAY)
    assert not form.is_valid()
    assert form.errors["date"] == [
        "You already have an override on Thu 24 Dec. Remove it first to change it."
    ]


@pytest.mark.django_db
def test_it_saves_override_windows_as_rows(coach: Coach) -> None:
    data = override_data(
        note="Short day",
        **{
            "window-0-start": "14:00",
            "window-0-end": "16:00",
            "window-1-start": "09:00",
            "window-1-end": "10:00",
        },
    )
    form = DateOverrideForm(data, coach=coach, today=TODAY)
    assert form.is_valid(), form.errors
    rows = services.date_override_create(
        coach=coach,
        day=form.cleaned_data["date"],
        note=form.cleaned_data["note"],
        windows=form.windows,
    )
    assert [(r.start, r.end, r.note) for r in rows] == [
        (time(9), time(10), "Short day"),
        (time(14), time(16), "Short day"),
    ]
