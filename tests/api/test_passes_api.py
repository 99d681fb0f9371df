"""The public API and package passes (issue 15): booking with ``"pass": "<token>"``, what a
cancellation answers about the credit, and ``GET /api/v1/passes/{token}``.

Time is pinned at NOW (Tuesday 1 December 2026, 07:00 in New York); the intro call's
cancellation notice is 24 hours, and SLOT is the next day at 10:00 there.
"""

from __future__ import annotations

import json
from datetime import timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.test import Client

from booking.models import Booking, WebhookDelivery
from booking.services import webhook_endpoint_create
from booking.tokens import manage_token
from coaching.models import Offering
from practice import services
from practice.models import Package, Pass, PassEntry
from practice.tokens import pass_token
from tests.factories import CoachFactory, OfferingFactory
from tests.support import NOW, SLOT, booking_body

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW)]

URL = "/api/v1/bookings"


def post(client: Client, url: str, body: object, **headers: str):
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def package(offering: Offering) -> Package:
    return services.package_save(
        coach=offering.coach, name="Three calls", sessions=3, offerings=[offering], validity_days=30
    )


@pytest.fixture
def grace_pass(package: Package) -> Pass:
    return services.pass_grant(
        package=package, client_email="grace@example.com", client_name="Grace", now=NOW
    )


def book(client: Client, pass_obj: Pass | None, **overrides: object):
    body = booking_body(**overrides)
    if pass_obj is not None:
        body["pass"] = pass_token(pass_obj)
    return post(client, URL, body)


def pass_field_error(response) -> str:
    """The message of a 422 on the body's ``pass``, where pydantic puts its own."""
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.content
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "payload", "pass"]
    return error["msg"]


# --- booking with a pass ---------------------------------------------------------------------
def test_booking_with_a_pass_uses_one_of_its_sessions(client: Client, grace_pass: Pass) -> None:
    response = book(client, grace_pass)
    assert response.status_code == HTTPStatus.CREATED, response.content
    booking = Booking.objects.get(reference=response.json()["reference"])
    assert booking.client_pass_id == grace_pass.pk
    grace_pass.refresh_from_db()
    assert grace_pass.remaining == 2
    assert grace_pass.entries.get(kind=PassEntry.Kind.USE).booking_id == booking.pk


def test_the_token_is_read_without_blanks_around_it(client: Client, grace_pass: Pass) -> None:
    body = {**booking_body(), "pass": f"  {pass_token(grace_pass)} "}
    assert post(client, URL, body).status_code == HTTPStatus.CREATED


def test_an_exhausted_pass_is_a_409_with_its_code_and_books_nothing(client: Client, grace_pass: Pass) -> None:
    services.pass_adjust(pass_obj=grace_pass, amount=-3, reason="Refunded")
    response = book(client, grace_pass)
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == {"detail": services.PassExhausted.message, "code": "pass_exhausted"}
    assert not Booking.objects.exists()


def test_a_session_after_the_pass_ends_is_a_409_pass_expired(client: Client, offering: Offering) -> None:
    short = services.package_save(
        coach=offering.coach, name="One day", sessions=1, offerings=[offering], validity_days=1
    )
    pass_obj = services.pass_grant(package=short, client_email="grace@example.com", client_name="G", now=NOW)
    # SLOT is 27 hours after the grant: after the pass ends.
    response = book(client, pass_obj)
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "pass_expired"
    assert not Booking.objects.exists()
    pass_obj.refresh_from_db()
    assert pass_obj.remaining == 1


def test_a_pass_that_does_not_cover_the_call_is_a_422_on_pass(
    client: Client, offering: Offering, grace_pass: Pass
) -> None:
    OfferingFactory(coach=offering.coach, slug="deep-dive", duration_minutes=30)
    assert "does not cover" in pass_field_error(book(client, grace_pass, offering="deep-dive"))
    # Someone else's pass, for the right call.
    assert "another email" in pass_field_error(book(client, grace_pass, email="alan@example.com"))
    assert not Booking.objects.exists()


