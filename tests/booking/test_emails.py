"""Booking emails: the MIME tree calendars need, each recipient's zone, and sending that never loses a booking."""

from __future__ import annotations

import email
import logging
import smtplib
from datetime import timedelta
from email.message import Message
from http import HTTPStatus
from typing import ClassVar

import icalendar
import pytest
import vobject
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import Client

from booking.emails import messages_for_event
from booking.models import Booking, BookingEvent, EmailDelivery
from booking.services import booking_approve, booking_cancel, booking_decline, booking_reschedule
from booking.tasks import notify_booking_event
from coaching.models import Offering
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

CLIENT_EMAIL = "grace@example.com"
COACH_EMAIL = "ada@example.com"


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
    """Route mail through FlakyBackend; the test sets how many sends fail and with what.

    Eager tasks retry in place only when eager exceptions do not propagate (with
    propagation on, Celery raises the Retry instead), so this switches it off.
    """
    from config.celery import app

    settings.EMAIL_BACKEND = "tests.booking.test_emails.FlakyBackend"
    settings.EMAIL_RETRY_BASE_SECONDS = 0
    FlakyBackend.failures = 0
    FlakyBackend.calls = 0
    FlakyBackend.error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    app.conf.task_eager_propagates = False
    yield FlakyBackend
    app.conf.task_eager_propagates = True


def parse(message) -> Message:  # type: ignore[no-untyped-def]
    """The message as a mail client reads it: bytes on the wire, parsed by Python's email package."""
    return email.message_from_bytes(message.message().as_bytes())


def tree(part: Message) -> object:
    """The MIME tree as nested (content type, [children]) tuples."""
    if part.is_multipart():
        return (part.get_content_type(), [tree(child) for child in part.get_payload()])
    return part.get_content_type()


def calendar_parts(parsed: Message) -> tuple[Message, Message]:
    """The text/calendar alternative and the invite.ics attachment."""
    [alternative, attachment] = parsed.get_payload()
    return alternative.get_payload()[2], attachment


def html_of(message) -> str:  # type: ignore[no-untyped-def]
    [html] = [
        alternative.content for alternative in message.alternatives if alternative.mimetype == "text/html"
    ]
    return html


def to(address: str) -> list:  # type: ignore[type-arg]
    return [m for m in mail.outbox if m.to == [address]]


def test_it_sends_each_invite_in_the_mime_tree_calendars_expect(
    book, django_capture_on_commit_callbacks
) -> None:
    """mixed > alternative(plain, html, calendar; method=REQUEST) + invite.ics, METHOD inside matching."""
    with django_capture_on_commit_callbacks(execute=True):
        book()
    assert sorted(m.to[0] for m in mail.outbox) == [COACH_EMAIL, CLIENT_EMAIL]
    for message in mail.outbox:
        parsed = parse(message)
        assert tree(parsed) == (
            "multipart/mixed",
            [
                ("multipart/alternative", ["text/plain", "text/html", "text/calendar"]),
                "application/ics",
            ],
        )
        calendar, attachment = calendar_parts(parsed)
        assert calendar.get_param("method") == "REQUEST"
        assert calendar.get_content_charset() == "utf-8"
        assert "method=REQUEST" in calendar["Content-Type"]
        assert attachment.get_filename() == "invite.ics"
        assert attachment.get_content_disposition() == "attachment"
        data = calendar.get_payload(decode=True)
        # The same .ics in both places (line ends aside: SMTP makes every text line CRLF),
        # and the METHOD inside equals the method= parameter.
        assert attachment.get_payload(decode=True).replace(b"\r\n", b"\n") == data.replace(b"\r\n", b"\n")
        assert str(icalendar.Calendar.from_ical(data)["METHOD"]) == "REQUEST"
        assert vobject.readOne(data.decode()).method.value == "REQUEST"
        assert parsed["Auto-Submitted"] == "auto-generated"


