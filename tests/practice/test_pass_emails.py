"""The client's pass emails: "your package" once per grant, "ends soon" once per pass, and the
beat task that expires what is left.

Each email is claimed by a conditional update before it goes out, so a second run of a task,
a second beat or the sweep sends nothing twice. Time is pinned: NOW is Tuesday 1 December
2026, 07:00 in New York; Grace's "Three calls" is granted at NOW and valid 30 days (it ends
Thursday 31 December, 07:00 there).
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from datetime import timedelta
from typing import ClassVar

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import transaction

from coaching.models import Offering
from practice import services, tasks
from practice.models import Pass, PassEntry
from practice.tokens import pass_token
from tests.factories import OfferingFactory
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

GRACE = "grace@example.com"
# The reminder's window opens 14 days before the end (PASS_EXPIRY_REMINDER_DAYS).
REMINDER_DUE = NOW + timedelta(days=16, minutes=1)


class FlakyBackend(LocmemBackend):
    """The locmem backend, except that the first ``failures`` sends raise ``error``."""

    failures: ClassVar[int] = 0
    error: ClassVar[Exception] = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    calls: ClassVar[int] = 0

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise type(self).error
        return super().send_messages(messages)


@pytest.fixture
def flaky(settings):
    """Mail through FlakyBackend, retries at once. Eager tasks retry in place only when eager
    exceptions do not propagate (with propagation on, Celery raises the Retry instead)."""
    from config.celery import app

    settings.EMAIL_BACKEND = "tests.practice.test_pass_emails.FlakyBackend"
    settings.EMAIL_RETRY_BASE_SECONDS = 0
    FlakyBackend.failures = 0
    FlakyBackend.calls = 0
    FlakyBackend.error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    app.conf.task_eager_propagates = False
    yield FlakyBackend
    app.conf.task_eager_propagates = True


@pytest.fixture
def granted(grant, django_capture_on_commit_callbacks):
    """Grant a pass and run what its commit enqueues (the grant email)."""

    def make(**kwargs: object) -> Pass:
        with django_capture_on_commit_callbacks(execute=True):
            return grant(**kwargs)

    return make


def grant_entry(pass_obj: Pass) -> PassEntry:
    return pass_obj.entries.get(kind=PassEntry.Kind.GRANT)


# ---------------------------------------------------------------------------
# "Your package"
# ---------------------------------------------------------------------------
def test_it_emails_the_client_what_they_got_until_when_and_how_to_book(granted, mailoutbox, settings) -> None:
    pass_obj = granted()
    [message] = mailoutbox
    token = pass_token(pass_obj)
    assert message.to == [f"Grace Hopper <{GRACE}>"]
    assert message.reply_to == ["ada@example.com"]
    assert message.subject == "Your package from Ada Lovelace: Three calls (3 sessions)"
    body = message.body
    assert 'Ada Lovelace has given you a package: Three calls, 3 sessions of "Intro call".' in body
    assert "Use your sessions by Thursday 31 December 2026, 07:00 (New York time)" in body
    assert f"{settings.SITE_URL}/passes/{token}/" in body
    assert f'Book "Intro call": {settings.SITE_URL}/ada/intro-call/?pass={token}' in body
    html = message.alternatives[0][0]
    assert f"/passes/{token}/" in html
    assert "Open your pass" in html
    assert grant_entry(pass_obj).notified_at == NOW


def test_it_sends_the_grant_email_once_however_often_the_task_runs(granted, mailoutbox) -> None:
    pass_obj = granted()
    entry = grant_entry(pass_obj)
    tasks.send_pass_granted(entry.pk)
    tasks.send_pass_granted(entry.pk, False)
    assert len(mailoutbox) == 1


def test_it_enqueues_the_email_on_commit_only(grant, django_capture_on_commit_callbacks, mailoutbox) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        grant()
    assert len(callbacks) == 1, "the grant email, after commit"
    assert mailoutbox == [], "nothing before the commit"
    with (
        django_capture_on_commit_callbacks() as callbacks,
        contextlib.suppress(RuntimeError),
        transaction.atomic(),
    ):
        grant(to="alan@example.com")
        raise RuntimeError("the coach's request failed after the grant")
    assert callbacks == [], "a rolled-back grant emails nobody"


def test_the_sweep_sends_a_grant_email_whose_message_was_lost(grant, mailoutbox) -> None:
    """The grant committed but its enqueue never ran (the broker was down): the sweep sends it,
    once, a few minutes later; two sweeps still send one email."""
    pass_obj = grant()  # on-commit callbacks don't run here: the message is "lost"
    assert tasks.sweep_pass_emails() == 0, "too fresh: its own message may still come"
    with time_machine.travel(NOW + timedelta(minutes=6), tick=False):
        assert tasks.sweep_pass_emails() == 1
        assert tasks.sweep_pass_emails() == 0
        tasks.send_pass_granted(grant_entry(pass_obj).pk)
    assert len(mailoutbox) == 1


def test_the_sweep_leaves_old_grants_alone(grant, mailoutbox) -> None:
    grant()
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        assert tasks.sweep_pass_emails() == 0
    assert mailoutbox == []


def test_a_failed_send_is_released_and_retried(granted, flaky, mailoutbox) -> None:
    flaky.failures = 2
    pass_obj = granted()
    assert flaky.calls == 3
    assert len(mailoutbox) == 1
    assert grant_entry(pass_obj).notified_at is not None


def test_a_permanent_refusal_is_not_retried_nor_swept(granted, flaky, mailoutbox) -> None:
    flaky.failures = 1
    flaky.error = smtplib.SMTPRecipientsRefused({GRACE: (550, b"No such user")})
    pass_obj = granted()
    assert flaky.calls == 1
    assert grant_entry(pass_obj).notified_at is not None, "claimed: nobody tries again"
    with time_machine.travel(NOW + timedelta(minutes=10), tick=False):
        assert tasks.sweep_pass_emails() == 0
    assert mailoutbox == []


def test_the_sweeps_one_attempt_releases_the_claim_for_the_next_sweep(grant, flaky, mailoutbox) -> None:
    pass_obj = grant()
    flaky.failures = 1
    with time_machine.travel(NOW + timedelta(minutes=6), tick=False):
        assert tasks.sweep_pass_emails() == 1
    assert flaky.calls == 1, "the sweep's copy makes one attempt"
    assert grant_entry(pass_obj).notified_at is None
    with time_machine.travel(NOW + timedelta(minutes=7), tick=False):
        assert tasks.sweep_pass_emails() == 1
    assert len(mailoutbox) == 1


def test_it_emails_nobody_for_a_client_who_deleted_their_account(grant, mailoutbox) -> None:
    pass_obj = grant()
    services.clients_forget(None, [GRACE], NOW)
    tasks.send_pass_granted(grant_entry(pass_obj).pk)
    assert mailoutbox == []
    assert grant_entry(pass_obj).notified_at is not None


def test_its_logs_name_no_address_and_no_link(granted, flaky, caplog) -> None:
    flaky.failures = 1
    caplog.set_level(logging.DEBUG, logger="practice")
    pass_obj = granted()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"pass {pass_obj.pk}" in logged
    assert GRACE not in logged
    assert "Grace" not in logged
    assert pass_token(pass_obj) not in logged
    assert pass_obj.reference not in logged


# ---------------------------------------------------------------------------
# "Your package ends soon"
# ---------------------------------------------------------------------------
def test_it_reminds_the_client_once_before_the_end(grant, mailoutbox) -> None:
    pass_obj = grant()
    assert tasks.remind_expiring_passes() == 0, "30 days out: not yet"
    with time_machine.travel(REMINDER_DUE, tick=False):
        assert tasks.remind_expiring_passes() == 1
        # A second beat (or the next hour's) finds nothing owed.
        assert tasks.remind_expiring_passes() == 0
        tasks.send_pass_expiry_reminder(pass_obj.pk)
    [message] = mailoutbox
    assert message.to == [f"Grace Hopper <{GRACE}>"]
    assert message.subject == "Three calls ends soon: 3 sessions left"
    assert "runs until Thursday 31 December 2026, 07:00 (New York time)" in message.body
    assert f"/ada/intro-call/?pass={pass_token(pass_obj)}" in message.body
    pass_obj.refresh_from_db()
    assert pass_obj.expiry_reminder_sent_at == REMINDER_DUE


def test_two_beats_at_once_send_one_reminder(grant, mailoutbox) -> None:
    """Both beats enqueue the send; the conditional update lets one of them through."""
    pass_obj = grant()
    with time_machine.travel(REMINDER_DUE, tick=False):
        first = services.pass_expiry_reminder_claim(pass_id=pass_obj.pk, days=14, now=REMINDER_DUE)
        second = services.pass_expiry_reminder_claim(pass_id=pass_obj.pk, days=14, now=REMINDER_DUE)
        tasks.send_pass_expiry_reminder(pass_obj.pk)
    assert first is not None
    assert second is None
    assert mailoutbox == [], "claimed by the first: the task finds nothing owed"


def test_it_does_not_remind_a_pass_granted_for_less_than_the_reminder_window(
    offering: Offering, mailoutbox
) -> None:
    package = services.package_save(
        coach=offering.coach, name="Short", sessions=2, offerings=[offering], validity_days=10
    )
    services.pass_grant(package=package, client_email=GRACE, client_name="Grace", now=NOW)
    with time_machine.travel(NOW + timedelta(days=5), tick=False):
        assert tasks.remind_expiring_passes() == 0
    assert mailoutbox == []


def test_it_does_not_remind_a_pass_with_nothing_left_or_already_ended(grant, book, mailoutbox) -> None:
    used = grant()
    for hour in range(3):
        book(SLOT + timedelta(hours=hour), client_pass=used)
    ended = grant(to="alan@example.com")
    with time_machine.travel(ended.expires_at + timedelta(minutes=1), tick=False):
        assert tasks.remind_expiring_passes() == 0
    with time_machine.travel(REMINDER_DUE, tick=False):
        assert tasks.remind_expiring_passes() == 1, "only Alan's pass has sessions left"
    assert [m.to for m in mailoutbox] == [["Grace Hopper <alan@example.com>"]]


def test_the_reminder_window_is_a_setting(grant, settings, mailoutbox) -> None:
    settings.PASS_EXPIRY_REMINDER_DAYS = 7
    grant()
    with time_machine.travel(REMINDER_DUE, tick=False):
        assert tasks.remind_expiring_passes() == 0
    with time_machine.travel(NOW + timedelta(days=23, minutes=1), tick=False):
        assert tasks.remind_expiring_passes() == 1
    assert len(mailoutbox) == 1


def test_a_failed_reminder_is_released_and_retried(grant, flaky, mailoutbox) -> None:
    pass_obj = grant()
    flaky.failures = 1
    with time_machine.travel(REMINDER_DUE, tick=False):
        tasks.remind_expiring_passes()
    assert flaky.calls == 2
    assert len(mailoutbox) == 1
    pass_obj.refresh_from_db()
    assert pass_obj.expiry_reminder_sent_at is not None


def test_the_reminder_says_the_end_of_a_fixed_last_day(offering: Offering, mailoutbox) -> None:
    package = services.package_save(
        coach=offering.coach,
        name="Winter",
        sessions=4,
        offerings=[offering],
        valid_until=(NOW + timedelta(days=30)).date(),
    )
    services.pass_grant(package=package, client_email=GRACE, client_name="Grace", now=NOW)
    with time_machine.travel(NOW + timedelta(days=20), tick=False):
        tasks.remind_expiring_passes()
    [message] = mailoutbox
    assert "runs until the end of Thursday 31 December 2026" in message.body


# ---------------------------------------------------------------------------
# Expiry, and the beat
# ---------------------------------------------------------------------------
def test_the_expiry_task_expires_what_is_left_once(grant) -> None:
    pass_obj = grant()
    assert tasks.expire_passes() == 0
    with time_machine.travel(pass_obj.expires_at, tick=False):
        assert tasks.expire_passes() == 1
        assert tasks.expire_passes() == 0
    pass_obj.refresh_from_db()
    assert pass_obj.remaining == 0
    assert list(pass_obj.entries.values_list("kind", "amount").order_by("pk")) == [
        ("grant", 3),
        ("expire", -3),
    ]


def test_the_beat_runs_the_three_pass_tasks() -> None:
    from config.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["practice.tasks.sweep_pass_emails"] == 60.0
    assert schedule["practice.tasks.remind_expiring_passes"] == 3600.0
    assert schedule["practice.tasks.expire_passes"] == 900.0
    assert {"practice.tasks.send_pass_granted", "practice.tasks.expire_passes"} <= set(app.tasks)


def test_a_pass_covering_several_calls_lists_each(
    offering: Offering, django_capture_on_commit_callbacks
) -> None:
    deep = OfferingFactory(coach=offering.coach, slug="deep-dive", title="Deep dive")
    package = services.package_save(
        coach=offering.coach, name="Mixed", sessions=2, offerings=[offering, deep], validity_days=30
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.pass_grant(package=package, client_email=GRACE, client_name="Grace", now=NOW)
    [message] = mail.outbox
    # The coach's order: shortest first, then by title.
    assert '2 sessions of "Deep dive" or "Intro call".' in message.body
