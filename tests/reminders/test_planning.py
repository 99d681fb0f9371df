"""booking/reminders.py: which reminders a call gets and when, as pure functions over values.

The clock is pinned in every test (the functions take ``now`` and must not read the
clock themselves), and DST days in the recipients' zones are included: reminders
are absolute durations before the start.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking import reminders
from booking.reminders import (
    CANCELLED,
    FAILED,
    FOLLOW_UP,
    Existing,
    Planned,
    describe_kind,
    describe_lead,
    offsets_for,
    plan_reminders,
    reconcile,
    send_problem,
)
from tests.support import NOW, SLOT

pytestmark = pytest.mark.time_machine(NOW, tick=False)

NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
END = SLOT + timedelta(minutes=30)


def plan(start: datetime = SLOT, *, now: datetime = NOW, offsets: object = None, follow_up: bool = True):
    return plan_reminders(
        offsets=offsets_for({} if offsets is None else offsets),
        follow_up=follow_up,
        start=start,
        end=start + timedelta(minutes=30),
        now=now,
    )


def test_it_uses_the_defaults_when_the_offering_says_nothing() -> None:
    """``{}`` (the model's default): the client 24 h and 1 h before, the coach 1 h before."""
    assert offsets_for({}) == {"client": (1440, 60), "coach": (60,)}
    assert offsets_for(None) == {"client": (1440, 60), "coach": (60,)}
    assert offsets_for({"client": [30]}) == {"client": (30,), "coach": (60,)}


def test_it_reads_an_empty_list_as_no_reminders_and_ignores_junk() -> None:
    """The dashboard writes ``[]`` for "none"; values admin might type that make no sense are dropped."""
    offsets = offsets_for({"client": [60, "24h", True, 0, -5, 10**9, 60, 1440], "coach": []})
    assert offsets == {"client": (1440, 60), "coach": ()}
    assert offsets_for({"client": "60", "coach": None}) == {"client": (), "coach": (60,)}


def test_it_plans_the_default_reminders_and_the_follow_up() -> None:
    """A call 27 hours ahead: every reminder is still ahead, soonest first, the follow-up an hour after the end."""
    assert plan() == [
        Planned("client", "before-1440", SLOT - timedelta(hours=24)),
        Planned("client", "before-60", SLOT - timedelta(hours=1)),
        Planned("coach", "before-60", SLOT - timedelta(hours=1)),
        Planned("client", FOLLOW_UP, END + timedelta(hours=1)),
    ]


def test_it_skips_a_reminder_whose_time_has_passed_when_the_call_is_booked() -> None:
    """No "your call is in 24 hours" for a call in 2 hours; a call in 30 minutes gets only the follow-up."""
    in_two_hours = plan(NOW + timedelta(hours=2))
    assert [(p.recipient, p.kind) for p in in_two_hours] == [
        ("client", "before-60"),
        ("coach", "before-60"),
        ("client", FOLLOW_UP),
    ]
    assert [p.kind for p in plan(NOW + timedelta(minutes=30))] == [FOLLOW_UP]


def test_it_skips_a_reminder_due_exactly_now() -> None:
    """Due at the very moment of booking counts as passed: it would arrive together with the confirmation."""
    kinds = [p.kind for p in plan(NOW + timedelta(hours=1))]
    assert "before-60" not in kinds


def test_it_plans_no_follow_up_when_the_offering_has_it_off() -> None:
    assert FOLLOW_UP not in [p.kind for p in plan(follow_up=False)]


def test_it_plans_24_hours_as_a_duration_across_spring_forward_in_new_york() -> None:
    """Sunday 8 March 2026 at 12:00 in New York (clocks went forward at 02:00 that day):
    the 24-hour reminder goes 24 real hours earlier, Saturday at 11:00 local (EST), 16:00 UTC."""
    call = datetime(2026, 3, 8, 12, 0, tzinfo=NEW_YORK)
    assert call.astimezone(UTC) == datetime(2026, 3, 8, 16, 0, tzinfo=UTC)
    day_before = {p.kind: p.due_at for p in plan(call, now=datetime(2026, 3, 1, tzinfo=UTC))}["before-1440"]
    assert day_before == datetime(2026, 3, 7, 16, 0, tzinfo=UTC)
    assert call.astimezone(UTC) - day_before == timedelta(hours=24)
    assert day_before.astimezone(NEW_YORK).hour == 11


def test_it_plans_24_hours_as_a_duration_across_fall_back_in_new_york() -> None:
    """Sunday 1 November 2026 at 12:00 in New York (clocks went back at 02:00): the reminder is
    Saturday at 13:00 local (EDT), 25 wall-clock hours before."""
    call = datetime(2026, 11, 1, 12, 0, tzinfo=NEW_YORK)
    due = {p.kind: p.due_at for p in plan(call, now=datetime(2026, 10, 20, tzinfo=UTC))}["before-1440"]
    assert due == datetime(2026, 10, 31, 17, 0, tzinfo=UTC)
    assert due.astimezone(NEW_YORK).hour == 13


def test_it_plans_across_lord_howes_half_hour_change() -> None:
    """Lord Howe Island moves its clocks by 30 minutes (back at 02:00 on Sunday 5 April 2026):
    a call at 12:00 that day gets its 24-hour reminder at 12:30 local on Saturday."""
    call = datetime(2026, 4, 5, 12, 0, tzinfo=LORD_HOWE)
    due = {p.kind: p.due_at for p in plan(call, now=datetime(2026, 3, 20, tzinfo=UTC))}["before-1440"]
    assert call.astimezone(UTC) - due == timedelta(hours=24)
    local = due.astimezone(LORD_HOWE)
    assert (local.day, local.hour, local.minute) == (4, 12, 30)


def test_it_moves_scheduled_rows_and_arms_sent_ones_again() -> None:
    """Reschedule: a scheduled row moves; a sent, claimed or failed one is armed again; a missing one is created."""
    new_start = SLOT + timedelta(days=2)
    planned = plan(new_start)
    due = {(p.recipient, p.kind): p.due_at for p in planned}
    existing = [
        Existing(1, "client", "before-1440", "sent"),
        Existing(2, "client", "before-60", "scheduled"),
        Existing(3, "client", FOLLOW_UP, "failed"),
    ]
    changes = reconcile(existing, planned)
    assert changes.move == [(2, due[("client", "before-60")])]
    assert changes.rearm == [(1, due[("client", "before-1440")]), (3, due[("client", FOLLOW_UP)])]
    assert changes.create == [Planned("coach", "before-60", due[("coach", "before-60")])]
    assert changes.cancel == []


def test_it_cancels_what_is_no_longer_ahead_but_keeps_what_was_sent() -> None:
    """Moved to 30 minutes from now: the unsent 1-hour reminders are cancelled, the sent 24-hour one stays sent."""
    planned = plan(NOW + timedelta(minutes=30))
    existing = [
        Existing(1, "client", "before-1440", "sent"),
        Existing(2, "client", "before-60", "scheduled"),
        Existing(3, "coach", "before-60", "sending"),
        Existing(4, "client", FOLLOW_UP, "scheduled"),
    ]
    changes = reconcile(existing, planned)
    assert changes.cancel == [2, 3]
    assert [pk for pk, _ in changes.move] == [4]
    assert changes.rearm == [] and changes.create == []


def _problem(**overrides: object) -> tuple[str, str] | None:
    values: dict[str, object] = {
        "kind": "before-60",
        "recipient": "client",
        "booking_status": "confirmed",
        "start": SLOT,
        "follow_up_enabled": True,
        "client_gone": False,
        "now": SLOT - timedelta(hours=1),
    }
    values.update(overrides)
    return send_problem(**values)  # type: ignore[arg-type]


def test_it_sends_only_what_still_makes_sense() -> None:
    """Checked just before sending: the booking may have changed since the claim."""
    assert _problem() is None
    assert _problem(booking_status="cancelled") == (CANCELLED, "The booking is no longer confirmed.")
    assert _problem(now=SLOT) == (FAILED, "Not sent before the call started.")
    assert _problem(client_gone=True)[0] == CANCELLED  # type: ignore[index]
    assert _problem(client_gone=True, recipient="coach") is None
    assert _problem(kind=FOLLOW_UP, now=END + timedelta(hours=1)) is None
    assert _problem(kind=FOLLOW_UP, booking_status="completed", now=END + timedelta(hours=1)) is None
    assert _problem(kind=FOLLOW_UP, booking_status="no_show")[0] == CANCELLED  # type: ignore[index]
    assert _problem(kind=FOLLOW_UP, follow_up_enabled=False)[0] == CANCELLED  # type: ignore[index]


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(hours=24) - timedelta(seconds=20), "in 24 hours"),
        (timedelta(hours=1) - timedelta(seconds=5), "in 1 hour"),
        (timedelta(hours=24) - timedelta(seconds=70), "in 24 hours"),
        (timedelta(minutes=84), "in 1 hour 25 minutes"),
        (timedelta(minutes=30), "in 30 minutes"),
        (timedelta(minutes=1), "in 1 minute"),
        (timedelta(days=3), "in 3 days"),
    ],
)
def test_it_says_how_far_off_the_call_is(delta: timedelta, text: str) -> None:
    """From the moment of sending, so a reminder sent a little late still tells the truth."""
    assert describe_lead(delta) == text


def test_it_names_reminders_for_the_dashboard() -> None:
    assert describe_kind("before-1440") == "24 hours before"
    assert describe_kind("before-2880") == "2 days before"
    assert describe_kind("before-60") == "1 hour before"
    assert describe_kind("before-90") == "90 minutes before"
    assert describe_kind(FOLLOW_UP) == "Follow-up after the call"
    assert reminders.minutes_before("before-x") is None
