"""The coach's setup through the API: offerings, weekly hours, date overrides and clients."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, time, timedelta
from http import HTTPStatus
from typing import Any

import pytest
from django.core import signals
from django.db import close_old_connections
from django.test import Client

from accounts.models import User
from booking.models import Booking
from coaching.models import ApiToken, Coach, DateOverride, Offering, WeeklyHours
from coaching.services import api_token_create, api_token_revoke
from practice import services as practice_services
from practice.models import Package
from tests.api.conftest import auth
from tests.factories import BookingFactory, CoachFactory, DateOverrideFactory, OfferingFactory
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW)]

ME = "/api/v1/me"


class Api:
    """A test client that sends one coach's token."""

    def __init__(self, client: Client, token: str) -> None:
        self.client = client
        self.headers = auth(token)

    def get(self, path: str, params: dict[str, Any] | None = None):
        return self.client.get(ME + path, params or {}, headers=self.headers)

    def send(self, method: str, path: str, body: object = None):
        call = getattr(self.client, method)
        data = json.dumps(body) if body is not None else ""
        return call(ME + path, data=data, content_type="application/json", headers=self.headers)


@pytest.fixture
def api(client: Client, write_key: str) -> Api:
    return Api(client, write_key)


@pytest.fixture
def read_api(client: Client, read_key: str) -> Api:
    return Api(client, read_key)


@pytest.fixture
def offering(coach: Coach) -> Offering:
    """A room call: valid as the offering form sees it (the factory's video call has no link)."""
    return OfferingFactory(
        coach=coach, slug="intro-call", title="Intro call", location_kind=Offering.LocationKind.ROOM
    )


@pytest.fixture
def other_coach() -> Coach:
    return CoachFactory(slug="bob", user__email="bob@example.com")


def field_of(response) -> str:
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.content
    loc = response.json()["detail"][0]["loc"]
    assert loc[0] == "body"
    return loc[-1]


# ---------------------------------------------------------------------------
# Auth
# ---------------------------------------------------------------------------
READS = ["/offerings", "/weekly-hours", "/date-overrides", "/clients"]
WRITES = [
    ("post", "/offerings", {"title": "Deep dive"}),
    ("patch", "/offerings/intro-call", {"title": "Hello"}),
    ("put", "/weekly-hours", {"days": {}}),
    ("post", "/date-overrides", {"date": "2026-12-24", "unavailable": True}),
    ("delete", "/date-overrides/1", None),
]


@pytest.mark.parametrize("path", READS)
def test_it_refuses_a_missing_garbage_or_revoked_token(
    client: Client, coach: Coach, write_key: str, path: str
) -> None:
    token, plaintext = api_token_create(coach=coach, name="old", scope=ApiToken.Scope.WRITE)
    api_token_revoke(token=token)
    assert client.get(ME + path).status_code == HTTPStatus.UNAUTHORIZED
    assert Api(client, "cc_garbage").get(path).status_code == HTTPStatus.UNAUTHORIZED
    assert Api(client, plaintext).get(path).status_code == HTTPStatus.UNAUTHORIZED
    assert Api(client, write_key).get(path).status_code == HTTPStatus.OK


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_read_token_may_not_write(
    read_api: Api, offering: Offering, method: str, path: str, body: object
) -> None:
    DateOverrideFactory(coach=offering.coach, date=date(2026, 12, 30))
    before = (
        list(Offering.objects.values_list("title", flat=True)),
        WeeklyHours.objects.count(),
        DateOverride.objects.count(),
    )
    response = read_api.send(method, path, body)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "only read" in response.json()["detail"]
    after = (
        list(Offering.objects.values_list("title", flat=True)),
        WeeklyHours.objects.count(),
        DateOverride.objects.count(),
    )
    assert after == before


@pytest.mark.parametrize(("method", "path", "body"), WRITES[:2])
def test_writes_without_a_token_are_401(
    client: Client, offering: Offering, method: str, path: str, body: object
) -> None:
    response = getattr(client, method)(ME + path, data=json.dumps(body), content_type="application/json")
    assert response.status_code == HTTPStatus.UNAUTHORIZED


