"""Who may open and change what: every coach-only and client-only page, for every kind of visitor.

The matrix: each coach page and action, and each client page and action, requested by
an anonymous visitor (sent to sign in), a signed-in client and staff or a superuser
without a coach profile (403 on coach pages: staff get no special access), another
coach (404 for the first coach's rows; their own lists never show them), another
client (their own data only) and the owner (200).

A request that is refused must also change nothing: ``snapshot`` records everything
of the coach and the client that any of these requests could touch, and it must be
the same afterwards. The owner's own requests do change it, which shows that the
requests the others make are real ones, not refused for some unrelated reason.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from booking.display import client_feed_url, coach_feed_url
from booking.forms import iso_utc
from booking.models import Booking, BookingEvent, EmailDelivery
from booking.services import feed_key_replace
from booking.tokens import manage_token
from coaching.models import BusyCalendar, Coach, DateOverride, Offering, WeeklyHours
from community import tokens
from community.models import Broadcast, BroadcastDelivery, Subscriber
from tests.factories import CoachFactory, OfferingFactory, UserFactory, WeeklyHoursFactory
from tests.support import NOW, SLOT, offering_data, week_data

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

LOGIN = "/accounts/login/?next="


# ---------------------------------------------------------------------------
# The people and their data
# ---------------------------------------------------------------------------
@dataclass
class World:
    coach: Coach  # Ada, whose pages are under test
    offering: Offering
    spare_offering: Offering  # no bookings: it can be deleted
    approval_offering: Offering
    confirmed: Booking
    pending: Booking
    past: Booking
    override: DateOverride
    calendar: BusyCalendar
    failed_email: EmailDelivery
    client: User  # Cleo, whose client pages are under test
    other_coach: Coach  # Hedy, with rows of her own
    other_client: User  # Dave, with a booking of his own
    staff: User
    superuser: User
    reader: Subscriber  # Ada's confirmed subscriber
    draft: Broadcast  # Ada's draft: it can be edited, tested, sent and deleted
    sent: Broadcast
    refreshes: list[int] = field(default_factory=list)

    def markers(self) -> list[str]:
        """Strings that only Ada's pages may show: her rows, their ids, her clients."""
        return [
            coach_feed_url(self.coach),
            "Ada's intro call",
            "Ada's spare call",
            "Ada's deep dive",
            "Ada's holiday",
            "Ada's work calendar",
            "ada-calendar.example.com",
            "SMTP 550 for Ada",
            f"/dashboard/offerings/{self.offering.pk}/",
            f"/dashboard/offerings/{self.spare_offering.pk}/",
            f"/dashboard/overrides/{self.override.pk}/",
            f"/dashboard/calendars/{self.calendar.pk}/",
            f"/dashboard/emails/{self.failed_email.pk}/",
            *self.community_markers(),
            *self.client_markers(),
            self.pending.reference,
            self.past.reference,
        ]

    def community_markers(self) -> list[str]:
        """Ada's subscribers and broadcasts: never on another coach's pages or in their CSV."""
        return [
            "Ada's landing introduction",
            "ada-reader@example.com",
            "ada-waiting@example.com",
            "ada-gone@example.com",
            "Ada's draft broadcast",
            "Ada's sent broadcast",
            f"/dashboard/broadcasts/{self.draft.pk}/",
            f"/dashboard/broadcasts/{self.sent.pk}/",
        ]

    def client_markers(self) -> list[str]:
        """Strings that only Cleo's client pages (and her coach's) may show."""
        return [
            "Cleo Client",
            self.client.email,
            client_feed_url(self.client),
            "Cleo's secret goal",
            self.confirmed.reference,
            manage_token(self.confirmed),
        ]


def failed_delivery(booking: Booking, error: str) -> EmailDelivery:
    """The email to the coach about ``booking`` could not be sent (on-commit tasks don't run here)."""
    delivery, _ = EmailDelivery.objects.update_or_create(
        event=booking.events.get(kind=BookingEvent.Kind.CREATED),
        recipient=EmailDelivery.Recipient.COACH,
        defaults={
            "booking": booking,
            "kind": "booking-confirmed",
            "status": EmailDelivery.Status.FAILED,
            "attempts": 5,
            "last_error": error,
            "last_attempt_at": NOW,
        },
    )
    return delivery


