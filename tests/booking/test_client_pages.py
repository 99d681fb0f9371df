"""The coach's client pages: the list (search, sort, pages, a fixed number of queries) and a
client's page (sessions with outcomes and credits, intake answers, passes, the coach's private
notes in general and per session). Another coach's client is not found; non-coaches are refused.

Time is pinned at NOW (Tuesday 1 December 2026, 07:00 in New York); SLOT is the next day, 10:00.
"""

from __future__ import annotations

import re
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client as WebClient

from booking.models import Booking, BookingEvent
from booking.services import booking_cancel
from coaching.models import Coach, Offering
from practice import services
from practice.models import Client, Package, Pass, SessionNote
from tests.factories import BookingFactory, CoachFactory, OfferingFactory, UserFactory
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

LIST = "/dashboard/clients/"
Status = Booking.Status


def html(response: Any) -> str:
    return response.content.decode()


def client_url(client: Client, tail: str = "") -> str:
    return f"{LIST}{client.pk}/{tail}"


def listed(page: str) -> list[str]:
    """The client ids in the list's table, in order."""
    return re.findall(r'href="/dashboard/clients/(\d+)/"', page)


@pytest.fixture
def package(offering: Offering) -> Package:
    return services.package_save(
        coach=offering.coach, name="Three calls", sessions=3, offerings=[offering], validity_days=30
    )


@pytest.fixture
def held(offering: Offering):
    """A past session of ``client`` (a record of the offering's coach), ``days`` ago."""

    def make(client: Client, days: int, status: str = Status.COMPLETED, **extra: Any) -> Booking:
        return BookingFactory(
            offering=offering,
            start=NOW - timedelta(days=days),
            client_name=client.name,
            client_email=client.email,
            client_record=client,
            status=status,
            **extra,
        )

    return make


def record(coach: Coach, email: str, name: str) -> Client:
    return services.client_record(coach_id=coach.pk, email=email, name=name)


@pytest.fixture
def other_coach(db: None) -> Coach:
    return CoachFactory(slug="hedy", user__email="hedy@example.com")


@pytest.fixture
def other_client(client: WebClient, other_coach: Coach) -> WebClient:
    client.force_login(other_coach.user)
    return client