# ---------------------------------------------------------------------------
# Offerings
# ---------------------------------------------------------------------------
def test_it_lists_every_offering_with_every_setting(api: Api, offering: Offering, other_coach: Coach) -> None:
    OfferingFactory(coach=other_coach, slug="theirs")
    Offering.objects.filter(pk=offering.pk).update(
        price_amount="80",
        price_currency="EUR",
        cancel_notice_minutes=90,
        reminder_offsets={"client": [30], "coach": []},
    )
    response = api.get("/offerings")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["next_offset"] is None
    [item] = body["items"]
    assert item["slug"] == "intro-call"
    assert item["price_amount"] == "80.00"
    assert item["cancel_notice_minutes"] == 90
    assert item["reminder_offsets"] == {"client": [30], "coach": []}
    for name in (
        "buffer_before_minutes",
        "min_notice_minutes",
        "intake_questions",
        "is_listed",
        "daily_cap",
        "color",
    ):
        assert name in item


def test_it_creates_an_offering_with_the_forms_defaults(api: Api, coach: Coach) -> None:
    response = api.send(
        "post",
        "/offerings",
        {
            "title": "Deep dive",
            "duration_minutes": 60,
            "min_notice_minutes": 10,
            "intake_questions": [{"label": "Goals?", "type": "long_text", "required": True}],
            "reminder_offsets": {"client": [1440, 30], "coach": []},
        },
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    body = response.json()
    assert body["slug"] == "deep-dive"  # made from the title, as the form does
    assert body["location_kind"] == "room"
    offering = Offering.objects.get(coach=coach, slug="deep-dive")
    assert offering.duration_minutes == 60
    assert offering.min_notice_minutes == 10  # minutes survive the form's hours
    assert offering.intake_questions == [{"label": "Goals?", "type": "long_text", "required": True}]
    assert offering.reminder_offsets == {"client": [1440, 30], "coach": []}


def test_patch_changes_only_what_it_names(api: Api, offering: Offering) -> None:
    Offering.objects.filter(pk=offering.pk).update(
        intake_questions=[{"label": "Why?", "type": "text", "required": False}],
        reminder_offsets={"client": [120], "coach": [15]},
        requires_approval=True,
        min_notice_minutes=45,
    )
    before = api.get("/offerings").json()["items"][0]
    response = api.send(
        "patch", "/offerings/intro-call", {"cancel_notice_minutes": 725, "reminder_offsets": {"coach": [5]}}
    )
    assert response.status_code == HTTPStatus.OK, response.content
    after = response.json()
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {"cancel_notice_minutes", "reminder_offsets"}
    assert after["cancel_notice_minutes"] == 725
    assert after["reminder_offsets"] == {"client": [120], "coach": [5]}
    offering.refresh_from_db()
    assert offering.cancel_notice_minutes == 725
    assert offering.min_notice_minutes == 45
    assert offering.requires_approval is True
    assert offering.intake_questions == [{"label": "Why?", "type": "text", "required": False}]


def test_patch_can_turn_a_setting_off_and_rename_the_slug(api: Api, offering: Offering) -> None:
    response = api.send("patch", "/offerings/intro-call", {"is_listed": False, "slug": "first-call"})
    assert response.status_code == HTTPStatus.OK, response.content
    offering.refresh_from_db()
    assert (offering.slug, offering.is_listed, offering.is_active) == ("first-call", False, True)


def test_another_coachs_or_an_unknown_offering_is_404(api: Api, other_coach: Coach) -> None:
    OfferingFactory(coach=other_coach, slug="theirs", title="Theirs")
    assert api.send("patch", "/offerings/theirs", {"title": "Mine"}).status_code == HTTPStatus.NOT_FOUND
    assert api.send("patch", "/offerings/nothing", {"title": "Mine"}).status_code == HTTPStatus.NOT_FOUND
    assert Offering.objects.get(slug="theirs").title == "Theirs"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"duration_minutes": 3}, "duration_minutes", "at least 5 minutes"),
        ({"slug": "my call"}, "slug", "slug"),
        ({"location_kind": "video", "location_details": ""}, "location_details", "no default link"),
        ({"location_kind": "video", "location_details": "not a link"}, "location_details", "https://"),
        ({"location_kind": "in_person"}, "location_details", "address"),
        ({"location_kind": "zoom"}, "location_kind", "valid choice"),
        ({"min_notice_minutes": -60}, "min_notice_minutes", "negative"),
        # More digits than Decimal keeps (schemathesis found it: a 500).
        ({"cancel_notice_minutes": 10**40}, "cancel_notice_minutes", "at most 1440 hours"),
        ({"price_amount": "12", "price_currency": ""}, "price_currency", "currency"),
        ({"color": "red"}, "color", "colour"),
        ({"duration_minutes": 600}, "duration_minutes", "longer than any of your available windows"),
        ({"reminder_offsets": {"client": [0]}}, "reminder_offsets.client", "between 1 minute"),
        (
            {"intake_questions": [{"label": "Why?"}, {"label": "why?"}]},
            "intake_questions.1.label",
            "asked twice",
        ),
        (
            {"intake_questions": [{"label": "Why?", "type": "essay"}]},
            "intake_questions.0.type",
            "valid choice",
        ),
        ({"title": ""}, "title", "required"),
        ({"daily_cap": 0}, "daily_cap", "at least 1"),
        # JSON true is not a number: pydantic alone would read it as 1.
        ({"duration_minutes": True}, "duration_minutes", "integer"),
        ({"requires_approval": 1}, "requires_approval", "boolean"),
        ({"reminder_offsets": {"client": [True]}}, "reminder_offsets.client.0", "integer"),
    ],
)
def test_a_bad_value_is_a_422_naming_the_field(
    api: Api, offering: Offering, change: dict[str, Any], field: str, words: str
) -> None:
    response = api.send("patch", "/offerings/intro-call", change)
    field_of(response)
    # Pydantic's errors carry the path as parts ("reminder_offsets", "client", 0); the
    # service's carry it dotted: either way the dotted whole ends with the field.
    path = ".".join(str(part) for part in response.json()["detail"][0]["loc"])
    assert path == field or path.endswith(f".{field}"), path
    assert words.lower() in response.json()["detail"][0]["msg"].lower()
    assert Offering.objects.get(pk=offering.pk).duration_minutes == 30


