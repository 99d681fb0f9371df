"""The Calendars page's CalDAV section in chromium, against a real Radicale (tests/caldav/conftest.py):
a coach with nothing connected sees the empty state and the connect form; a refused app password
comes back at the password field (a 400, nothing kept); the right one connects and finds both
calendars; the coach picks "Work" to receive bookings and saves; "Read now" reads an event added
since, and both of Work's events are gone from the offering's public slots (the JSON API over the
live server); disconnecting asks first on a page of its own, then the account and its busy time go
and the slots are free again. axe-core finds nothing serious at a desktop's width and a phone's,
with nothing connected, with the error, with the account connected and on the confirmation; the
pages fit a 320 px phone without sideways scrolling, the connected account's calendar table too
(it scrolls inside its own box).

Tasks run eagerly (tests/conftest.py sets Celery's ``task_always_eager`` on the app, which the live
server's thread shares) and the live server commits each request, so the syncs enqueued on commit
run inside the request that asked for them. The ``radicale`` fixture's ``settings`` change
(``OUTBOUND_ALLOW_LOOPBACK``) is process-wide, so the live server's thread may reach Radicale on
loopback. Time is pinned at NOW (Tuesday 1 December 2026) with the clock ticking.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import time_machine
from playwright.sync_api import BrowserContext, Page, expect

from coaching.caldav_services import caldav_connect
from coaching.models import BusyBlock, CalDavAccount, CalDavCalendar, Offering
from tests.caldav.conftest import PASSWORD, USER, Radicale, radicale  # noqa: F401
from tests.e2e.support import DESKTOP, PHONE, assert_accessible, assert_accessible_at_both_widths, sign_in
from tests.support import NOW, SLOT

PAGE = "/dashboard/calendars/"
# Thursday 3 December 2026, 10:00 in New York: a time the offering offers, until "Read now".
LATER_SLOT = SLOT + timedelta(days=1)


def vevent(uid: str, start: datetime, minutes: int = 60) -> str:
    """An opaque (busy) event, as a calendar app would store it."""
    end = start + timedelta(minutes=minutes)
    stamp = "%Y%m%dT%H%M%SZ"
    return "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Tests//Calendar app//EN",
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"DTSTAMP:{NOW.strftime(stamp)}",
            f"DTSTART:{start.astimezone(UTC).strftime(stamp)}",
            f"DTEND:{end.astimezone(UTC).strftime(stamp)}",
            "SUMMARY:Dentist",
            "TRANSP:OPAQUE",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )


def free_starts(page: Page, base: str, offering: Offering, day: datetime) -> set[datetime]:
    """The offering's free slot starts on ``day`` (UTC), from the public slots API."""
    response = page.request.get(
        f"{base}/api/v1/coaches/{offering.coach.slug}/offerings/{offering.slug}/slots",
        params={"start": day.date().isoformat(), "end": day.date().isoformat(), "tz": "UTC"},
    )
    assert response.status == 200, response.text()
    return {datetime.fromisoformat(s["start"]) for s in response.json()["slots"]}