def test_another_coachs_pass_is_a_422_on_pass(client: Client, offering: Offering) -> None:
    elsewhere = OfferingFactory(coach=CoachFactory(slug="bob"), slug="intro-call")
    package = services.package_save(
        coach=elsewhere.coach, name="Bob's", sessions=2, offerings=[elsewhere], validity_days=30
    )
    pass_obj = services.pass_grant(
        package=package, client_email="grace@example.com", client_name="G", now=NOW
    )
    pass_field_error(book(client, pass_obj))
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    "token",
    ["nonsense", "PS-AAAAAAAA.bm90LWEtbWFj", "BK-T0000001.abc", "", "PS-\x00.x"],
)
def test_an_unknown_or_tampered_token_is_a_422_on_pass(client: Client, grace_pass: Pass, token: str) -> None:
    pass_field_error(post(client, URL, {**booking_body(), "pass": token}))
    assert not Booking.objects.exists()


def test_a_token_with_its_mac_changed_is_refused(client: Client, grace_pass: Pass) -> None:
    token = pass_token(grace_pass)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert "No pass" in pass_field_error(post(client, URL, {**booking_body(), "pass": tampered}))
    grace_pass.refresh_from_db()
    assert grace_pass.remaining == 3


def test_a_package_only_call_without_a_pass_is_a_422_on_pass(
    client: Client, offering: Offering, grace_pass: Pass
) -> None:
    offering.package_only = True
    offering.save()
    assert "package" in pass_field_error(book(client, None))
    assert book(client, grace_pass).status_code == HTTPStatus.CREATED


def test_a_body_without_a_pass_keeps_its_idempotency_fingerprint(client: Client, grace_pass: Pass) -> None:
    """An older client's retry (no "pass" at all, or null) matches the first request; the same
    key with a pass is another request."""
    first = post(client, URL, booking_body(), **{"Idempotency-Key": "k-1"})
    assert first.status_code == HTTPStatus.CREATED
    again = post(client, URL, {**booking_body(), "pass": None}, **{"Idempotency-Key": "k-1"})
    assert again.status_code == HTTPStatus.CREATED
    assert again.json()["reference"] == first.json()["reference"]
    other = post(
        client, URL, {**booking_body(), "pass": pass_token(grace_pass)}, **{"Idempotency-Key": "k-1"}
    )
    assert other.status_code == HTTPStatus.CONFLICT
    assert Booking.objects.count() == 1


def test_a_pass_that_is_not_a_string_is_a_422_on_pass(client: Client, offering: Offering) -> None:
    pass_field_error(post(client, URL, {**booking_body(), "pass": 5}))
    pass_field_error(post(client, URL, {**booking_body(), "pass": "x" * 101}))


# --- cancelling: what became of the credit ---------------------------------------------------
def _booked(client: Client, pass_obj: Pass | None) -> str:
    response = book(client, pass_obj)
    assert response.status_code == HTTPStatus.CREATED, response.content
    return manage_token(Booking.objects.get(reference=response.json()["reference"]))


def test_an_early_cancellation_answers_the_credit_returned(client: Client, grace_pass: Pass) -> None:
    token = _booked(client, grace_pass)
    response = post(client, f"{URL}/{token}/cancel", {"reason": "Can't make it"})
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["status"] == "cancelled"
    assert response.json()["credit"] == "returned"
    grace_pass.refresh_from_db()
    assert grace_pass.remaining == 3


def test_a_late_cancellation_answers_the_credit_forfeited(client: Client, grace_pass: Pass) -> None:
    token = _booked(client, grace_pass)
    with time_machine.travel(SLOT - timedelta(hours=2), tick=False):
        response = post(client, f"{URL}/{token}/cancel", {})
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["credit"] == "forfeited"
    grace_pass.refresh_from_db()
    assert grace_pass.remaining == 2


def test_a_cancellation_without_a_pass_answers_credit_null(client: Client, offering: Offering) -> None:
    token = _booked(client, None)
    response = post(client, f"{URL}/{token}/cancel", {})
    assert response.status_code == HTTPStatus.OK
    assert response.json()["credit"] is None