def test_a_video_offering_uses_the_coachs_default_link(api: Api, coach: Coach, offering: Offering) -> None:
    Coach.objects.filter(pk=coach.pk).update(default_meeting_url="https://meet.example.com/ada")
    response = api.send("patch", "/offerings/intro-call", {"location_kind": "video"})
    assert response.status_code == HTTPStatus.OK, response.content


def test_a_duplicate_slug_is_a_422_naming_the_slug(api: Api, offering: Offering) -> None:
    response = api.send("post", "/offerings", {"title": "Intro call"})
    assert field_of(response) == "slug"
    assert "already have an offering" in response.json()["detail"][0]["msg"]
    assert Offering.objects.count() == 1


def test_unknown_fields_are_refused(api: Api, offering: Offering) -> None:
    response = api.send("patch", "/offerings/intro-call", {"duration": 45})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"][-1] == "duration"
    response = api.send("patch", "/offerings/intro-call", {"reminder_offsets": {"clients": [5]}})
    assert response.json()["detail"][0]["loc"][-1] == "clients"


# ---------------------------------------------------------------------------
# Weekly hours
# ---------------------------------------------------------------------------
def test_it_shows_the_week(api: Api, coach: Coach) -> None:
    body = api.get("/weekly-hours").json()
    assert body["time_zone"] == "America/New_York"
    assert body["days"]["monday"] == [{"start": "09:00", "end": "17:00"}]
    assert body["days"]["sunday"] == []
    assert list(body["days"]) == [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]


def test_it_replaces_the_whole_week(api: Api, coach: Coach) -> None:
    week = {
        "monday": [{"start": "13:00", "end": "17:00"}, {"start": "08:00", "end": "12:00"}],
        "saturday": [],
    }
    response = api.send("put", "/weekly-hours", {"days": week})
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["days"]["monday"] == [
        {"start": "08:00", "end": "12:00"},
        {"start": "13:00", "end": "17:00"},
    ]
    assert set(WeeklyHours.objects.filter(coach=coach).values_list("weekday", "start")) == {
        (0, time(8)),
        (0, time(13)),
    }


@pytest.mark.parametrize(
    ("windows", "field", "words"),
    [
        ([{"start": "12:00", "end": "09:00"}], "days.tuesday.0.end", "ends before it starts"),
        (
            [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}],
            "days.tuesday.1.start",
            "overlaps",
        ),
        ([{"start": "9am", "end": "12:00"}], "days.tuesday.0.start", "valid time"),
        ([{"start": "", "end": "12:00"}], "days.tuesday.0.start", "add a start time"),
    ],
)
def test_bad_hours_are_a_422_naming_the_window(
    api: Api, coach: Coach, windows: list[dict[str, str]], field: str, words: str
) -> None:
    response = api.send("put", "/weekly-hours", {"days": {"tuesday": windows}})
    assert field_of(response) == field
    assert words in response.json()["detail"][0]["msg"].lower()
    assert WeeklyHours.objects.filter(coach=coach).count() == 5


