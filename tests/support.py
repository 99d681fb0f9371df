"""Helpers shared by the whole suite: the pinned moments, form data builders, polling.

Fixtures live in tests/conftest.py and factories in tests/factories.py.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

# Tuesday 1 December 2026, 07:00 in New York: the coach fixture works Mon-Fri 09-17 there.
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
# Wednesday 2 December 2026, 10:00 in New York.
SLOT = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)

# The series tests (issue 16): Monday 1 March 2027, 07:00 in New York, and the first call on
# Tuesday 2 March at 10:00 there; New York moves its clocks on 14 March, Berlin on 28 March.
SERIES_NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
SERIES_FIRST = datetime(2027, 3, 2, 15, 0, tzinfo=UTC)

DEADLINE_SECONDS = 30.0


def offering_data(**overrides: Any) -> dict[str, Any]:
    """The offering form's POST, valid as it is; ``overrides`` change fields."""
    data = {
        "title": "Deep dive",
        "slug": "deep-dive",
        "description": "",
        "duration_minutes": "60",
        "location_kind": "room",
        "location_details": "",
        "phone_caller": "client",
        "slot_step_minutes": "30",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "10",
        "min_notice_hours": "4",
        "cancel_notice_hours": "24",
        "reschedule_notice_hours": "24",
        "horizon_days": "60",
        "daily_cap": "",
        "max_reschedules": "2",
        "cancel_grace_minutes": "0",
        "late_cancel_credit": "forfeit",
        "price_amount": "",
        "price_currency": "",
        "color": "#2f6f5e",
        "is_active": "on",
        "is_listed": "on",
        "client_reminders": "24h, 1h",
        "coach_reminders": "60",
    }
    data.update(overrides)
    return data


def week_data(**windows: tuple[str, str]) -> dict[str, str]:
    """`week_data(**{"day1-0": ("10:00", "12:00")})` -> the weekly-hours POST, other rows blank."""
    data = {f"day{d}-{n}-{part}": "" for d in range(7) for n in range(3) for part in ("start", "end")}
    for row, (start, end) in windows.items():
        data[f"{row}-start"], data[f"{row}-end"] = start, end
    return data


def booking_body(**overrides: object) -> dict[str, object]:
    """A valid POST /api/v1/bookings body for the ``offering`` fixture at SLOT."""
    return {
        "coach": "ada",
        "offering": "intro-call",
        "start": SLOT.isoformat(),
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "timezone": "Europe/Berlin",
        "answers": {},
        **overrides,
    }


def booking_form_data(**overrides: str) -> dict[str, str]:
    """A valid POST of the booking page's form for the ``offering`` fixture at SLOT."""
    return {
        "start": SLOT.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "time_zone": "Europe/Berlin",
        "form_token": "t" * 24,
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "note": "",
        **overrides,
    }


def race(
    count: int, attempt: Callable[[int], str], *, taken: tuple[type[Exception], ...] | None = None
) -> Counter[str]:
    """Run ``attempt(i)`` in ``count`` threads released together, each on its own database
    connection; count the outcomes: what ``attempt`` returns, "taken" for the ``taken``
    exceptions (SlotUnavailable by default), "error: ..." for anything else."""
    from django.db import connection

    from booking.services import SlotUnavailable

    expected = taken or (SlotUnavailable,)
    barrier = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            result = attempt(i)
        except expected:
            result = "taken"
        except Exception as exc:
            result = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return Counter(outcomes)


def wait_for(condition: Callable[[], bool], what: str, deadline: float = DEADLINE_SECONDS) -> None:
    """Poll ``condition`` until it holds, failing after the deadline (never a fixed sleep)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {deadline:g} s waiting for {what}")