# --- GET /api/v1/passes/{token} ----------------------------------------------------------------
def test_a_pass_shows_its_balance_ledger_and_what_it_books(
    client: Client, offering: Offering, package: Package, grace_pass: Pass, settings
) -> None:
    settings.SITE_URL = "https://coaching.example.com"
    OfferingFactory(coach=offering.coach, slug="closed", is_active=False)
    package.offerings.add(offering.coach.offerings.get(slug="closed"))
    token = _booked(client, grace_pass)
    booking = Booking.objects.get()
    post(client, f"{URL}/{token}/cancel", {})
    response = client.get(f"/api/v1/passes/{pass_token(grace_pass)}")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    # The clock ticks from NOW: the entries are a few moments apart, in the coach's zone.
    assert all(entry.pop("at").startswith("2026-12-01T07:00:") for entry in body["ledger"])
    assert body == {
        "coach": "ada",
        "package": "Three calls",
        "sessions": 3,
        "remaining": 3,
        # 30 days after NOW, in the coach's zone.
        "expires_at": "2026-12-31T07:00:00-05:00",
        "ledger": [
            {
                "kind": "grant",
                "amount": 3,
                "booking": None,
                "by": "coach",
                "reason": "",
                "late": False,
            },
            {
                "kind": "use",
                "amount": -1,
                "booking": booking.reference,
                "by": "client",
                "reason": "",
                "late": False,
            },
            {
                "kind": "return",
                "amount": 1,
                "booking": booking.reference,
                "by": "client",
                "reason": "",
                "late": False,
            },
        ],
        # The closed offering is left out: it books nothing.
        "offerings": [
            {
                "slug": "intro-call",
                "title": "Intro call",
                "book_url": f"https://coaching.example.com/ada/intro-call/?pass={pass_token(grace_pass)}",
            }
        ],
    }


@pytest.mark.parametrize("token", ["nope", "PS-AAAAAAAA.bm90LWEtbWFj", "PS-AAAAAAAA", "%00"])
def test_an_unknown_pass_is_a_404(client: Client, grace_pass: Pass, token: str) -> None:
    response = client.get(f"/api/v1/passes/{token}")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "No pass for this link."}


def test_a_tampered_pass_token_is_a_404(client: Client, grace_pass: Pass) -> None:
    token = pass_token(grace_pass)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/api/v1/passes/{tampered}").status_code == HTTPStatus.NOT_FOUND


def test_pass_lookups_are_throttled_like_manage_links(client: Client, grace_pass: Pass, settings) -> None:
    settings.RATE_LIMITS_ENABLED = True
    settings.MANAGE_LOOKUP_RATE = "2/m"
    url = f"/api/v1/passes/{pass_token(grace_pass)}"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]


def test_a_pass_reads_in_a_fixed_number_of_queries(
    client: Client, grace_pass: Pass, offering: Offering, django_assert_max_num_queries
) -> None:
    for n in range(3):
        _booked_at(client, grace_pass, SLOT + timedelta(hours=n))
    # The pass with its coach and package, its ledger with the bookings, the offerings.
    with django_assert_max_num_queries(3):
        assert client.get(f"/api/v1/passes/{pass_token(grace_pass)}").status_code == HTTPStatus.OK


def _booked_at(client: Client, pass_obj: Pass, start) -> None:
    assert book(client, pass_obj, start=start.isoformat()).status_code == HTTPStatus.CREATED


@pytest.mark.parametrize("with_endpoint", [False, True])
def test_a_pass_adds_one_query_to_a_booking(
    client: Client, grace_pass: Pass, offering: Offering, with_endpoint: bool, django_assert_max_num_queries
) -> None:
    """Three more (the pass by its token, answering whether it covers the offering; the
    credit's conditional UPDATE; its ledger entry) and two fewer (the pass's client is the
    client record); with an endpoint, the pass.used delivery too: the endpoints are read
    once for the booking's and the pass's events, and the new booking's ledger not at all."""
    if with_endpoint:
        webhook_endpoint_create(coach=offering.coach, url="https://hooks.example.com/in")
    # Warm what is read once per process.
    assert book(client, None, start=(SLOT + timedelta(hours=3)).isoformat()).status_code == HTTPStatus.CREATED
    with django_assert_max_num_queries(100) as without:
        assert book(client, None, start=SLOT.isoformat()).status_code == HTTPStatus.CREATED
    with django_assert_max_num_queries(len(without.captured_queries) + 1 + with_endpoint):
        response = book(client, grace_pass, start=(SLOT + timedelta(hours=1)).isoformat())
        assert response.status_code == HTTPStatus.CREATED, response.content
    if with_endpoint:
        used = WebhookDelivery.objects.get(event_type="pass.used")
        assert used.payload["data"]["pass"]["remaining"] == 2
        created = WebhookDelivery.objects.get(event_type="booking.created", booking__client_pass=grace_pass)
        assert created.payload["data"]["credit"] == "used"