def test_an_unknown_day_is_refused(api: Api, coach: Coach) -> None:
    response = api.send("put", "/weekly-hours", {"days": {"funday": []}})
    assert response.json()["detail"][0]["loc"][-1] == "funday"


def test_hours_that_leave_a_booked_call_outside_need_confirming(api: Api, coach: Coach, book) -> None:
    booking = book(SLOT)  # Wednesday 10:00 New York
    week = {"wednesday": [{"start": "13:00", "end": "17:00"}]}
    response = api.send("put", "/weekly-hours", {"days": week})
    assert response.status_code == HTTPStatus.CONFLICT
    body = response.json()
    assert body["total"] == 1
    assert body["clashes"][0]["reference"] == booking.reference
    assert body["clashes"][0]["start"] == "2026-12-02T10:00:00-05:00"
    assert WeeklyHours.objects.filter(coach=coach).count() == 5  # nothing saved

    response = api.send("put", "/weekly-hours", {"days": week, "confirm_clashes": True})
    assert response.status_code == HTTPStatus.OK
    assert WeeklyHours.objects.filter(coach=coach).count() == 1
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED  # kept


# ---------------------------------------------------------------------------
# Date overrides
# ---------------------------------------------------------------------------
def test_it_creates_lists_and_deletes_overrides(api: Api, coach: Coach) -> None:
    response = api.send(
        "post", "/date-overrides", {"date": "2026-12-24", "unavailable": True, "note": "Holiday"}
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    closed = response.json()
    assert closed | {"id": 0} == {
        "id": 0,
        "date": "2026-12-24",
        "unavailable": True,
        "windows": [],
        "note": "Holiday",
    }
    response = api.send(
        "post",
        "/date-overrides",
        {
            "date": "2026-12-26",
            "windows": [{"start": "14:00", "end": "16:00"}, {"start": "10:00", "end": "12:00"}],
        },
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    assert response.json()["windows"] == [
        {"start": "10:00", "end": "12:00"},
        {"start": "14:00", "end": "16:00"},
    ]
    DateOverrideFactory(coach=coach, date=date(2026, 11, 20))  # past: not listed by default

    items = api.get("/date-overrides").json()["items"]
    assert [i["date"] for i in items] == ["2026-12-24", "2026-12-26"]
    assert [
        i["date"]
        for i in api.get("/date-overrides", {"from": "2026-11-01", "to": "2026-12-25"}).json()["items"]
    ] == [
        "2026-11-20",
        "2026-12-24",
    ]
    page = api.get("/date-overrides", {"limit": 1}).json()
    assert ([i["date"] for i in page["items"]], page["next_offset"]) == (["2026-12-24"], 1)

    assert api.send("delete", f"/date-overrides/{items[1]['id']}").status_code == HTTPStatus.NO_CONTENT
    assert not DateOverride.objects.filter(coach=coach, date=date(2026, 12, 26)).exists()


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"date": "2026-11-30", "unavailable": True}, "date", "has passed"),
        ({"date": "24/12/2026", "unavailable": True}, "date", "like 2026-12-24"),
        ({"date": "2026-12-24"}, "unavailable", "at least one window"),
        (
            {"date": "2026-12-24", "unavailable": True, "windows": [{"start": "10:00", "end": "11:00"}]},
            "unavailable",
            "not both",
        ),
        (
            {"date": "2026-12-24", "windows": [{"start": "11:00", "end": "10:00"}]},
            "windows.0.end",
            "ends before",
        ),
    ],
)
def test_a_bad_override_is_a_422_naming_the_field(
    api: Api, coach: Coach, body: dict[str, Any], field: str, words: str
) -> None:
    response = api.send("post", "/date-overrides", body)
    assert field_of(response) == field
    assert words in response.json()["detail"][0]["msg"]
    assert not DateOverride.objects.exists()


def test_a_second_override_on_a_date_is_refused(api: Api, coach: Coach) -> None:
    DateOverrideFactory(coach=coach, date=date(2026, 12, 24))
    response = api.send("post", "/date-overrides", {"date": "2026-12-24", "unavailable": True})
    assert field_of(response) == "date"


def test_another_coachs_override_is_404(api: Api, other_coach: Coach) -> None:
    theirs = DateOverrideFactory(coach=other_coach, date=date(2026, 12, 24))
    assert api.send("delete", f"/date-overrides/{theirs.pk}").status_code == HTTPStatus.NOT_FOUND
    assert api.send("delete", "/date-overrides/999999").status_code == HTTPStatus.NOT_FOUND
    assert DateOverride.objects.filter(pk=theirs.pk).exists()
    assert all(i["id"] != theirs.pk for i in api.get("/date-overrides").json()["items"])