def test_it_sends_cancel_invites_with_method_cancel(book, django_capture_on_commit_callbacks) -> None:
    """A cancellation's emails carry METHOD:CANCEL inside and method=CANCEL outside, and the reason."""
    booking = book()
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking, by="coach", reason="I am ill, sorry", now=NOW)
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        calendar, attachment = calendar_parts(parse(message))
        assert calendar.get_param("method") == "CANCEL"
        parsed = icalendar.Calendar.from_ical(attachment.get_payload(decode=True))
        assert str(parsed["METHOD"]) == "CANCEL"
        assert str(parsed.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
        assert "Reason: I am ill, sorry" in message.body
    [client_mail] = to(CLIENT_EMAIL)
    assert client_mail.subject.startswith("Cancelled: Intro call with Ada Lovelace")
    assert "Ada Lovelace cancelled your call" in client_mail.body
    [coach_mail] = to(COACH_EMAIL)
    assert "You cancelled" in coach_mail.body


def test_it_writes_times_in_each_recipients_zone(book, django_capture_on_commit_callbacks) -> None:
    """15:00 UTC is 16:00 for the client in Berlin and 10:00 for the coach in New York."""
    with django_capture_on_commit_callbacks(execute=True):
        book()
    [client_mail], [coach_mail] = to(CLIENT_EMAIL), to(COACH_EMAIL)
    assert client_mail.subject == "Confirmed: Intro call with Ada Lovelace, Wed 2 Dec, 16:00"
    assert "Wednesday 2 December 2026, 16:00-16:30 (Europe/Berlin time)" in client_mail.body
    assert coach_mail.subject == "New booking: Intro call with Grace Hopper, Wed 2 Dec, 10:00"
    assert "Wednesday 2 December 2026, 10:00-10:30 (America/New_York time)" in coach_mail.body
    html = html_of(coach_mail)
    assert "10:00–10:30" in html


def test_it_tells_of_a_request_then_its_approval(
    book, offering: Offering, django_capture_on_commit_callbacks
) -> None:
    """Pending: "request received" with a TENTATIVE invite; approved: "confirmed", CONFIRMED."""
    offering.requires_approval = True
    offering.save()
    with django_capture_on_commit_callbacks(execute=True):
        booking = book()
    [client_mail] = to(CLIENT_EMAIL)
    [coach_mail] = to(COACH_EMAIL)
    assert client_mail.subject.startswith("Request received: Intro call with Ada Lovelace")
    assert coach_mail.subject.startswith("To approve: Intro call with Grace Hopper")
    event = icalendar.Calendar.from_ical(calendar_parts(parse(client_mail))[0].get_payload(decode=True))
    assert str(event.walk("VEVENT")[0]["STATUS"]) == "TENTATIVE"

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        booking_approve(booking=booking, now=NOW)
    [client_mail] = to(CLIENT_EMAIL)
    assert client_mail.subject.startswith("Confirmed:")
    assert "Ada Lovelace has approved your request" in client_mail.body
    event = icalendar.Calendar.from_ical(calendar_parts(parse(client_mail))[0].get_payload(decode=True))
    assert str(event.walk("VEVENT")[0]["STATUS"]) == "CONFIRMED"
    assert int(event.walk("VEVENT")[0]["SEQUENCE"]) == 1


def test_it_tells_the_client_of_a_decline_with_a_cancel(
    book, offering: Offering, django_capture_on_commit_callbacks
) -> None:
    """A declined request: method=CANCEL and the coach's reason."""
    offering.requires_approval = True
    offering.save()
    booking = book()
    with django_capture_on_commit_callbacks(execute=True):
        booking_decline(booking=booking, reason="Fully booked that week", now=NOW)
    [client_mail] = to(CLIENT_EMAIL)
    assert client_mail.subject.startswith("Not confirmed:")
    assert "Reason: Fully booked that week" in client_mail.body
    assert calendar_parts(parse(client_mail))[0].get_param("method") == "CANCEL"


def test_it_tells_both_sides_of_a_move_with_the_old_and_new_time(
    book, django_capture_on_commit_callbacks
) -> None:
    booking = book()
    with django_capture_on_commit_callbacks(execute=True):
        booking_reschedule(booking=booking, new_start=SLOT + timedelta(hours=2), by="client", now=NOW)
    [client_mail], [coach_mail] = to(CLIENT_EMAIL), to(COACH_EMAIL)
    assert client_mail.subject == "Moved: Intro call with Ada Lovelace is now Wed 2 Dec, 18:00"
    assert "from Wednesday 2 December 2026, 16:00 to Wednesday 2 December 2026, 18:00" in client_mail.body
    assert "Grace Hopper moved" in coach_mail.body


def test_it_keeps_names_verbatim_in_text_and_escaped_in_html(
    book, django_capture_on_commit_callbacks
) -> None:
    """No HTML entities in the plain text; no markup injected into the HTML."""
    with django_capture_on_commit_callbacks(execute=True):
        book(client_name="Grace <b>O'Brien</b> & Co")
    [coach_mail] = to(COACH_EMAIL)
    assert "Grace <b>O'Brien</b> & Co booked" in coach_mail.body
    html = html_of(coach_mail)
    assert "<b>" not in html
    assert "Grace &lt;b&gt;O&#x27;Brien&lt;/b&gt; &amp; Co" in html


def test_it_keeps_a_subject_on_one_line_whatever_the_name(book) -> None:
    booking = book(client_name="Grace\r\nBcc: victim@example.com")
    [client_message, coach_message] = messages_for_event(booking.events.get())
    assert "\n" not in coach_message.subject and "\r" not in coach_message.subject
    assert parse(coach_message)["Bcc"] is None


def test_it_retries_an_smtp_failure_and_sends_once_per_recipient(
    book, flaky, django_capture_on_commit_callbacks
) -> None:
    """Two failed attempts, then success: one booking, one email each, attempts recorded."""
    flaky.failures = 2
    with django_capture_on_commit_callbacks(execute=True):
        booking = book()
    assert Booking.objects.count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == [COACH_EMAIL, CLIENT_EMAIL]
    deliveries = {d.recipient: d for d in EmailDelivery.objects.filter(booking=booking)}
    assert {r: (d.status, d.attempts) for r, d in deliveries.items()} == {
        "client": ("sent", 3),
        "coach": ("sent", 1),
    }
    assert "closed the connection" in deliveries["client"].last_error


def test_it_records_a_failure_after_the_last_retry_and_keeps_the_booking(
    book, flaky, client: Client, coach, django_capture_on_commit_callbacks, settings
) -> None:
    """The mail server never answers: the booking stands, the coach sees the failure and can resend."""
    flaky.failures = 10_000
    flaky.error = ConnectionRefusedError(111, "Connection refused")
    with django_capture_on_commit_callbacks(execute=True):
        booking = book()
    assert Booking.objects.filter(pk=booking.pk, status=Booking.Status.CONFIRMED).exists()
    assert mail.outbox == []
    failed = EmailDelivery.objects.filter(booking=booking, status=EmailDelivery.Status.FAILED)
    assert failed.count() == 2
    assert {d.attempts for d in failed} == {9}
    assert all("Could not reach the mail server" in d.last_error for d in failed)

    client.force_login(coach.user)
    page = client.get("/dashboard/emails/")
    assert page.status_code == HTTPStatus.OK
    assert booking.reference in page.content.decode()
    assert "Could not reach the mail server" in page.content.decode()
    assert (
        "2 emails about your bookings could not be sent"
        in client.get("/dashboard/calendars/").content.decode()
    )

    flaky.failures = 0
    client_delivery = failed.get(recipient="client")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/dashboard/emails/{client_delivery.pk}/retry/")
    assert response.status_code == HTTPStatus.FOUND
    client_delivery.refresh_from_db()
    assert client_delivery.status == EmailDelivery.Status.SENT
    assert [m.to for m in mail.outbox] == [[CLIENT_EMAIL]]


def test_it_gives_up_at_once_when_the_server_refuses_the_address(
    book, flaky, django_capture_on_commit_callbacks
) -> None:
    """A 550 for the recipient will not change on retry: failed after one attempt."""
    flaky.failures = 1
    flaky.error = smtplib.SMTPRecipientsRefused(
        {CLIENT_EMAIL: (550, b"5.1.1 <grace@example.com> no such user")}
    )
    with django_capture_on_commit_callbacks(execute=True):
        booking = book()
    client_delivery = EmailDelivery.objects.get(booking=booking, recipient="client")
    assert (client_delivery.status, client_delivery.attempts) == ("failed", 1)
    assert client_delivery.last_error.startswith("The mail server refused the recipient's address (SMTP 550)")
    assert CLIENT_EMAIL not in client_delivery.last_error


def test_it_logs_references_and_ids_but_no_personal_data(
    book, flaky, caplog, django_capture_on_commit_callbacks
) -> None:
    flaky.failures = 1
    flaky.error = smtplib.SMTPResponseException(451, b"4.2.0 <grace@example.com> mailbox busy, try later")
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        booking = book()
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking, by="client", reason="Private reason", now=NOW)
    text = caplog.text
    assert booking.reference in text
    assert "SMTP 451" in text  # the retry was logged, by reference and code
    for secret in ("grace", "Grace", "Hopper", "ada@", "Private reason"):
        assert secret not in text


