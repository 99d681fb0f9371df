"""A person's waitlist entries are in "download my data", and go with their account."""

from __future__ import annotations

import pytest

from accounts.services import user_delete, user_export_data
from booking.models import WaitlistEntry, WaitlistHold
from booking.services import booking_cancel
from tests.factories import UserFactory
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]


def test_entries_are_exported_and_deleted_with_the_account(
    offering, full_day, in_line, django_capture_on_commit_callbacks
) -> None:
    mine, theirs = in_line(1), in_line(2)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=full_day[0], by="coach", now=NOW)
    assert mine.holds.get().status == WaitlistHold.Status.HELD
    person = UserFactory(email="Waiting1@example.com")
    exported = user_export_data(user=person)["waitlist"]
    assert [(e["reference"], e["from"], e["holds"][0]["status"]) for e in exported] == [
        (mine.reference, "2026-12-02", "held")
    ]
    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=person, now=NOW)
    assert list(WaitlistEntry.objects.values_list("pk", flat=True)) == [theirs.pk]
    # The time held for the deleted person passes to the next in line.
    assert theirs.holds.get().status == WaitlistHold.Status.HELD


def test_an_operator_sees_the_line_in_the_admin_read_only(
    offering, full_day, in_line, client, django_capture_on_commit_callbacks
) -> None:
    entry = in_line(1)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=full_day[0], by="coach", now=NOW)
    client.force_login(UserFactory(email="operator@example.com", is_staff=True, is_superuser=True))
    listing = client.get("/admin/booking/waitlistentry/")
    assert listing.status_code == 200 and entry.reference in listing.content.decode()
    detail = client.get(f"/admin/booking/waitlistentry/{entry.pk}/change/").content.decode()
    assert 'name="date_from"' not in detail and entry.manage_key not in detail
    assert "Held" in detail  # its hold, inline
    assert client.get("/admin/booking/waitlistentry/add/").status_code == 403