def join(coach: Coach, email: str, status: str = Subscriber.Status.CONFIRMED) -> Subscriber:
    return Subscriber.objects.create(
        coach=coach,
        email=email,
        status=status,
        consent_text="Yes, email me.",
        consented_at=NOW,
        confirmed_at=NOW if status == Subscriber.Status.CONFIRMED else None,
        key=tokens.new_subscriber_key(),
    )


def sent_broadcast(coach: Coach, subject: str, readers: list[Subscriber]) -> Broadcast:
    broadcast = Broadcast.objects.create(
        coach=coach,
        subject=subject,
        body_markdown=f"{subject}: hello.",
        status=Broadcast.Status.SENT,
        started_at=NOW,
        planned_at=NOW,
        finished_at=NOW,
        recipient_count=len(readers),
        sent_count=len(readers),
    )
    for reader in readers:
        BroadcastDelivery.objects.create(
            broadcast=broadcast, subscriber=reader, status=BroadcastDelivery.Status.SENT, sent_at=NOW
        )
    return broadcast


@pytest.fixture
def world(coach: Coach, offering: Offering, user: User, book, monkeypatch) -> World:
    offering.title = "Ada's intro call"
    offering.save()
    spare = OfferingFactory(coach=coach, slug="spare", title="Ada's spare call")
    approval = OfferingFactory(
        coach=coach, slug="approval-call", title="Ada's deep dive", requires_approval=True
    )
    user.name = "Cleo Client"
    user.save()
    feed_key_replace(owner=user)
    cleo = {"client": user, "client_name": "Cleo Client", "client_email": user.email}
    confirmed = book(SLOT, answers={"Goal": "Cleo's secret goal"}, **cleo)
    pending = book(SLOT + timedelta(hours=2), on=approval, **cleo)
    past = book(SLOT - timedelta(days=2), now=NOW - timedelta(days=3), **cleo)
    failed_email = failed_delivery(confirmed, "SMTP 550 for Ada")
    override = DateOverride.objects.create(
        coach=coach, date=SLOT.date() + timedelta(days=7), note="Ada's holiday"
    )
    calendar = BusyCalendar.objects.create(
        coach=coach, name="Ada's work calendar", url="https://ada-calendar.example.com/secret.ics"
    )
    feed_key_replace(owner=coach)
    coach.intro_markdown = "Ada's landing introduction"
    coach.save()
    reader = join(coach, "ada-reader@example.com")
    join(coach, "ada-waiting@example.com", Subscriber.Status.PENDING)
    join(coach, "ada-gone@example.com", Subscriber.Status.UNSUBSCRIBED)
    draft = Broadcast.objects.create(coach=coach, subject="Ada's draft broadcast", body_markdown="Draft.")
    sent = sent_broadcast(coach, "Ada's sent broadcast", [reader])

    hedy = CoachFactory(slug="hedy", display_name="Hedy Lamarr", user__email="hedy@example.com")
    WeeklyHoursFactory(coach=hedy, weekday=2)
    hedy_offering = OfferingFactory(coach=hedy, slug="hopping", title="Hedy's frequency hopping")
    hedy_booking = book(SLOT, on=hedy_offering, client_name="Hedy's client", client_email="hc@example.com")
    failed_delivery(hedy_booking, "SMTP 550 for Hedy")
    DateOverride.objects.create(coach=hedy, date=SLOT.date() + timedelta(days=8), note="Hedy's day off")
    BusyCalendar.objects.create(coach=hedy, name="Hedy's lab", url="https://hedy.example.com/lab.ics")
    feed_key_replace(owner=hedy)
    hedy_reader = join(hedy, "hedy-reader@example.com")
    Broadcast.objects.create(coach=hedy, subject="Hedy's draft broadcast", body_markdown="Hers.")
    sent_broadcast(hedy, "Hedy's sent broadcast", [hedy_reader])

    dave = UserFactory(email="dave@example.com", name="Dave Other")
    feed_key_replace(owner=dave)
    book(SLOT + timedelta(hours=4), client=dave, client_name="Dave Other", client_email=dave.email)

    world = World(
        coach=coach,
        offering=offering,
        spare_offering=spare,
        approval_offering=approval,
        confirmed=confirmed,
        pending=pending,
        past=past,
        override=override,
        calendar=calendar,
        failed_email=failed_email,
        client=user,
        other_coach=hedy,
        other_client=dave,
        staff=UserFactory(email="staff@example.com", is_staff=True),
        superuser=UserFactory(email="root@example.com", is_staff=True, is_superuser=True),
        reader=reader,
        draft=draft,
        sent=sent,
    )
    # Connecting and refreshing a calendar would reach out to the address: record it instead.
    monkeypatch.setattr("coaching.forms.check_address", lambda url: url)
    monkeypatch.setattr(
        "coaching.services.busy_calendar_refresh_soon", lambda calendar: world.refreshes.append(calendar.pk)
    )
    return world