def test_it_does_not_send_a_confirmation_for_a_booking_already_cancelled(book) -> None:
    """If the cancellation commits before the confirmation goes out, only the cancellation is sent."""
    booking = book()
    booking_cancel(booking=booking, by="client", now=NOW)
    created = booking.events.get(kind=BookingEvent.Kind.CREATED)
    notify_booking_event(created.pk)
    assert mail.outbox == []
    assert not EmailDelivery.objects.filter(event=created).exists()


def test_it_sends_each_email_once_when_the_notification_runs_twice(book) -> None:
    """A redelivered notify task finds its rows: nobody gets the same email twice."""
    booking = book()
    event = booking.events.get()
    notify_booking_event(event.pk)
    notify_booking_event(event.pk)
    assert len(mail.outbox) == 2
    assert EmailDelivery.objects.filter(event=event).count() == 2


def test_it_sends_a_new_link_to_the_client_only(book) -> None:
    """A replaced manage link goes to the client (who holds it), not to the coach who replaced it."""
    booking = book()
    event = BookingEvent.objects.create(
        booking=booking, kind=BookingEvent.Kind.LINK_RESET, actor=BookingEvent.Actor.COACH, at=NOW
    )
    messages = messages_for_event(event)
    assert [m.to for m in messages] == [[booking.client_email]]
    assert "new link" in messages[0].subject.lower()


def test_it_sends_nothing_for_a_completed_call(book) -> None:
    booking = book()
    event = BookingEvent.objects.create(
        booking=booking, kind=BookingEvent.Kind.COMPLETED, actor=BookingEvent.Actor.COACH, at=NOW
    )
    assert messages_for_event(event) == []
