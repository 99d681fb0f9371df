"""manage.py createcoach: a verified account and a bookable coach page, safe to run again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from accounts.models import User
from booking.models import Booking
from booking.slots import offering_free_slots
from coaching.models import Coach, Offering
from tests.factories import CoachFactory
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW)]

ARGS = ["--email", "Mia@Example.com", "--name", "Mia Coach", "--slug", "mia", "--time-zone", "Europe/Berlin"]


def run(*args: str) -> str:
    out = StringIO()
    call_command("createcoach", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "password"
    path.write_text("a long secret phrase\n")
    return path


def test_it_makes_a_verified_coach_who_can_sign_in_and_be_booked(password_file: Path, client: Client) -> None:
    out = run(*ARGS, "--password-file", str(password_file))
    assert "Coach ready at /mia/ (Europe/Berlin)" in out
    coach = Coach.objects.get(slug="mia")
    assert (coach.display_name, coach.time_zone, coach.user.name) == (
        "Mia Coach",
        "Europe/Berlin",
        "Mia Coach",
    )
    assert EmailAddress.objects.get(user=coach.user).verified
    assert client.login(email=coach.user.email, password="a long secret phrase")
    assert client.get("/dashboard/").status_code == 200
    offering = Offering.objects.get(coach=coach)
    today = NOW.date()
    assert offering_free_slots(offering=offering, start=today, end=today + timedelta(days=7), now=NOW)
    assert client.get("/mia/").status_code == 200


def test_it_is_idempotent(password_file: Path) -> None:
    run(*ARGS, "--password-file", str(password_file))
    out = run(*ARGS)
    assert "already the coach at /mia/: nothing to do" in out
    assert Coach.objects.count() == 1 and User.objects.count() == 1
    assert Offering.objects.filter(coach__slug="mia").count() == 1
    assert User.objects.get().check_password("a long secret phrase")  # kept without a file


def test_it_makes_an_existing_account_a_coach_without_touching_its_password() -> None:
    user = User.objects.create_user(email="mia@example.com", password="their own password")
    run(*ARGS)
    user.refresh_from_db()
    assert user.check_password("their own password") and user.coach.slug == "mia"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slug", "dashboard"], "reserved"),
        (["--slug", "taken"], "taken"),
        (["--slug", "not a slug"], "--slug"),
        (["--time-zone", "Mars/Olympus"], "unknown time zone"),
        (["--email", "nobody"], "not an email address"),
    ],
)
def test_it_refuses_bad_input_and_makes_nothing(args: list[str], message: str) -> None:
    CoachFactory(slug="taken")
    before = User.objects.count()
    values = dict(zip(ARGS[::2], ARGS[1::2], strict=True)) | dict(zip(args[::2], args[1::2], strict=True))
    with pytest.raises(CommandError, match=message):
        run(*[item for pair in values.items() for item in pair])
    assert User.objects.count() == before
    assert not Coach.objects.filter(display_name="Mia Coach").exists()


def test_it_refuses_a_short_password(tmp_path: Path) -> None:
    short = tmp_path / "password"
    short.write_text("short\n")
    with pytest.raises(CommandError, match="at least 8"):
        run(*ARGS, "--password-file", str(short))


def test_the_created_coach_is_booked_through_the_public_api(password_file: Path, client: Client) -> None:
    run(*ARGS, "--password-file", str(password_file))
    offering = Offering.objects.get(coach__slug="mia")
    today = NOW.date()
    first = offering_free_slots(offering=offering, start=today, end=today + timedelta(days=7), now=NOW)[0]
    body = {
        "coach": "mia",
        "offering": "intro-call",
        "start": first.isoformat(),
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "timezone": "America/New_York",
    }
    response = client.post("/api/v1/bookings", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    booking = Booking.objects.get(reference=response.json()["reference"])
    assert (booking.coach.slug, booking.offering.slug, booking.start) == ("mia", "intro-call", first)
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.room_key  # the intro call's own video room


def test_before_migrate_it_says_to_migrate_and_makes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("unapplied", False)])
    with pytest.raises(CommandError, match=r"Run `manage\.py migrate` first\."):
        run(*ARGS)
    assert not User.objects.exists()


def test_from_a_fresh_clone_it_exits_non_zero_with_that_message_and_no_traceback(tmp_path: Path) -> None:
    """An empty SQLite file, as a fresh clone has before ``migrate``."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    done = subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "createcoach", *ARGS],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "Run `manage.py migrate` first." in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
