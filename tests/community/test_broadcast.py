"""Broadcasts: draft, preview, test, send in batches with progress; a crash never sends anyone two copies."""

from __future__ import annotations

import smtplib
from collections import Counter
from datetime import timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.test import Client

from coaching.models import Coach
from community import emails as community_emails
from community import selectors, services
from community.models import Broadcast, BroadcastDelivery, Subscriber
from community.tasks import sweep_community
from tests.factories import CoachFactory
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

BODY = "Hello friends,\n\nThis week's **challenge**: [try this](https://example.com/x).\n\n<script>alert(1)</script>"


@pytest.fixture
def draft(coach: Coach) -> Broadcast:
    return Broadcast.objects.create(coach=coach, subject="Your next best move", body_markdown=BODY)


@pytest.fixture
def readers(subscriber) -> list[Subscriber]:
    """Seven confirmed subscribers, and two who must get nothing."""
    subscriber("waiting@example.com", status=Subscriber.Status.PENDING)
    subscriber("gone@example.com", status=Subscriber.Status.UNSUBSCRIBED)
    return [subscriber(f"reader{n}@example.com", first_name=f"R{n}") for n in range(7)]


def broadcast_copies() -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if m.subject == "Your next best move"]


def test_it_writes_previews_tests_and_sends_a_broadcast(
    coach_client: Client, coach: Coach, readers, django_capture_on_commit_callbacks
) -> None:
    """The whole flow from the dashboard; each confirmed subscriber gets one copy with unsubscribe headers."""
    # Write: "Preview without saving" renders the sanitised Markdown and saves nothing.
    preview = coach_client.post(
        "/dashboard/broadcasts/new/",
        {"subject": "Your next best move", "body_markdown": BODY, "action": "preview"},
    )
    html = preview.content.decode()
    assert "<strong>challenge</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert not Broadcast.objects.exists()
    saved = coach_client.post(
        "/dashboard/broadcasts/new/",
        {"subject": "Your next best move", "body_markdown": BODY, "action": "save"},
    )
    broadcast = Broadcast.objects.get()
    assert saved["Location"] == f"/dashboard/broadcasts/{broadcast.pk}/"
    assert broadcast.status == Broadcast.Status.DRAFT

    # Test to the coach.
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(f"/dashboard/broadcasts/{broadcast.pk}/test/")
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert mail.outbox[0].subject == "[Test] Your next best move"
    mail.outbox.clear()

    # Send: a confirm page, then the POST; the tasks run eagerly here.
    page = coach_client.get(f"/dashboard/broadcasts/{broadcast.pk}/send/").content.decode()
    assert "Send to 7 subscribers" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(f"/dashboard/broadcasts/{broadcast.pk}/send/")
    assert response.status_code == HTTPStatus.FOUND

    copies = broadcast_copies()
    assert sorted(m.to[0] for m in copies) == sorted(r.email for r in readers)
    message_ids = [m.extra_headers["Message-ID"] for m in copies]
    assert len(set(message_ids)) == 7
    assert all(mid.startswith(f"<broadcast.{broadcast.pk}.") for mid in message_ids)
    for message in copies:
        reader = next(r for r in readers if r.email == message.to[0])
        url = community_emails.unsubscribe_url(reader)
        assert message.extra_headers["List-Unsubscribe"] == f"<{url}>"
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert url in message.body
        html_part = message.alternatives[0][0]
        assert url in html_part
        assert "<strong>challenge</strong>" in html_part
        assert "<script" not in html_part
        assert f"Hello {reader.first_name}," in message.body
        # The header Django writes on the wire is ours, not a fresh one.
        assert message.message()["Message-ID"] == message.extra_headers["Message-ID"]

    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.SENT
    assert (broadcast.recipient_count, broadcast.sent_count, broadcast.failed_count) == (7, 7, 0)
    progress = coach_client.get(f"/dashboard/broadcasts/{broadcast.pk}/progress.json").json()
    assert progress | {"status_label": None} == {
        "status": "sent",
        "status_label": None,
        "total": 7,
        "sent": 7,
        "failed": 0,
        "skipped": 0,
        "waiting": 0,
        "done": 7,
        "finished": True,
        "planned": True,
    }
    detail = coach_client.get(f"/dashboard/broadcasts/{broadcast.pk}/").content.decode()
    assert "7 of 7 sent" in detail