def test_closing_a_booked_date_needs_confirming(api: Api, coach: Coach, book) -> None:
    booking = book(SLOT)
    body = {"date": "2026-12-02", "unavailable": True}
    response = api.send("post", "/date-overrides", body)
    assert response.status_code == HTTPStatus.CONFLICT
    assert [c["reference"] for c in response.json()["clashes"]] == [booking.reference]
    assert not DateOverride.objects.exists()
    assert (
        api.send("post", "/date-overrides", body | {"confirm_clashes": True}).status_code
        == HTTPStatus.CREATED
    )
    assert DateOverride.objects.filter(coach=coach, date=date(2026, 12, 2)).exists()


def test_removing_an_override_that_held_a_booked_call_needs_confirming(api: Api, coach: Coach, book) -> None:
    """A Saturday opened by an override, with a call on it: removing it closes the day again."""
    saturday = date(2026, 12, 5)
    override = DateOverrideFactory(coach=coach, date=saturday, start=time(10), end=time(12))
    booking = book(SLOT + timedelta(days=3))  # Saturday 10:00 New York
    response = api.send("delete", f"/date-overrides/{override.pk}")
    assert response.status_code == HTTPStatus.CONFLICT
    assert [c["reference"] for c in response.json()["clashes"]] == [booking.reference]
    assert DateOverride.objects.filter(pk=override.pk).exists()
    response = api.send("delete", f"/date-overrides/{override.pk}?confirm_clashes=true")
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert not DateOverride.objects.filter(pk=override.pk).exists()


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------
def _booked(offering: Offering, email: str, name: str = "Grace Hopper", **fields: Any) -> Booking:
    """A booking with its client record, as booking_create makes them (the factory makes none)."""
    record = practice_services.client_record(coach_id=offering.coach_id, email=email, name=name)
    return BookingFactory(
        offering=offering, client_email=email, client_name=name, client_record=record, **fields
    )


def _package(offering: Offering) -> Package:
    return Package.objects.filter(coach=offering.coach).first() or practice_services.package_save(
        coach=offering.coach, name="Three calls", sessions=3, offerings=[offering], validity_days=30
    )


def test_it_lists_clients_one_per_address(
    api: Api, offering: Offering, other_coach: Coach, user: User
) -> None:
    """The coach's client records (issue 15): who booked or holds a pass, one per address, with
    the sessions counted, whether they have an account, and their passes."""
    past, future = NOW - timedelta(days=10), NOW + timedelta(days=3)
    # The first name a client books under stays their record's name.
    _booked(offering, "Grace@Example.com", "Grace Hopper", start=past)
    _booked(offering, "grace@example.com", "G. Hopper", start=future)
    _booked(offering, "grace@example.com", start=future + timedelta(days=1), status=Booking.Status.CANCELLED)
    alan = _booked(offering, "alan@example.com", "Alan", start=past - timedelta(days=1))
    practice_services.client_record(
        coach_id=offering.coach_id, email="alan@example.com", name="Alan", user_id=user.pk
    )
    _booked(OfferingFactory(coach=other_coach), "zed@example.com")
    granted = practice_services.pass_grant(
        package=_package(offering), client_email="grace@example.com", client_name="Grace", now=NOW
    )
    # Someone who holds a pass and has not booked yet is a client too.
    practice_services.pass_grant(
        package=_package(offering), client_email="hedy@example.com", client_name="Hedy Lamarr", now=NOW
    )
    body = api.get("/clients").json()
    assert body["next_offset"] is None
    assert [{key: item[key] for key in item if key not in ("id", "passes")} for item in body["items"]] == [
        {
            "name": "Alan",
            "email": "alan@example.com",
            "account": True,
            "bookings": 1,
            "upcoming": 0,
            "past": 1,
            "last_call": "2026-11-20T07:00:00-05:00",
            "next_call": None,
        },
        {
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "account": False,
            "bookings": 3,
            "upcoming": 1,
            "past": 1,
            "last_call": "2026-11-21T07:00:00-05:00",
            "next_call": "2026-12-04T07:00:00-05:00",
        },
        {
            "name": "Hedy Lamarr",
            "email": "hedy@example.com",
            "account": False,
            "bookings": 0,
            "upcoming": 0,
            "past": 0,
            "last_call": None,
            "next_call": None,
        },
    ]
    alan_item, grace_item, _ = body["items"]
    assert alan_item["id"] == alan.client_record_id
    assert alan_item["passes"] == []
    assert grace_item["passes"] == [
        {
            "id": granted.reference,
            "name": "Three calls",
            "sessions": 3,
            "remaining": 3,
            "status": "active",
            "expires_at": "2026-12-31T07:00:00-05:00",
        }
    ]
    page = api.get("/clients", {"limit": 1, "offset": 1}).json()
    assert ([c["email"] for c in page["items"]], page["next_offset"]) == (["grace@example.com"], 2)
    assert api.get("/clients", {"limit": 1}).json()["next_offset"] == 1