def snapshot(world: World) -> dict[str, Any]:
    """Everything of Ada's and Cleo's that a request in this module could change."""
    coach = Coach.objects.get(pk=world.coach.pk)
    cleo = User.objects.filter(pk=world.client.pk).values("email", "name", "feed_key", "time_zone").first()
    return {
        "coach": (coach.display_name, coach.headline, coach.bio, coach.time_zone, coach.feed_key),
        "landing": (coach.intro_markdown, coach.photo.name, coach.community_enabled, coach.community_pitch),
        "subscribers": list(
            Subscriber.objects.filter(coach=coach)
            .order_by("pk")
            .values_list("pk", "email", "first_name", "status", "key", "confirmed_at", "unsubscribed_at")
        ),
        "broadcasts": list(
            Broadcast.objects.filter(coach=coach)
            .order_by("pk")
            .values_list("pk", "subject", "body_markdown", "status", "test_sent_at", "started_at")
        ),
        "deliveries": list(
            BroadcastDelivery.objects.filter(broadcast__coach=coach)
            .order_by("pk")
            .values_list("pk", "broadcast_id", "subscriber_id", "status")
        ),
        "offerings": list(
            Offering.objects.filter(coach=coach)
            .order_by("pk")
            .values_list("pk", "slug", "title", "is_active", "duration_minutes")
        ),
        "hours": list(
            WeeklyHours.objects.filter(coach=coach).order_by("pk").values_list("weekday", "start", "end")
        ),
        "overrides": list(
            DateOverride.objects.filter(coach=coach).order_by("pk").values_list("pk", "date", "note")
        ),
        "calendars": list(
            BusyCalendar.objects.filter(coach=coach).order_by("pk").values_list("pk", "name", "url")
        ),
        "refreshes": [pk for pk in world.refreshes if pk == world.calendar.pk],
        "bookings": list(
            Booking.objects.filter(coach=coach)
            .order_by("pk")
            .values_list("reference", "status", "start", "client_name", "client_email", "manage_key")
        ),
        "emails": list(
            EmailDelivery.objects.filter(booking__coach=coach).order_by("pk").values_list("pk", "status")
        ),
        "client": cleo,
    }


# ---------------------------------------------------------------------------
# The pages and actions
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    id: str
    method: str
    path: Callable[[World], str]
    data: Callable[[World], dict[str, Any]] = lambda world: {}
    # The address names one of the owner's rows: another coach gets 404 there.
    names_a_row: bool = False
    # A POST that only shows something (a preview): 200 for the owner, and nothing saved.
    changes: bool = True

    def request(self, client: Client, world: World):
        if self.method == "GET":
            return client.get(self.path(world))
        return client.post(self.path(world), self.data(world))