# ---------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------
class TestClientList:
    def test_it_says_where_clients_come_from_when_there_are_none(self, coach_client: WebClient) -> None:
        page = html(coach_client.get(LIST))
        assert "No clients yet." in page and "/dashboard/passes/new/" in page

    def test_it_lists_each_client_with_their_sessions_and_passes(
        self, coach_client: WebClient, book, held, package: Package
    ) -> None:
        booking = book()  # Grace, tomorrow
        grace = booking.client_record
        held(grace, days=3)
        held(grace, days=10)
        held(grace, days=20, status=Status.CANCELLED)
        granted = services.pass_grant(
            package=package, client_email="grace@example.com", client_name="Grace Hopper", now=NOW
        )
        page = html(coach_client.get(LIST))
        row = re.search(rf'<a href="/dashboard/clients/{grace.pk}/">.*?</tr>', page, re.S).group(0)
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        assert (cells[0], cells[1]) == ("1", "2")  # upcoming, past (the cancelled one is neither)
        assert "Saturday 28 November 2026" in cells[2]
        assert f'<a href="/dashboard/passes/{granted.reference}/">Three calls</a>: 3 left' in cells[3]
        assert "grace@example.com" in row

    def test_it_searches_by_name_or_email(self, coach_client: WebClient, coach: Coach) -> None:
        grace = record(coach, "grace@example.com", "Grace Hopper")
        alan = record(coach, "alan@turing.org", "Alan Turing")
        assert listed(html(coach_client.get(f"{LIST}?q=hopper"))) == [str(grace.pk)]
        assert listed(html(coach_client.get(f"{LIST}?q=TURING.ORG"))) == [str(alan.pk)]
        assert "No client&#x27;s name or email matches" not in html(coach_client.get(f"{LIST}?q=grace"))
        assert "matches “nobody”" in html(coach_client.get(f"{LIST}?q=nobody"))

    def test_it_sorts_by_name_last_session_and_most_sessions(
        self, coach_client: WebClient, coach: Coach, held
    ) -> None:
        ada = record(coach, "ada@example.com", "ada Byron")  # lower case sorts as a name
        bob = record(coach, "bob@example.com", "Bob")
        cleo = record(coach, "cleo@example.com", "Cleo")
        held(bob, days=1)
        for days in (30, 31, 32):
            held(cleo, days=days)
        assert listed(html(coach_client.get(LIST))) == [str(ada.pk), str(bob.pk), str(cleo.pk)]
        last = html(coach_client.get(f"{LIST}?sort=last"))
        assert listed(last) == [str(bob.pk), str(cleo.pk), str(ada.pk)]
        most = html(coach_client.get(f"{LIST}?sort=most"))
        assert listed(most) == [str(cleo.pk), str(bob.pk), str(ada.pk)]

    def test_bad_input_shows_the_list_instead_of_failing(self, coach_client: WebClient, coach: Coach) -> None:
        record(coach, "grace@example.com", "Grace Hopper")
        for query in ("?sort=bogus", "?q=%00", "?page=99", "?page=x", "?q=" + "g" * 500):
            assert coach_client.get(LIST + query).status_code == HTTPStatus.OK

    def test_it_pages_and_keeps_the_search_and_sort(self, coach_client: WebClient, coach: Coach) -> None:
        for n in range(27):
            record(coach, f"c{n:02d}@example.com", f"Client {n:02d}")
        page = html(coach_client.get(f"{LIST}?q=client&sort=name"))
        assert len(listed(page)) == 25
        assert 'href="?page=2&amp;q=client&amp;sort=name"' in page
        assert len(listed(html(coach_client.get(f"{LIST}?q=client&sort=name&page=2")))) == 2

    def test_it_lists_only_the_coachs_own_clients(
        self, other_client: WebClient, coach: Coach, other_coach: Coach
    ) -> None:
        record(coach, "grace@example.com", "Grace Hopper")
        hedys = record(other_coach, "grace@example.com", "Grace at Hedy's")
        page = html(other_client.get(LIST))
        assert listed(page) == [str(hedys.pk)]

    @pytest.mark.parametrize("count", [2, 30])
    def test_its_queries_do_not_grow_with_the_clients(
        self,
        coach_client: WebClient,
        coach: Coach,
        held,
        package: Package,
        count: int,
        django_assert_max_num_queries,
    ) -> None:
        for n in range(count):
            client = record(coach, f"c{n:02d}@example.com", f"Client {n:02d}")
            held(client, days=n + 1)
            services.pass_grant(package=package, client_email=client.email, client_name=client.name, now=NOW)
        for sort in ("name", "last", "most"):
            # Session, user, coach, the navigation's count; the clients' count, the page, their
            # passes, their bookings' counts (client_booking_counts).
            with django_assert_max_num_queries(9):
                assert coach_client.get(f"{LIST}?sort={sort}").status_code == HTTPStatus.OK


# ---------------------------------------------------------------------------
# A client's page
# ---------------------------------------------------------------------------
@pytest.fixture
def grace_file(book, held, package: Package, offering: Offering) -> dict[str, Any]:
    """Grace: a pass; a session tomorrow paid with it, one cancelled late (forfeited), one
    completed last week with answers, and an upcoming one without the pass."""
    granted = services.pass_grant(
        package=package, client_email="grace@example.com", client_name="Grace Hopper", now=NOW
    )
    upcoming = book(client_pass=granted, answers={})
    late = book(SLOT + timedelta(hours=2), client_pass=granted)
    late = booking_cancel(booking=late, by=BookingEvent.Actor.CLIENT, now=SLOT - timedelta(hours=1))
    grace = upcoming.client_record
    past = held(grace, days=7, answers={"What would you like to talk about?": "My next move"})
    return {"client": grace, "pass": granted, "upcoming": upcoming, "late": late, "past": past}


