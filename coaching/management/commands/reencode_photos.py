"""Re-encode the coach photos uploaded before uploads were re-encoded; safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from coaching.models import Coach
from coaching.services import coach_photo_reencode


class Command(BaseCommand):
    help = (
        "Re-encode every coach photo (upright, no EXIF/GPS/XMP, at most 1024 px) under a fresh "
        "random name, and delete the original file."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        done = skipped = 0
        for coach in Coach.objects.exclude(photo="").order_by("pk").iterator():
            if coach_photo_reencode(coach=coach):
                done += 1
            else:
                skipped += 1
                self.stderr.write(
                    f"coach {coach.pk}: the photo file is missing or not an image; left as it is"
                )
        self.stdout.write(f"{done} photo(s) re-encoded, {skipped} skipped.")