def get(id: str, path: Callable[[World], str], *, row: bool = False) -> Endpoint:
    return Endpoint(f"GET {id}", "GET", path, names_a_row=row)


def post(
    id: str,
    path: Callable[[World], str],
    data: Callable[[World], dict[str, Any]] | None = None,
    *,
    row: bool = False,
    changes: bool = True,
) -> Endpoint:
    return Endpoint(f"POST {id}", "POST", path, data or (lambda world: {}), names_a_row=row, changes=changes)


def at(path: str) -> Callable[[World], str]:
    return lambda world: path


def booking_url(booking: str, suffix: str = "") -> Callable[[World], str]:
    return lambda world: f"/dashboard/bookings/{getattr(world, booking).reference}/{suffix}"


def broadcast_url(broadcast: str, suffix: str = "") -> Callable[[World], str]:
    return lambda world: f"/dashboard/broadcasts/{getattr(world, broadcast).pk}/{suffix}"


def landing_data(action: str) -> Callable[[World], dict[str, Any]]:
    return lambda world: {
        "headline": "Taken over",
        "intro_markdown": "Planted **introduction**",
        "community_enabled": "on",
        "community_pitch": "Planted pitch",
        "action": action,
    }


def broadcast_data(action: str) -> Callable[[World], dict[str, Any]]:
    return lambda world: {"subject": "Planted subject", "body_markdown": "Planted **body**", "action": action}


NEW_START = iso_utc(SLOT + timedelta(days=1))