class TestClientPage:
    def test_it_shows_sessions_with_outcome_and_credit(self, coach_client: WebClient, grace_file) -> None:
        grace, granted = grace_file["client"], grace_file["pass"]
        page = html(coach_client.get(client_url(grace)))
        upcoming = page.split('id="upcoming-title"')[1].split('id="past-title"')[0]
        past = page.split('id="past-title"')[1].split('id="answers-title"')[0]
        assert grace_file["upcoming"].reference in upcoming and grace_file["late"].reference not in upcoming
        assert "Wednesday 2 December 2026, 10:00–10:30" in upcoming
        assert "Paid with a pass session" in upcoming
        assert f'href="/dashboard/passes/{granted.reference}/"' in upcoming
        # Latest first: the late cancellation (tomorrow), then last week's session.
        assert past.index(grace_file["late"].reference) < past.index(grace_file["past"].reference)
        assert "Cancelled" in past and "Pass session used up (forfeited)" in past
        assert "Completed" in past
        assert f'href="/dashboard/bookings/{grace_file["past"].reference}/"' in past

    def test_it_marks_a_credit_given_back_late(
        self, coach_client: WebClient, book, package: Package, offering: Offering
    ) -> None:
        offering.late_cancel_credit = Offering.LateCancelCredit.RETURN_LATE
        offering.save()
        granted = services.pass_grant(
            package=package, client_email="grace@example.com", client_name="G", now=NOW
        )
        booking = book(client_pass=granted)
        booking_cancel(booking=booking, by=BookingEvent.Actor.CLIENT, now=SLOT - timedelta(hours=1))
        page = html(coach_client.get(client_url(booking.client_record)))
        assert "Pass session given back, marked late" in page

    def test_it_shows_intake_answers_and_passes_with_balances(
        self, coach_client: WebClient, grace_file
    ) -> None:
        grace, granted = grace_file["client"], grace_file["pass"]
        page = html(coach_client.get(client_url(grace)))
        answers = page.split('id="answers-title"')[1]
        assert "What would you like to talk about?" in answers and "My next move" in answers
        assert "Tuesday 24 November 2026" in answers
        passes = page.split('id="passes-title"')[1].split('id="upcoming-title"')[0]
        assert f'<a href="/dashboard/passes/{granted.reference}/">Three calls</a>' in passes
        assert "1 of 3 sessions left" in passes
        assert f"/dashboard/passes/new/?client={grace.pk}" in page

    def test_it_labels_the_notes_private(self, coach_client: WebClient, grace_file) -> None:
        page = html(coach_client.get(client_url(grace_file["client"])))
        assert "Private: never shown to the client." in page

    def test_it_saves_general_notes_and_renders_their_markdown_safely(
        self, coach_client: WebClient, grace_file
    ) -> None:
        grace = grace_file["client"]
        notes = "**Goals**: a new role\n\n<script>alert(1)</script>\n\n[link](javascript:alert(1))"
        response = coach_client.post(client_url(grace, "notes/"), {"notes": notes})
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == client_url(grace) + "#notes"
        grace.refresh_from_db()
        assert grace.notes == notes
        page = html(coach_client.get(client_url(grace)))
        shown = page.split('id="notes-title"')[1].split("<details")[0]
        assert "<strong>Goals</strong>" in shown
        assert "<script>" not in shown and "javascript:" not in shown

    def test_too_long_notes_are_refused_with_a_message(self, coach_client: WebClient, grace_file) -> None:
        grace = grace_file["client"]
        response = coach_client.post(client_url(grace, "notes/"), {"notes": "x" * 20001})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "Notes can be at most 20000 characters long." in html(response)
        grace.refresh_from_db()
        assert grace.notes == ""

    def test_it_adds_edits_and_removes_a_private_note_per_session(
        self, coach_client: WebClient, grace_file
    ) -> None:
        grace, past = grace_file["client"], grace_file["past"]
        url = client_url(grace, f"sessions/{past.reference}/note/")
        field = f"note-{past.pk}-body"
        response = coach_client.post(url, {field: "Talked about *the move*."})
        assert response["Location"] == client_url(grace) + f"#session-{past.reference}"
        assert SessionNote.objects.get(booking=past).body == "Talked about *the move*."
        page = html(coach_client.get(client_url(grace)))
        session = page.split(f'id="session-{past.reference}"')[1].split("</li>")[0]
        assert "Talked about <em>the move</em>." in session and "Edit the private note" in session
        coach_client.post(url, {field: "Second thoughts."})
        assert SessionNote.objects.get(booking=past).body == "Second thoughts."
        response = coach_client.post(url, {field: "  "}, follow=True)
        assert "Note removed." in html(response)
        assert not SessionNote.objects.exists()

    def test_a_too_long_session_note_is_refused_with_a_message(
        self, coach_client: WebClient, grace_file
    ) -> None:
        grace, past = grace_file["client"], grace_file["past"]
        url = client_url(grace, f"sessions/{past.reference}/note/")
        response = coach_client.post(url, {f"note-{past.pk}-body": "x" * 20001})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "A note can be at most 20000 characters long." in html(response)
        assert not SessionNote.objects.exists()

    def test_a_note_on_another_clients_session_is_not_found(
        self, coach_client: WebClient, grace_file, coach: Coach, held
    ) -> None:
        alan = record(coach, "alan@example.com", "Alan Turing")
        his = held(alan, days=2)
        url = client_url(grace_file["client"], f"sessions/{his.reference}/note/")
        assert coach_client.post(url, {f"note-{his.pk}-body": "Hm"}).status_code == HTTPStatus.NOT_FOUND
        bad = client_url(grace_file["client"], "sessions/BK-%00/note/")
        assert coach_client.post(bad, {"x": "y"}).status_code == HTTPStatus.NOT_FOUND
        assert not SessionNote.objects.exists()

    def test_another_coachs_client_is_not_found(self, other_client: WebClient, grace_file) -> None:
        grace, past = grace_file["client"], grace_file["past"]
        assert other_client.get(client_url(grace)).status_code == HTTPStatus.NOT_FOUND
        assert (
            other_client.post(client_url(grace, "notes/"), {"notes": "Mine"}).status_code
            == HTTPStatus.NOT_FOUND
        )
        note_url = client_url(grace, f"sessions/{past.reference}/note/")
        assert (
            other_client.post(note_url, {f"note-{past.pk}-body": "Mine"}).status_code == HTTPStatus.NOT_FOUND
        )
        grace.refresh_from_db()
        assert grace.notes == "" and not SessionNote.objects.exists()

    def test_an_unknown_client_is_not_found(self, coach_client: WebClient) -> None:
        assert coach_client.get(f"{LIST}999999/").status_code == HTTPStatus.NOT_FOUND
        assert coach_client.get(f"{LIST}99999999999999999999/").status_code == HTTPStatus.NOT_FOUND

    def test_it_pages_the_past_sessions(self, coach_client: WebClient, coach: Coach, held) -> None:
        grace = record(coach, "grace@example.com", "Grace Hopper")
        sessions = [held(grace, days=d + 1) for d in range(23)]
        first = html(coach_client.get(client_url(grace)))
        assert sessions[0].reference in first and sessions[22].reference not in first
        second = html(coach_client.get(client_url(grace) + "?page=2"))
        assert sessions[22].reference in second
        # A note saved from page 2 comes back to page 2.
        last = sessions[22]
        url = client_url(grace, f"sessions/{last.reference}/note/") + "?page=2"
        response = coach_client.post(url, {f"note-{last.pk}-body": "Old times"})
        assert response["Location"] == client_url(grace) + f"?page=2#session-{last.reference}"

    @pytest.mark.parametrize("count", [1, 25])
    def test_its_queries_do_not_grow_with_the_sessions(
        self,
        coach_client: WebClient,
        coach: Coach,
        held,
        package: Package,
        count: int,
        django_assert_max_num_queries,
    ) -> None:
        grace = record(coach, "grace@example.com", "Grace Hopper")
        granted = services.pass_grant(
            package=package, client_email=grace.email, client_name=grace.name, now=NOW
        )
        for d in range(count):
            booking = held(grace, days=d + 1, client_pass=granted, answers={"Q": "A"})
            services.session_note_save(client=grace, booking=booking, body=f"note {d}")
        with django_assert_max_num_queries(12):
            assert coach_client.get(client_url(grace)).status_code == HTTPStatus.OK


