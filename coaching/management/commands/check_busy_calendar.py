"""Read one busy-calendar feed under the production limits and print the busy time found.

Where a coach's "my calendar doesn't block anything" starts: the same address check,
fetch limits and caps as a refresh, nothing stored. Exits 1 when the feed is refused or
unreadable, with the message the coach sees.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from coaching import busy_calendars
from coaching.services import DEFAULT_HORIZON_DAYS
from common.timezones import is_valid_timezone


class Command(BaseCommand):
    help = "Fetch and read one iCal feed as a busy-calendar refresh would, and print its busy intervals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="The feed's address (http, https or webcal).")
        parser.add_argument(
            "--time-zone", default="UTC", help="Read floating and all-day times in this zone."
        )
        parser.add_argument("--days", type=int, default=DEFAULT_HORIZON_DAYS, help="How far ahead to read.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not is_valid_timezone(options["time_zone"]):
            raise CommandError(f"Unknown time zone: {options['time_zone']}")
        if not 1 <= options["days"] <= 3660:
            raise CommandError("--days must be between 1 and 3660.")
        zone = ZoneInfo(options["time_zone"])
        start = timezone.now()
        end = start + timedelta(days=options["days"])
        try:
            url = busy_calendars.check_address(options["url"])
            fetched = busy_calendars.fetch(url)
            intervals = busy_calendars.busy_intervals(fetched.body, zone=zone, start=start, end=end)
        except busy_calendars.BusyCalendarError as exc:
            raise CommandError(f"Refused: {exc.message}") from exc
        self.stdout.write(
            f"{busy_calendars.display_url(url)}: {len(fetched.body):,} bytes, "
            f"{len(intervals)} busy interval(s) in the next {options['days']} days ({zone.key}):"
        )
        for busy_start, busy_end in intervals:
            local_start, local_end = busy_start.astimezone(zone), busy_end.astimezone(zone)
            self.stdout.write(f"  {local_start:%a %Y-%m-%d %H:%M} – {local_end:%a %Y-%m-%d %H:%M}")