def test_it_starts_sending_once_whatever_the_clicks(
    coach_client: Client, draft: Broadcast, readers, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(f"/dashboard/broadcasts/{draft.pk}/send/")
        second = coach_client.post(f"/dashboard/broadcasts/{draft.pk}/send/")
    assert second.status_code == HTTPStatus.FOUND
    assert len(broadcast_copies()) == 7
    assert not services.broadcast_start(broadcast=draft)


def test_it_refuses_to_send_to_nobody(coach_client: Client, draft: Broadcast) -> None:
    assert (
        "there is no one to send to"
        in coach_client.get(f"/dashboard/broadcasts/{draft.pk}/send/").content.decode()
    )
    coach_client.post(f"/dashboard/broadcasts/{draft.pk}/send/")
    draft.refresh_from_db()
    assert draft.status == Broadcast.Status.DRAFT


def crash_at(number: int):
    """A mail backend whose process dies while sending message number ``number``."""
    calls = {"n": 0}

    def send_messages(backend: EmailBackend, messages: list) -> int:
        calls["n"] += 1
        if calls["n"] == number:
            raise SystemExit("worker killed")
        return ORIGINAL_SEND(backend, messages)

    return send_messages


ORIGINAL_SEND = EmailBackend.send_messages


def test_it_resumes_after_a_crash_and_sends_each_subscriber_exactly_one_copy(
    draft: Broadcast, readers, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    """The worker dies on the 4th message; the sweep resumes; seven people, seven copies, seven Message-IDs."""
    monkeypatch.setattr(EmailBackend, "send_messages", crash_at(4))
    with time_machine.travel(NOW, tick=False) as traveller:
        with pytest.raises(SystemExit), django_capture_on_commit_callbacks(execute=True):
            services.broadcast_start(broadcast=draft)
        assert len(broadcast_copies()) == 3
        statuses = Counter(BroadcastDelivery.objects.values_list("status", flat=True))
        assert statuses == {"sent": 3, "sending": 1, "pending": 3}
        monkeypatch.setattr(EmailBackend, "send_messages", ORIGINAL_SEND)

        # Soon after: the rows nobody holds go out; the one the dead worker held waits for its lease.
        traveller.shift(selectors.SWEEP_GRACE + timedelta(seconds=1))
        assert sweep_community() == 1
        assert len(broadcast_copies()) == 6
        draft.refresh_from_db()
        assert draft.status == Broadcast.Status.SENDING

        # The lease lapses: the last one goes, and the broadcast is done.
        traveller.shift(services.DELIVERY_LEASE)
        sweep_community()
        draft.refresh_from_db()
        assert draft.status == Broadcast.Status.SENT
        assert sweep_community() == 0

    copies = broadcast_copies()
    assert Counter(m.to[0] for m in copies) == {r.email: 1 for r in readers}
    assert len({m.extra_headers["Message-ID"] for m in copies}) == 7
    assert draft.sent_count == 7


def test_it_reuses_the_message_id_when_a_crash_leaves_a_send_unrecorded(
    draft: Broadcast, readers, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    """Sent, then killed before recording it: the copy sent again has the same Message-ID, so mail systems drop it."""
    real_finish = services._finish_delivery
    calls = {"sent": 0}

    def finish(delivery_id: int, **fields):
        if fields["status"] == BroadcastDelivery.Status.SENT:
            calls["sent"] += 1
            if calls["sent"] == 2:
                raise SystemExit("killed between send and record")
        return real_finish(delivery_id, **fields)

    monkeypatch.setattr(services, "_finish_delivery", finish)
    with time_machine.travel(NOW, tick=False) as traveller:
        with pytest.raises(SystemExit), django_capture_on_commit_callbacks(execute=True):
            services.broadcast_start(broadcast=draft)
        monkeypatch.setattr(services, "_finish_delivery", real_finish)
        traveller.shift(services.DELIVERY_LEASE + timedelta(seconds=1))
        sweep_community()
    copies = broadcast_copies()
    ids = Counter(m.extra_headers["Message-ID"] for m in copies)
    assert len(ids) == 7  # one message per subscriber ...
    assert sorted(ids.values()) == [1, 1, 1, 1, 1, 1, 2]  # ... the unrecorded one twice, under one id
    draft.refresh_from_db()
    assert draft.status == Broadcast.Status.SENT


def test_it_retries_a_refused_connection_and_gives_up_on_a_refused_address(
    draft: Broadcast, readers, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    bounced = readers[0].email

    def flaky(backend: EmailBackend, messages: list) -> int:
        to = messages[0].to[0]
        if to == bounced:
            raise smtplib.SMTPRecipientsRefused({to: (550, b"No such user")})
        if to == readers[1].email and not flaky.failed_once:
            flaky.failed_once = True
            raise smtplib.SMTPServerDisconnected("gone")
        return ORIGINAL_SEND(backend, messages)

    flaky.failed_once = False
    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    with time_machine.travel(NOW, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            services.broadcast_start(broadcast=draft)
        assert len(broadcast_copies()) == 5
        failed = BroadcastDelivery.objects.get(subscriber__email=bounced)
        assert failed.status == BroadcastDelivery.Status.FAILED
        assert "refused the recipient" in failed.last_error
        assert bounced not in failed.last_error
        waiting = BroadcastDelivery.objects.get(subscriber=readers[1])
        assert waiting.status == BroadcastDelivery.Status.PENDING
        traveller.shift(services.RETRY_BASE + selectors.SWEEP_GRACE)
        sweep_community()
    draft.refresh_from_db()
    assert draft.status == Broadcast.Status.SENT
    assert (draft.sent_count, draft.failed_count) == (6, 1)


def test_it_skips_someone_who_unsubscribes_while_it_goes_out(
    draft: Broadcast, readers, django_capture_on_commit_callbacks
) -> None:
    services.broadcast_start(broadcast=draft)  # on-commit work not run yet
    services.broadcast_plan(broadcast_id=draft.pk)
    services.subscriber_unsubscribe(subscriber=readers[2])
    services.broadcast_send_batch(broadcast_id=draft.pk)
    assert readers[2].email not in [m.to[0] for m in broadcast_copies()]
    assert BroadcastDelivery.objects.get(subscriber=readers[2]).status == BroadcastDelivery.Status.SKIPPED
    progress = selectors.broadcast_progress_counts(draft.pk)
    assert (progress["sent"], progress["skipped"]) == (6, 1)


def test_it_sends_in_batches(
    draft: Broadcast, readers, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    monkeypatch.setattr(services, "BATCH_SIZE", 3)
    calls = []
    real = services.broadcast_send_batch

    def spy(**kwargs):
        outcome = real(**kwargs)
        calls.append(outcome.sent)
        return outcome

    monkeypatch.setattr(services, "broadcast_send_batch", spy)
    with django_capture_on_commit_callbacks(execute=True):
        services.broadcast_start(broadcast=draft)
    assert calls == [3, 3, 1]
    assert len(broadcast_copies()) == 7


def test_it_plans_a_broadcast_whose_message_was_lost(draft: Broadcast, readers) -> None:
    with time_machine.travel(NOW, tick=False) as traveller:
        services.broadcast_start(broadcast=draft)  # the on-commit enqueue never ran
        assert broadcast_copies() == []
        traveller.shift(selectors.SWEEP_GRACE + timedelta(seconds=1))
        sweep_community()
    assert len(broadcast_copies()) == 7


def test_it_keeps_sent_broadcasts_and_other_coaches_drafts_out_of_reach(
    client: Client, coach_client: Client, draft: Broadcast, readers, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.broadcast_start(broadcast=draft)
    edit = coach_client.get(f"/dashboard/broadcasts/{draft.pk}/edit/")
    assert edit.status_code == HTTPStatus.FOUND
    assert coach_client.post(f"/dashboard/broadcasts/{draft.pk}/delete/").status_code == HTTPStatus.FOUND
    assert Broadcast.objects.filter(pk=draft.pk).exists()

    other = CoachFactory(slug="other")
    client.force_login(other.user)
    for path in ("", "edit/", "send/", "delete/", "progress.json"):
        assert client.get(f"/dashboard/broadcasts/{draft.pk}/{path}").status_code == HTTPStatus.NOT_FOUND
    assert client.post(f"/dashboard/broadcasts/{draft.pk}/test/").status_code == HTTPStatus.NOT_FOUND


def test_it_explains_what_is_missing_from_a_draft(coach_client: Client) -> None:
    response = coach_client.post(
        "/dashboard/broadcasts/new/", {"subject": "", "body_markdown": "", "action": "save"}
    )
    html = response.content.decode()
    assert "Give your email a subject." in html
    assert "Write the message first." in html
    assert not Broadcast.objects.exists()


def test_it_deletes_a_draft_after_asking(coach_client: Client, draft: Broadcast) -> None:
    assert (
        "Delete the draft" in coach_client.get(f"/dashboard/broadcasts/{draft.pk}/delete/").content.decode()
    )
    coach_client.post(f"/dashboard/broadcasts/{draft.pk}/delete/")
    assert not Broadcast.objects.exists()


def test_it_previews_markdown_for_the_page_script(coach_client: Client, client: Client) -> None:
    response = coach_client.post(
        "/dashboard/preview-markdown/", {"text": "**hi** <img src=x onerror=alert(1)>"}
    )
    assert response.status_code == HTTPStatus.OK
    assert response.content.decode() == "<p><strong>hi</strong> </p>"
    assert coach_client.post("/dashboard/preview-markdown/", {"text": "x" * 30_000}).status_code == 400
    assert coach_client.get("/dashboard/preview-markdown/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
    client.logout()
    assert client.post("/dashboard/preview-markdown/", {"text": "x"}).status_code == HTTPStatus.FOUND
