"""Make a coach: a verified account and its public page. Safe to run again.

How a coach self-hosting their own practice starts (README, "Your own practice"):
``manage.py createcoach --email you@example.com --name "Your Name" --slug you
--time-zone Europe/Berlin [--password-file FILE]``. Run again with the same email, it
keeps what exists (the page, the hours, the password unless a file is given) and says so.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.migrations.executor import MigrationExecutor

from accounts.services import account_ensure_verified
from coaching import services
from coaching.models import Coach, Offering
from common.timezones import is_valid_timezone

FIRST_OFFERING = {
    "slug": "intro-call",
    "title": "Intro call",
    "description": "A 30-minute call to get to know each other.",
    "duration_minutes": 30,
    # Works with no setup: each booking gets its own video room.
    "location_kind": "room",
}


class Command(BaseCommand):
    help = "Create a verified account and its coach page (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The coach's sign-in address.")
        parser.add_argument("--name", required=True, help="The name clients see.")
        parser.add_argument("--slug", required=True, help="The page's address: /<slug>/.")
        parser.add_argument("--time-zone", required=True, help="Where the coach works, e.g. Europe/Berlin.")
        parser.add_argument(
            "--password-file",
            type=Path,
            help="A file holding the password (first line). Without it, a new account has none: "
            "the coach sets one with 'Forgot password?'.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self._check_migrated()
        email, name, slug, zone = (options[key].strip() for key in ("email", "name", "slug", "time_zone"))
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"--email: {email!r} is not an email address.") from exc
        if not is_valid_timezone(zone):
            raise CommandError(f"--time-zone: unknown time zone {zone!r} (use a name like Europe/Berlin).")
        password = self._password(options["password_file"])

        with transaction.atomic():
            user, created = account_ensure_verified(email=email, name=name, password=password)
            coach = Coach.objects.filter(user=user).first()
            if coach is not None:
                if coach.slug != slug:
                    raise CommandError(
                        f"{email} is already the coach at /{coach.slug}/; its address is changed in the dashboard."
                    )
                self.stdout.write(f"{email} is already the coach at /{coach.slug}/: nothing to do.")
                if password:
                    self.stdout.write("The password was set from the file.")
                return
            try:
                coach = services.coach_create(user=user, slug=slug, display_name=name, time_zone=zone)
            except services.SetupError as exc:
                raise CommandError(f"--slug: {exc.message}") from exc
            # Bookable at once: Mon–Fri 09:00–17:00 where the coach lives and a 30-minute
            # intro call, both to change in the dashboard.
            services.weekly_hours_replace(
                coach=coach, windows={day: [(time(9), time(17))] for day in range(5)}
            )
            services.offering_save(coach=coach, offering=Offering(**FIRST_OFFERING))

        self.stdout.write(
            self.style.SUCCESS(f"Coach ready at /{coach.slug}/ ({zone}), bookable Mon–Fri 09:00–17:00.")
        )
        if password:
            self.stdout.write(f"Sign in as {email} with the password from the file.")
        elif created:
            self.stdout.write(f"{email} has no password yet: use 'Forgot password?' on the sign-in page.")
        self.stdout.write("Change the hours and the intro call in the dashboard: /dashboard/.")

    @staticmethod
    def _check_migrated() -> None:
        """A fresh clone's database has no tables yet: say what to run, not a traceback."""
        try:
            executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
            unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as exc:
            raise CommandError(
                f"Cannot read the database ({exc.__class__.__name__}): check DATABASE_URL."
            ) from exc
        if unapplied:
            raise CommandError("The database is not set up yet. Run `manage.py migrate` first.")

    @staticmethod
    def _password(path: Path | None) -> str | None:
        if path is None:
            return None
        try:
            lines = path.read_text().splitlines()
        except OSError as exc:
            raise CommandError(f"--password-file: cannot read {path}: {exc.strerror}") from exc
        password = lines[0].strip() if lines else ""
        if len(password) < 8:
            raise CommandError("--password-file: the password must be at least 8 characters.")
        return password
