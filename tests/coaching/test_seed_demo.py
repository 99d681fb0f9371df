"""seed_demo creates the demo coach of the public contract and can run any number of times."""

from __future__ import annotations

from datetime import time

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from accounts.models import User
from coaching.models import Coach, Offering, WeeklyHours


@pytest.mark.django_db
def test_it_creates_the_demo_coach(tmp_path: object, settings: pytest.FixtureRequest) -> None:
    """Slug demo, New York, Mon-Fri 09:00-17:00, intro-call (30) and coaching-session (60)."""
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", verbosity=0)

    coach = Coach.objects.get(slug="demo")
    assert coach.user.email == "coach@example.com"
    assert coach.time_zone == "America/New_York"
    assert {(o.slug, o.duration_minutes) for o in coach.offerings.all()} == {
        ("intro-call", 30),
        ("coaching-session", 60),
    }
    hours = list(coach.weekly_hours.values_list("weekday", "start", "end"))
    assert hours == [(day, time(9), time(17)) for day in range(5)]
    assert EmailAddress.objects.get(user=coach.user).verified


@pytest.mark.django_db
def test_it_is_idempotent_and_keeps_the_printed_password(tmp_path: object, settings, capsys) -> None:
    """Running it twice changes nothing and prints the same working password both times."""
    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    second = capsys.readouterr().out

    assert first == second
    assert User.objects.filter(email="coach@example.com").count() == 1
    assert Coach.objects.count() == 1
    assert Offering.objects.count() == 2
    assert WeeklyHours.objects.count() == 5
    password = first.split("password: ")[1].split()[0]
    assert User.objects.get(email="coach@example.com").check_password(password)


@pytest.mark.django_db
def test_it_does_not_overwrite_what_the_coach_changed(tmp_path: object, settings) -> None:
    """A second run leaves the coach's edited hours and offerings alone."""
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", verbosity=0)
    coach = Coach.objects.get(slug="demo")
    coach.weekly_hours.filter(weekday=0).update(start=time(10))
    Offering.objects.filter(slug="intro-call").update(duration_minutes=45)

    call_command("seed_demo", verbosity=0)

    assert coach.weekly_hours.get(weekday=0).start == time(10)
    assert Offering.objects.get(slug="intro-call").duration_minutes == 45