def test_a_coach_connects_a_caldav_account_chooses_reads_and_disconnects(
    page: Page,
    context: BrowserContext,
    live_server,
    offering: Offering,
    radicale: Radicale,  # noqa: F811
) -> None:
    base = live_server.url
    work = radicale.calendar("Work", "work")
    radicale.calendar("Family", "family")
    work.save_event(vevent("dentist-1@calendar.example", SLOT))

    with time_machine.travel(NOW, tick=True):
        sign_in(context, base, offering.coach.user)
        assert SLOT in free_starts(page, base, offering, SLOT)
        assert LATER_SLOT in free_starts(page, base, offering, LATER_SLOT)

        # Nothing connected yet: the empty state and the connect form.
        page.goto(base + PAGE)
        section = page.get_by_role("region", name="Calendar accounts (CalDAV)")
        expect(section.get_by_text("No calendar account connected yet.")).to_be_visible()
        expect(section.get_by_role("button", name="Connect account")).to_be_visible()
        assert_accessible_at_both_widths(page, "calendars, no CalDAV account")

        # A refused app password: the form comes back with the reason at the password field.
        connect = page.get_by_role("form", name="Connect a calendar account")
        connect.get_by_label("CalDAV server").fill(radicale.url)
        connect.get_by_label("Username").fill(USER)
        connect.get_by_label("App password").fill("wrong-password")
        with page.expect_response(lambda r: r.url.endswith(PAGE + "caldav/")) as answer:
            connect.get_by_role("button", name="Connect account").click()
        assert answer.value.status == 400
        password = page.get_by_role("form", name="Connect a calendar account").get_by_label("App password")
        expect(password).to_have_attribute("aria-invalid", "true")
        expect(password).to_have_accessible_description(re.compile("refused the username or password"))
        expect(page.locator("#id_password_error")).to_contain_text("refused the username or password")
        expect(password).to_have_value("")
        expect(page.get_by_label("CalDAV server")).to_have_value(radicale.url)
        assert not CalDavAccount.objects.exists()
        assert_accessible_at_both_widths(page, "calendars, CalDAV password refused")

        # The right one: both calendars found, each busy until the coach chooses.
        connect = page.get_by_role("form", name="Connect a calendar account")
        connect.get_by_label("Username").fill(USER)
        connect.get_by_label("App password").fill(PASSWORD)
        connect.get_by_role("button", name="Connect account").click()
        page.wait_for_url(base + PAGE)
        expect(page.locator(".messages")).to_contain_text("Connected: 2 calendars found.")
        account = CalDavAccount.objects.get(coach=offering.coach)
        account_form = page.get_by_role("form", name=re.compile(rf"^{USER} · "))
        # The server is shown without its path (display_url), the password nowhere.
        expect(account_form.get_by_role("heading", level=3)).to_have_text(f"{USER} · http://127.0.0.1/…")
        expect(account_form.get_by_role("row", name="Work")).to_be_visible()
        expect(account_form.get_by_role("row", name="Family")).to_be_visible()
        expect(account_form.get_by_label("Work blocks my time")).to_be_checked()
        expect(account_form.get_by_label("Family blocks my time")).to_be_checked()
        expect(account_form.get_by_label("Write bookings into no calendar")).to_be_checked()
        assert PASSWORD not in page.content()

        # Bookings go to Work; saved, and the choice is shown again.
        account_form.get_by_label("Write bookings into Work").check()
        account_form.get_by_role("button", name="Save").click()
        page.wait_for_url(base + PAGE)
        expect(page.locator(".messages")).to_contain_text("Saved. Busy times are being read again.")
        account_form = page.get_by_role("form", name=re.compile(rf"^{USER} · "))
        expect(account_form.get_by_label("Write bookings into Work")).to_be_checked()
        assert list(
            CalDavCalendar.objects.filter(account=account)
            .order_by("name")
            .values_list("name", "busy", "write_bookings")
        ) == [("Family", True, False), ("Work", True, True)]

        # An event made in the coach's calendar app since: "Read now" reads it.
        work.save_event(vevent("dentist-2@calendar.example", LATER_SLOT))
        account_form.get_by_role("button", name="Read now").click()
        page.wait_for_url(base + PAGE)
        expect(page.locator(".messages")).to_contain_text("Reading your busy calendars again now")
        assert SLOT not in free_starts(page, base, offering, SLOT)
        assert LATER_SLOT not in free_starts(page, base, offering, LATER_SLOT)
        # The half hours around the events are still offered.
        assert SLOT - timedelta(minutes=30) in free_starts(page, base, offering, SLOT)
        assert {(b.start, b.end) for b in BusyBlock.objects.filter(coach=offering.coach)} == {
            (SLOT, SLOT + timedelta(hours=1)),
            (LATER_SLOT, LATER_SLOT + timedelta(hours=1)),
        }
        expect(page.get_by_role("row", name="Work")).not_to_contain_text("—")
        # axe at both widths; the phone's sideways scrolling is the test below.
        for size in (DESKTOP, PHONE):
            page.set_viewport_size(size)
            assert_accessible(page, f"calendars, CalDAV account connected at {size['width']}px")
        page.set_viewport_size(DESKTOP)

        # Disconnect: a question first, on a page of its own.
        page.get_by_role("link", name="Disconnect…").click()
        page.wait_for_url(f"{base}{PAGE}caldav/{account.pk}/remove/")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Disconnect {USER}?")
        assert CalDavAccount.objects.exists()
        assert_accessible_at_both_widths(page, "disconnect the CalDAV account")
        page.get_by_role("button", name="Disconnect").click()
        page.wait_for_url(base + PAGE)
        expect(page.locator(".messages")).to_contain_text(f"{USER} is disconnected.")
        expect(page.get_by_text("No calendar account connected yet.")).to_be_visible()
        assert not CalDavAccount.objects.exists()
        assert not BusyBlock.objects.filter(coach=offering.coach).exists()
        assert SLOT in free_starts(page, base, offering, SLOT)
        assert LATER_SLOT in free_starts(page, base, offering, LATER_SLOT)


def test_a_connected_account_fits_a_phone(
    page: Page,
    context: BrowserContext,
    live_server,
    offering: Offering,
    radicale: Radicale,  # noqa: F811
) -> None:
    radicale.calendar("Work", "work")
    radicale.calendar("Family", "family")
    with time_machine.travel(NOW, tick=True):
        caldav_connect(coach=offering.coach, server=radicale.url, username=USER, password=PASSWORD)
        sign_in(context, live_server.url, offering.coach.user)
        page.goto(live_server.url + PAGE)
        expect(page.get_by_label("Write bookings into Work")).to_be_visible()
        assert_accessible_at_both_widths(page, "calendars, CalDAV account connected")