COACH_ENDPOINTS = [
    get("dashboard", at("/dashboard/")),
    get("profile", at("/dashboard/profile/")),
    post(
        "profile",
        at("/dashboard/profile/"),
        lambda w: {"display_name": "Taken over", "headline": "", "bio": "", "time_zone": "Europe/Berlin"},
    ),
    get("offerings", at("/dashboard/offerings/")),
    get("offering new", at("/dashboard/offerings/new/")),
    post("offering new", at("/dashboard/offerings/new/"), lambda w: offering_data()),
    get("offering edit", lambda w: f"/dashboard/offerings/{w.offering.pk}/", row=True),
    post(
        "offering edit",
        lambda w: f"/dashboard/offerings/{w.offering.pk}/",
        lambda w: offering_data(title="Renamed", slug="intro-call"),
        row=True,
    ),
    get("offering delete", lambda w: f"/dashboard/offerings/{w.spare_offering.pk}/delete/", row=True),
    post("offering delete", lambda w: f"/dashboard/offerings/{w.spare_offering.pk}/delete/", row=True),
    get("offering deactivate", lambda w: f"/dashboard/offerings/{w.offering.pk}/deactivate/", row=True),
    post("offering deactivate", lambda w: f"/dashboard/offerings/{w.offering.pk}/deactivate/", row=True),
    get("hours", at("/dashboard/hours/")),
    # Mon-Fri stay as the fixture has them: clearing them would leave Ada's bookings outside
    # her hours, and the page would warn before saving (tests/coaching/test_availability_clashes.py).
    post(
        "hours",
        at("/dashboard/hours/"),
        lambda w: week_data(
            **{f"day{d}-0": ("09:00", "17:00") for d in range(5)}, **{"day5-0": ("06:00", "07:00")}
        ),
    ),
    get("overrides", at("/dashboard/overrides/")),
    get("override new", at("/dashboard/overrides/new/")),
    post(
        "override new",
        at("/dashboard/overrides/new/"),
        lambda w: {"date": "2026-12-24", "unavailable": "on", "note": "Planted"},
    ),
    get("override delete", lambda w: f"/dashboard/overrides/{w.override.pk}/delete/", row=True),
    post("override delete", lambda w: f"/dashboard/overrides/{w.override.pk}/delete/", row=True),
    get("preview", at("/dashboard/preview/")),
    get("preview of an offering", lambda w: f"/dashboard/preview/?offering={w.offering.pk}"),
    get("bookings", at("/dashboard/bookings/?when=all")),
    get("bookings of an offering", lambda w: f"/dashboard/bookings/?when=all&offering={w.offering.pk}"),
    get("booking", booking_url("confirmed"), row=True),
    get("booking approve", booking_url("pending", "approve/"), row=True),
    post("booking approve", booking_url("pending", "approve/"), row=True),
    get("booking decline", booking_url("pending", "decline/"), row=True),
    post("booking decline", booking_url("pending", "decline/"), lambda w: {"reason": "No"}, row=True),
    get("booking cancel", booking_url("confirmed", "cancel/"), row=True),
    post("booking cancel", booking_url("confirmed", "cancel/"), lambda w: {"reason": "No"}, row=True),
    get("booking complete", booking_url("past", "complete/"), row=True),
    post("booking complete", booking_url("past", "complete/"), row=True),
    get("booking no-show", booking_url("past", "no-show/"), row=True),
    post("booking no-show", booking_url("past", "no-show/"), row=True),
    get("booking reschedule", booking_url("confirmed", "reschedule/"), row=True),
    get(
        "booking reschedule confirm",
        lambda w: f"/dashboard/bookings/{w.confirmed.reference}/reschedule/?start={NEW_START}",
        row=True,
    ),
    post(
        "booking reschedule",
        booking_url("confirmed", "reschedule/"),
        lambda w: {"start": NEW_START},
        row=True,
    ),
    get("calendars", at("/dashboard/calendars/")),
    post(
        "calendar add",
        at("/dashboard/calendars/"),
        lambda w: {"name": "Planted", "url": "https://planted.example.com/a.ics"},
    ),
    get("calendar remove", lambda w: f"/dashboard/calendars/{w.calendar.pk}/remove/", row=True),
    post("calendar remove", lambda w: f"/dashboard/calendars/{w.calendar.pk}/remove/", row=True),
    post("calendar refresh", lambda w: f"/dashboard/calendars/{w.calendar.pk}/refresh/", row=True),
    get("feed replace", at("/dashboard/calendars/feed/")),
    post("feed replace", at("/dashboard/calendars/feed/")),
    get("emails", at("/dashboard/emails/")),
    post("email retry", lambda w: f"/dashboard/emails/{w.failed_email.pk}/retry/", row=True),
    # The landing page, the email community and broadcasts.
    get("landing", at("/dashboard/landing/")),
    post("landing", at("/dashboard/landing/"), landing_data("save")),
    post("landing preview", at("/dashboard/landing/"), landing_data("preview"), changes=False),
    post(
        "markdown preview",
        at("/dashboard/preview-markdown/"),
        lambda w: {"text": "Planted **preview**"},
        changes=False,
    ),
    get("subscribers", at("/dashboard/subscribers/")),
    get("subscribers filtered", at("/dashboard/subscribers/?status=confirmed&q=reader")),
    get("subscribers export", at("/dashboard/subscribers/export.csv")),
    get("subscribers export filtered", at("/dashboard/subscribers/export.csv?status=pending")),
    get("broadcasts", at("/dashboard/broadcasts/")),
    get("broadcast new", at("/dashboard/broadcasts/new/")),
    post("broadcast new", at("/dashboard/broadcasts/new/"), broadcast_data("save")),
    post("broadcast new preview", at("/dashboard/broadcasts/new/"), broadcast_data("preview"), changes=False),
    get("broadcast draft", broadcast_url("draft"), row=True),
    get("broadcast sent", broadcast_url("sent"), row=True),
    get("broadcast progress", broadcast_url("sent", "progress.json"), row=True),
    get("broadcast edit", broadcast_url("draft", "edit/"), row=True),
    post("broadcast edit", broadcast_url("draft", "edit/"), broadcast_data("save"), row=True),
    post("broadcast test", broadcast_url("draft", "test/"), row=True),
    get("broadcast send", broadcast_url("draft", "send/"), row=True),
    post("broadcast send", broadcast_url("draft", "send/"), row=True),
    get("broadcast delete", broadcast_url("draft", "delete/"), row=True),
    post("broadcast delete", broadcast_url("draft", "delete/"), row=True),
]