def test_people_without_a_coach_profile_are_refused_and_visitors_sent_to_sign_in(
    client: WebClient, coach: Coach, held
) -> None:
    grace = record(coach, "grace@example.com", "Grace Hopper")
    past = held(grace, days=2)
    pages = [LIST, client_url(grace)]
    for url in pages:
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND and response["Location"].startswith(
            "/accounts/login/"
        )
    client.force_login(UserFactory(email="cleo@example.com"))
    for url in pages:
        assert client.get(url).status_code == HTTPStatus.FORBIDDEN
    assert client.post(client_url(grace, "notes/"), {"notes": "x"}).status_code == HTTPStatus.FORBIDDEN
    note = client_url(grace, f"sessions/{past.reference}/note/")
    assert client.post(note, {f"note-{past.pk}-body": "x"}).status_code == HTTPStatus.FORBIDDEN
    grace.refresh_from_db()
    assert grace.notes == "" and not SessionNote.objects.exists()


def test_a_session_note_must_be_on_one_of_the_clients_own_sessions(
    coach: Coach, held, other_coach: Coach
) -> None:
    grace = record(coach, "grace@example.com", "Grace Hopper")
    alan = record(coach, "alan@example.com", "Alan Turing")
    theirs = BookingFactory(
        offering=OfferingFactory(coach=other_coach),
        client_email="grace@example.com",
        client_record=record(other_coach, "grace@example.com", "Grace"),
    )
    for booking in (held(alan, days=1), theirs):
        with pytest.raises(services.PracticeError, match="not one of this client"):
            services.session_note_save(client=grace, booking=booking, body="x")
    assert not SessionNote.objects.exists()
    assert Pass.objects.count() == 0
