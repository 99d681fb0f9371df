"""The coach API's bookings (/api/v1/me/bookings): list, one, and the coach's actions."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client

from booking.models import Booking
from coaching.models import Coach, Offering
from coaching.services import api_token_create, api_token_revoke
from tests.api.conftest import get, post
from tests.factories import BookingFactory, CoachFactory, OfferingFactory
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW)]

URL = "/api/v1/me/bookings"
ACTIONS = ["approve", "decline", "cancel", "reschedule", "no-show", "complete"]


def make(offering: Offering, n: int, **fields: object) -> list[Booking]:
    """``n`` bookings of ``offering``, an hour apart, from a week before NOW."""
    first = NOW - timedelta(days=7)
    return [BookingFactory(offering=offering, start=first + timedelta(hours=i), **fields) for i in range(n)]


# --- reading --------------------------------------------------------------------------------
def test_it_lists_the_coachs_bookings_in_start_order(
    client: Client, offering: Offering, read_key: str
) -> None:
    late = BookingFactory(offering=offering, start=SLOT + timedelta(days=1))
    early = BookingFactory(offering=offering, start=SLOT, client_email="Grace@Example.com")
    BookingFactory(offering=OfferingFactory(coach=CoachFactory()))  # someone else's
    response = get(client, URL, read_key)
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert [b["reference"] for b in body["items"]] == [early.reference, late.reference]
    assert body["next_cursor"] is None
    first = body["items"][0]
    assert first["start"] == "2026-12-02T15:00:00Z"
    assert first["offering"] == {"slug": "intro-call", "title": "Intro call"}
    assert first["client"]["email"] == "Grace@Example.com"


def test_it_filters_the_list(client: Client, offering: Offering, coach: Coach, read_key: str) -> None:
    other_offering = OfferingFactory(coach=coach, slug="deep-dive")
    a = BookingFactory(offering=offering, start=SLOT, client_email="Grace@Example.com")
    b = BookingFactory(offering=offering, start=SLOT + timedelta(days=2), status=Booking.Status.PENDING)
    c = BookingFactory(offering=other_offering, start=SLOT + timedelta(days=4))

    def refs(**params: object) -> list[str]:
        response = get(client, URL, read_key, params)
        assert response.status_code == HTTPStatus.OK, response.content
        return [row["reference"] for row in response.json()["items"]]

    assert refs(status="pending") == [b.reference]
    assert refs(offering="deep-dive") == [c.reference]
    assert refs(client="grace@EXAMPLE.com") == [a.reference]
    start_b = (SLOT + timedelta(days=2)).isoformat()
    assert refs(**{"from": start_b}) == [b.reference, c.reference]  # from: included
    assert refs(to=start_b) == [a.reference]  # to: excluded
    assert refs(**{"from": "2026-12-02T16:00:00+01:00", "to": "2026-12-05T00:00:00Z"}) == [
        a.reference,
        b.reference,
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-12-02T15:00:00"}, "to"),  # no offset
        ({"status": "lost"}, "status"),
        ({"offering": "nothing-here"}, "offering"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"client": "a\x00b@example.com"}, "client"),
    ],
)
def test_bad_filters_are_a_422_naming_the_field(
    client: Client, offering: Offering, read_key: str, params: dict[str, object], field: str
) -> None:
    response = get(client, URL, read_key, params)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"][-1] == field


@pytest.mark.parametrize(
    "payload",
    [
        [],
        ["2026-12-02T15:00:00+00:00"],
        ["2026-12-02T15:00:00", 1],  # naive
        ["2026-12-02T15:00:00+00:00", "1"],
        ["2026-12-02T15:00:00+00:00", 2**70],
        {"start": 1},
        "x",
    ],
)
def test_a_tampered_cursor_is_a_422(
    client: Client, offering: Offering, read_key: str, payload: object
) -> None:
    make(offering, 3)
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    response = get(client, URL, read_key, {"cursor": cursor})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_pagination_walks_every_row_once_in_order(
    client: Client, offering: Offering, coach: Coach, read_key: str
) -> None:
    bookings = make(offering, 7)
    # Two bookings at the same start (a cancelled one and its replacement): the id breaks the tie.
    bookings.append(
        BookingFactory(offering=offering, start=bookings[3].start, status=Booking.Status.CANCELLED)
    )
    expected = [b.reference for b in sorted(bookings, key=lambda b: (b.start, b.pk))]
    seen: list[str] = []
    params: dict[str, object] = {"limit": 3}
    pages = 0
    while True:
        body = get(client, URL, read_key, params).json()
        pages += 1
        seen += [row["reference"] for row in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert seen == expected
    assert pages == 3


@pytest.mark.parametrize("count", [3, 60])
def test_the_list_costs_a_fixed_number_of_queries(
    client: Client, offering: Offering, read_key: str, count: int, django_assert_max_num_queries
) -> None:
    make(offering, count)
    get(client, URL, read_key)  # the token's first use records last_used_at once
    # The token, the offering check, the page (each booking's pass joined) and, since issue 15,
    # one prefetch of the page's pass ledger entries for the "credit" (booking.selectors.with_credits).
    with django_assert_max_num_queries(4):
        body = get(client, URL, read_key, {"limit": 200, "offering": "intro-call"}).json()
    assert len(body["items"]) == count


def test_it_reads_one_booking(client: Client, offering: Offering, read_key: str) -> None:
    booking = BookingFactory(offering=offering, start=SLOT)
    response = get(client, f"{URL}/{booking.reference}", read_key)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["reference"] == booking.reference
    assert response.json()["status"] == "confirmed"


@pytest.mark.parametrize("reference", ["NOPE", "x" * 40, "a%00b"])
def test_an_unknown_booking_is_a_404(
    client: Client, offering: Offering, read_key: str, reference: str
) -> None:
    assert get(client, f"{URL}/{reference}", read_key).status_code == HTTPStatus.NOT_FOUND


# --- authentication --------------------------------------------------------------------------
@pytest.mark.parametrize("header", [None, "Bearer", "Bearer garbage", "Bearer " + "x" * 300, "Basic abc"])
def test_it_needs_a_token(client: Client, offering: Offering, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get(URL, headers=headers)
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_a_revoked_token_is_a_401(client: Client, coach: Coach, offering: Offering) -> None:
    token, key = api_token_create(coach=coach, name="Old", scope="write")
    assert get(client, URL, key).status_code == HTTPStatus.OK
    api_token_revoke(token=token)
    assert get(client, URL, key).status_code == HTTPStatus.UNAUTHORIZED


def test_a_session_cookie_is_not_a_token(coach_client: Client, offering: Offering) -> None:
    assert coach_client.get(URL).status_code == HTTPStatus.UNAUTHORIZED


def test_another_coachs_booking_is_a_404(client: Client, offering: Offering, write_key: str) -> None:
    theirs = BookingFactory(offering=OfferingFactory(coach=CoachFactory()), start=SLOT)
    assert get(client, f"{URL}/{theirs.reference}", write_key).status_code == HTTPStatus.NOT_FOUND
    response = post(client, f"{URL}/{theirs.reference}/cancel", write_key)
    assert response.status_code == HTTPStatus.NOT_FOUND
    theirs.refresh_from_db()
    assert theirs.status == Booking.Status.CONFIRMED


@pytest.mark.parametrize("action", ACTIONS)
def test_a_read_token_may_not_act(client: Client, offering: Offering, read_key: str, action: str) -> None:
    booking = BookingFactory(offering=offering, start=SLOT, status=Booking.Status.PENDING)
    body = {"start": (SLOT + timedelta(hours=1)).isoformat()} if action == "reschedule" else None
    response = post(client, f"{URL}/{booking.reference}/{action}", read_key, body)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "only read" in response.json()["detail"]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING
    assert booking.start == SLOT


def test_it_rate_limits_each_token(client: Client, settings, offering: Offering, read_key: str) -> None:
    settings.RATE_LIMITS_ENABLED = True
    settings.API_TOKEN_RATE = "2/m"
    assert get(client, URL, read_key).status_code == HTTPStatus.OK
    assert get(client, URL, read_key).status_code == HTTPStatus.OK
    response = get(client, URL, read_key)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(response["Retry-After"]) >= 1


# --- actions ---------------------------------------------------------------------------------
def pending(offering: Offering) -> Booking:
    return BookingFactory(offering=offering, start=SLOT, status=Booking.Status.PENDING)


def test_it_approves(client: Client, offering: Offering, write_key: str) -> None:
    booking = pending(offering)
    response = post(client, f"{URL}/{booking.reference}/approve", write_key)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "confirmed"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_approving_a_confirmed_booking_is_a_409(client: Client, offering: Offering, write_key: str) -> None:
    booking = BookingFactory(offering=offering, start=SLOT)
    response = post(client, f"{URL}/{booking.reference}/approve", write_key)
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["detail"]


def test_it_declines_with_a_reason(client: Client, offering: Offering, write_key: str) -> None:
    booking = pending(offering)
    response = post(client, f"{URL}/{booking.reference}/decline", write_key, {"reason": "  Away that week "})
    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "declined"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.DECLINED


def test_it_cancels_with_or_without_a_reason(client: Client, offering: Offering, write_key: str) -> None:
    first = BookingFactory(offering=offering, start=SLOT)
    second = BookingFactory(offering=offering, start=SLOT + timedelta(days=1))
    response = post(client, f"{URL}/{first.reference}/cancel", write_key, {"reason": "Ill"})
    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "Ill"
    assert response.json()["cancelled_by"] == "coach"
    assert post(client, f"{URL}/{second.reference}/cancel", write_key).json()["status"] == "cancelled"
    # Cancelling again: the service refuses, with its message.
    again = post(client, f"{URL}/{first.reference}/cancel", write_key)
    assert again.status_code == HTTPStatus.CONFLICT


def test_a_too_long_reason_is_a_422(client: Client, offering: Offering, write_key: str) -> None:
    booking = BookingFactory(offering=offering, start=SLOT)
    response = post(client, f"{URL}/{booking.reference}/cancel", write_key, {"reason": "x" * 501})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"][-1] == "reason"


def test_it_reschedules(client: Client, offering: Offering, write_key: str) -> None:
    booking = BookingFactory(offering=offering, start=SLOT)
    new_start = SLOT + timedelta(hours=1)
    response = post(
        client, f"{URL}/{booking.reference}/reschedule", write_key, {"start": new_start.isoformat()}
    )
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["start"] == "2026-12-02T16:00:00Z"
    booking.refresh_from_db()
    assert booking.start == new_start


@pytest.mark.parametrize(
    "body", [{}, {"start": "tomorrow"}, {"start": "2026-12-02T16:00:00"}, {"start": "1000-01-01T00:00:00Z"}]
)
def test_a_bad_reschedule_body_is_a_422(
    client: Client, offering: Offering, write_key: str, body: object
) -> None:
    booking = BookingFactory(offering=offering, start=SLOT)
    response = post(client, f"{URL}/{booking.reference}/reschedule", write_key, body)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "start" in response.json()["detail"][0]["loc"]


@pytest.mark.parametrize(
    ("status", "new_start"),
    [
        (Booking.Status.CONFIRMED, SLOT - timedelta(days=3)),  # in the past
        (Booking.Status.CONFIRMED, SLOT + timedelta(days=3, hours=12)),  # outside the hours
        (Booking.Status.CANCELLED, SLOT + timedelta(hours=1)),  # not active
    ],
)
def test_a_refused_reschedule_is_a_409(
    client: Client, offering: Offering, write_key: str, status: str, new_start
) -> None:
    booking = BookingFactory(offering=offering, start=SLOT, status=status)
    response = post(
        client, f"{URL}/{booking.reference}/reschedule", write_key, {"start": new_start.isoformat()}
    )
    assert response.status_code == HTTPStatus.CONFLICT
    booking.refresh_from_db()
    assert booking.start == SLOT


def test_it_marks_a_past_call_completed_or_no_show(
    client: Client, offering: Offering, write_key: str
) -> None:
    done = BookingFactory(offering=offering, start=NOW - timedelta(hours=2))
    missed = BookingFactory(offering=offering, start=NOW - timedelta(hours=4))
    response = post(client, f"{URL}/{done.reference}/complete", write_key)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "completed"
    response = post(client, f"{URL}/{missed.reference}/no-show", write_key)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "no_show"


def test_a_future_call_cannot_be_marked_completed(client: Client, offering: Offering, write_key: str) -> None:
    booking = BookingFactory(offering=offering, start=SLOT)
    response = post(client, f"{URL}/{booking.reference}/complete", write_key)
    assert response.status_code == HTTPStatus.CONFLICT
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_the_schema_documents_every_answer(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    for path, methods in schema["paths"].items():
        if not path.startswith(URL):
            continue
        for method, operation in methods.items():
            codes = set(operation["responses"])
            creates = method == "post" and path == URL  # a new booking: 201, nothing to find
            assert {"201" if creates else "200", "401", "422", "429"} <= codes, (method, path)
            if method == "post":
                assert {"403", "409"} | (set() if creates else {"404"}) <= codes, (method, path)