CLIENT_ENDPOINTS = [
    get("my bookings", at("/my/bookings/")),
    get("my data", at("/my/data/")),
    get("my data export", at("/my/data/export/")),
    get("my data delete", at("/my/data/delete/")),
    post("my data delete", at("/my/data/delete/"), lambda w: {"confirm_email": w.client.email}),
    get("my calendar", at("/my/calendar/")),
    get("my calendar replace", at("/my/calendar/replace/")),
    post("my calendar replace", at("/my/calendar/replace/")),
]


def ids(endpoints: list[Endpoint]) -> list[str]:
    return [endpoint.id for endpoint in endpoints]


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def page_text(response) -> str:
    """The page (or the CSV export) as a reader sees it: ``Ada's``, not ``Ada&#x27;s``."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return html.unescape(body.decode(errors="replace"))


def assert_no_markers(text: str, markers: list[str], where: str) -> None:
    leaked = [marker for marker in markers if marker and marker in text]
    assert not leaked, f"{where} shows {leaked}"


# ---------------------------------------------------------------------------
# Anonymous visitors
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "endpoint", COACH_ENDPOINTS + CLIENT_ENDPOINTS, ids=ids(COACH_ENDPOINTS + CLIENT_ENDPOINTS)
)
def test_it_sends_anonymous_visitors_to_sign_in(client: Client, world: World, endpoint: Endpoint) -> None:
    """Signed out, every coach and client page redirects to the login page and changes nothing."""
    before = snapshot(world)
    response = endpoint.request(client, world)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(LOGIN)
    assert snapshot(world) == before


# ---------------------------------------------------------------------------
# Signed in without a coach profile: clients, staff, superusers
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["client", "staff", "superuser"])
@pytest.mark.parametrize("endpoint", COACH_ENDPOINTS, ids=ids(COACH_ENDPOINTS))
def test_it_refuses_coach_pages_to_people_without_a_coach_profile(
    client: Client, world: World, endpoint: Endpoint, role: str
) -> None:
    """A client, a staff member or a superuser gets the 403 page: staff get no special access."""
    before = snapshot(world)
    response = endpoint.request(signed_in(client, getattr(world, role)), world)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "You're not a coach here" in page_text(response)
    # Cleo may see her own name and email on the page, nothing else of her coach's.
    own = world.client_markers() if role == "client" else []
    assert_no_markers(page_text(response), [m for m in world.markers() if m not in own], endpoint.id)
    assert snapshot(world) == before


# ---------------------------------------------------------------------------
# Another coach
# ---------------------------------------------------------------------------
ROW_ENDPOINTS = [endpoint for endpoint in COACH_ENDPOINTS if endpoint.names_a_row]
OWN_ENDPOINTS = [endpoint for endpoint in COACH_ENDPOINTS if not endpoint.names_a_row]


@pytest.mark.parametrize("endpoint", ROW_ENDPOINTS, ids=ids(ROW_ENDPOINTS))
def test_it_answers_404_to_another_coach_for_the_coachs_rows(
    client: Client, world: World, endpoint: Endpoint
) -> None:
    """Hedy reaches none of Ada's offerings, overrides, bookings, calendars or emails by id."""
    before = snapshot(world)
    response = endpoint.request(signed_in(client, world.other_coach.user), world)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert_no_markers(page_text(response), world.markers(), endpoint.id)
    assert snapshot(world) == before


@pytest.mark.parametrize("endpoint", OWN_ENDPOINTS, ids=ids(OWN_ENDPOINTS))
def test_it_shows_another_coach_only_their_own_rows(client: Client, world: World, endpoint: Endpoint) -> None:
    """Hedy's own pages work, list only her rows, and her changes never reach Ada's."""
    before = snapshot(world)
    response = endpoint.request(signed_in(client, world.other_coach.user), world)
    if endpoint.method == "GET":
        assert response.status_code == HTTPStatus.OK
    else:
        assert response.status_code in (HTTPStatus.OK, HTTPStatus.FOUND)
        response = client.get(response["Location"]) if response.status_code == HTTPStatus.FOUND else response
    assert_no_markers(page_text(response), world.markers(), endpoint.id)
    assert snapshot(world) == before


