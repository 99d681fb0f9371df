"""Fixtures for reminders: running a dispatch as beat would, and mail servers that fail."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from typing import ClassVar

import pytest
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from booking import tasks
from booking.models import Booking, Reminder


class FailingSends(LocmemBackend):
    """The locmem backend, except that the first ``failures`` sends raise ``error``."""

    failures: ClassVar[int] = 0
    calls: ClassVar[int] = 0
    error: ClassVar[Exception] = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise type(self).error
        return super().send_messages(messages)


@pytest.fixture
def failing_sends(settings) -> type[FailingSends]:
    """Sends fail until told otherwise: set ``failures`` (and ``error``) on the returned class."""
    settings.EMAIL_BACKEND = "tests.reminders.conftest.FailingSends"
    FailingSends.failures = 10**6
    FailingSends.calls = 0
    FailingSends.error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    return FailingSends


@pytest.fixture
def dispatch(django_capture_on_commit_callbacks) -> Callable[[], int]:
    """Run one beat tick of the dispatch; the sends it enqueues on commit run eagerly."""

    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return tasks.dispatch_due_reminders()

    return run


def rows(booking: Booking) -> dict[tuple[str, str], Reminder]:
    """The booking's reminders by (recipient, kind)."""
    return {(r.recipient, r.kind): r for r in Reminder.objects.filter(booking=booking)}
