"""Print a new personal access token for a coach, for automation and scripts.

``manage.py create_api_token --coach SLUG [--name NAME] [--scope read|write]``: stdout holds
the token and nothing else (``TOKEN=$(manage.py create_api_token --coach ada)``); what it is
for goes to stderr. Like the dashboard, it shows the token this once: only its hash is kept.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coaching import services
from coaching.models import ApiToken, Coach
from common.shortcuts import is_slug


class Command(BaseCommand):
    help = "Create a coach API token and print it (only the token, on stdout)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--coach", required=True, help="The coach's slug (their page's address).")
        parser.add_argument("--name", default="Command line", help="What the token is for.")
        parser.add_argument("--scope", default=ApiToken.Scope.READ, help="read (the default) or write.")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["coach"].strip()
        scope = options["scope"].strip().lower()
        if scope not in ApiToken.Scope.values:
            raise CommandError(f"--scope: {options['scope']!r} is not a scope; use read or write.")
        coach = Coach.objects.filter(slug=slug).first() if is_slug(slug) else None
        if coach is None:
            raise CommandError(f"--coach: no coach with the slug {slug!r}.")
        token, key = services.api_token_create(coach=coach, name=options["name"], scope=scope)
        self.stderr.write(
            f"Token “{token.name}” ({token.get_scope_display().lower()}) for {coach.slug}: shown once."
        )
        self.stdout.write(key)