def test_it_lists_the_other_coachs_own_rows(client: Client, world: World) -> None:
    """The pages above are not empty: Hedy sees her own rows where Ada's are missing."""
    signed_in(client, world.other_coach.user)
    for path, text in [
        ("/dashboard/offerings/", "Hedy's frequency hopping"),
        ("/dashboard/overrides/", "Hedy's day off"),
        ("/dashboard/calendars/", "Hedy's lab"),
        ("/dashboard/bookings/?when=all", "Hedy's client"),
        ("/dashboard/emails/", "SMTP 550 for Hedy"),
        ("/dashboard/subscribers/", "hedy-reader@example.com"),
        ("/dashboard/subscribers/export.csv", "hedy-reader@example.com"),
        ("/dashboard/broadcasts/", "Hedy's draft broadcast"),
        ("/dashboard/broadcasts/", "Hedy's sent broadcast"),
    ]:
        assert text in page_text(client.get(path)), path


# ---------------------------------------------------------------------------
# The owner
# ---------------------------------------------------------------------------
COACH_GETS = [endpoint for endpoint in COACH_ENDPOINTS if endpoint.method == "GET"]
COACH_POSTS = [endpoint for endpoint in COACH_ENDPOINTS if endpoint.method == "POST" and endpoint.changes]
COACH_PREVIEWS = [
    endpoint for endpoint in COACH_ENDPOINTS if endpoint.method == "POST" and not endpoint.changes
]


@pytest.mark.parametrize("endpoint", COACH_GETS, ids=ids(COACH_GETS))
def test_it_opens_every_coach_page_for_the_owner(client: Client, world: World, endpoint: Endpoint) -> None:
    response = endpoint.request(signed_in(client, world.coach.user), world)
    assert response.status_code == HTTPStatus.OK


def test_it_shows_the_owner_the_rows_the_others_do_not_see(client: Client, world: World) -> None:
    """The markers are real: Ada's own pages show them."""
    signed_in(client, world.coach.user)
    pages = "".join(
        page_text(client.get(path))
        for path in (
            "/dashboard/offerings/",
            "/dashboard/overrides/",
            "/dashboard/calendars/",
            "/dashboard/bookings/?when=all",
            "/dashboard/emails/",
            f"/dashboard/bookings/{world.confirmed.reference}/",
            "/dashboard/landing/",
            "/dashboard/subscribers/",
            "/dashboard/subscribers/export.csv",
            "/dashboard/broadcasts/",
        )
    )
    missing = [marker for marker in world.markers() if marker not in pages]
    # Cleo's manage link and feed key are hers, not her coach's; her email is on the detail page.
    assert missing == [client_feed_url(world.client), manage_token(world.confirmed)]


@pytest.mark.parametrize("endpoint", COACH_POSTS, ids=ids(COACH_POSTS))
def test_it_carries_out_the_owners_actions(client: Client, world: World, endpoint: Endpoint) -> None:
    """The same requests the others made do change things when the owner makes them."""
    before = snapshot(world)
    response = endpoint.request(signed_in(client, world.coach.user), world)
    assert response.status_code == HTTPStatus.FOUND, page_text(response)[:2000]
    assert snapshot(world) != before


@pytest.mark.parametrize("endpoint", COACH_PREVIEWS, ids=ids(COACH_PREVIEWS))
def test_it_previews_for_the_owner_without_saving(client: Client, world: World, endpoint: Endpoint) -> None:
    """A preview is a real answer (the rendered text) for the owner, and saves nothing for anyone."""
    before = snapshot(world)
    response = endpoint.request(signed_in(client, world.coach.user), world)
    assert response.status_code == HTTPStatus.OK
    assert "<strong>" in page_text(response)
    assert snapshot(world) == before