# ---------------------------------------------------------------------------
# Query counts
# ---------------------------------------------------------------------------
def _fill(coach: Coach, offering: Offering, first: int, last: int) -> None:
    """Rows ``first`` to ``last - 1`` of each list: offerings, override dates (one with two
    windows each), and bookings of distinct clients."""
    for n in range(first, last):
        OfferingFactory(coach=coach, slug=f"o-{n}", duration_minutes=15)
        day = date(2026, 12, 10) + timedelta(days=n)
        DateOverrideFactory(coach=coach, date=day, start=time(9), end=time(10))
        DateOverrideFactory(coach=coach, date=day, start=time(11), end=time(12))
        _booked(offering, f"c{n}@example.com", start=NOW + timedelta(hours=n))
        # Each client holds a pass too: the clients list reads them along (one query a page).
        practice_services.pass_grant(
            package=_package(offering), client_email=f"c{n}@example.com", client_name="C", now=NOW
        )


@pytest.mark.parametrize("path", READS)
def test_the_lists_take_a_fixed_number_of_queries(
    api: Api, offering: Offering, path: str, django_assert_max_num_queries
) -> None:
    _fill(offering.coach, offering, 0, 3)
    with django_assert_max_num_queries(6) as few:
        assert api.get(path).status_code == HTTPStatus.OK
    _fill(offering.coach, offering, 3, 40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api.get(path)
    assert response.status_code == HTTPStatus.OK
    if path != "/weekly-hours":
        assert len(response.json()["items"]) == 40 + (path == "/offerings")


# ---------------------------------------------------------------------------
# Fuzzing with a token: test_schemathesis.py runs without one, so it only sees 401s here
# ---------------------------------------------------------------------------
SETUP_OPERATIONS = [
    ("/api/v1/me/offerings", "GET"),
    ("/api/v1/me/offerings", "POST"),
    ("/api/v1/me/offerings/{slug}", "PATCH"),
    ("/api/v1/me/weekly-hours", "GET"),
    ("/api/v1/me/weekly-hours", "PUT"),
    ("/api/v1/me/date-overrides", "GET"),
    ("/api/v1/me/date-overrides", "POST"),
    ("/api/v1/me/date-overrides/{override_id}", "DELETE"),
    ("/api/v1/me/clients", "GET"),
]


@pytest.fixture
def wsgi_requests(settings) -> Iterator[None]:
    """Requests through the real WSGI handler keep the test's database connection open."""
    settings.RATE_LIMITS_ENABLED = False
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("wsgi_requests")
@pytest.mark.parametrize(("path", "method"), SETUP_OPERATIONS)
def test_no_request_with_a_token_breaks_the_contract(
    coach: Coach, offering: Offering, write_key: str, path: str, method: str
) -> None:
    """Generated bodies and parameters, valid and not, with a write token: a documented status
    and a body that matches the schema, never a 5xx; data the schema forbids is refused
    (schemathesis's own negative_data_rejection check)."""
    import hypothesis
    import schemathesis
    from hypothesis import HealthCheck
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

    from config.wsgi import application

    DateOverrideFactory(coach=coach, date=date(2026, 12, 24))
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)[path][method]

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis.settings(
            max_examples=25,
            deadline=None,
            phases=[hypothesis.Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            case.headers = {**(case.headers or {}), **auth(write_key)}
            response = case.call()
            assert response.status_code < 500, case.as_curl_command()
            # ignored_auth takes the token we add for generated (invalid) auth.
            case.validate_response(response, excluded_checks=[positive_data_acceptance, ignored_auth])

        run()


@pytest.mark.parametrize("value", ["0", "1700000000", "24/12/2026", "2026-13-01"])
def test_override_dates_in_the_query_are_dates_only(api: Api, coach: Coach, value: str) -> None:
    response = api.get("/date-overrides", {"to": value})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"][-1] == "to"