# ---------------------------------------------------------------------------
# Client pages: each person sees only their own
# ---------------------------------------------------------------------------
CLIENT_GETS = [endpoint for endpoint in CLIENT_ENDPOINTS if endpoint.method == "GET"]
CLIENT_POSTS = [endpoint for endpoint in CLIENT_ENDPOINTS if endpoint.method == "POST"]


@pytest.mark.parametrize("role", ["other_client", "coach_user", "staff", "superuser"])
@pytest.mark.parametrize("endpoint", CLIENT_GETS, ids=ids(CLIENT_GETS))
def test_it_shows_another_signed_in_person_only_their_own_client_data(
    client: Client, world: World, endpoint: Endpoint, role: str
) -> None:
    """Another client, Cleo's coach, staff and superusers see their own data, never Cleo's.

    Her coach's own export holds their client records (practice: name, address, the coach's
    notes), as their dashboard does; nothing else of Cleo's is in it.
    """
    person = world.coach.user if role == "coach_user" else getattr(world, role)
    response = endpoint.request(signed_in(client, person), world)
    if response.status_code == HTTPStatus.FOUND:  # "replace my feed link" without one yet
        response = client.get(response["Location"])
    assert response.status_code == HTTPStatus.OK
    markers = world.client_markers()
    if role == "coach_user" and endpoint.id == "GET my data export":
        markers = [m for m in markers if m not in ("Cleo Client", world.client.email)]
    assert_no_markers(page_text(response), markers, endpoint.id)


@pytest.mark.parametrize("role", ["other_client", "coach_user", "staff", "superuser"])
@pytest.mark.parametrize("endpoint", CLIENT_POSTS, ids=ids(CLIENT_POSTS))
def test_it_never_changes_a_clients_data_for_someone_else(
    client: Client, world: World, endpoint: Endpoint, role: str
) -> None:
    """Typing Cleo's address into someone else's delete form, or replacing a feed link, leaves Cleo alone."""
    person = world.coach.user if role == "coach_user" else getattr(world, role)
    before = snapshot(world)
    response = endpoint.request(signed_in(client, person), world)
    assert response.status_code in (HTTPStatus.FOUND, HTTPStatus.BAD_REQUEST)
    # The form shows back what was typed into it (Cleo's address), and nothing else of hers.
    typed = set(endpoint.data(world).values())
    assert_no_markers(page_text(response), [m for m in world.client_markers() if m not in typed], endpoint.id)
    assert snapshot(world) == before


def test_it_shows_dave_his_own_bookings_and_data(client: Client, world: World) -> None:
    """The client pages above are not empty for the other client: they show his own booking."""
    signed_in(client, world.other_client)
    assert "Dave Other" in page_text(client.get("/my/data/export/"))
    assert "Ada's intro call" in page_text(client.get("/my/bookings/"))
    assert client_feed_url(world.other_client) in page_text(client.get("/my/calendar/"))


@pytest.mark.parametrize("endpoint", CLIENT_GETS, ids=ids(CLIENT_GETS))
def test_it_opens_every_client_page_for_the_owner(client: Client, world: World, endpoint: Endpoint) -> None:
    response = endpoint.request(signed_in(client, world.client), world)
    assert response.status_code == HTTPStatus.OK


def test_it_shows_the_client_her_own_data(client: Client, world: World) -> None:
    """The client markers are real: Cleo's own pages show every one of them."""
    signed_in(client, world.client)
    pages = "".join(
        page_text(client.get(path)) for path in ("/my/bookings/", "/my/data/export/", "/my/calendar/")
    )
    assert [marker for marker in world.client_markers() if marker not in pages] == []


@pytest.mark.parametrize("endpoint", CLIENT_POSTS, ids=ids(CLIENT_POSTS))
def test_it_carries_out_the_clients_own_actions(client: Client, world: World, endpoint: Endpoint) -> None:
    before = snapshot(world)
    response = endpoint.request(signed_in(client, world.client), world)
    assert response.status_code == HTTPStatus.FOUND
    assert snapshot(world) != before
