"""The coach API's packages and passes (/api/v1/me/packages, /api/v1/me/passes), and what the
bookings say about their pass (issue 15).

Time is pinned at NOW (Tuesday 1 December 2026, 07:00 in New York, the coach's zone).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core import signals
from django.db import close_old_connections
from django.test import Client

from booking.models import Booking, BookingEvent
from booking.services import booking_cancel
from coaching.models import Coach, Offering
from practice import services
from practice.models import Package, Pass, PassEntry
from practice.tokens import pass_for_token, pass_token
from tests.api.conftest import auth, get, post
from tests.factories import CoachFactory, OfferingFactory
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW)]

ME = "/api/v1/me"


def send(client: Client, method: str, url: str, key: str, body: object = None):
    data = json.dumps(body) if body is not None else ""
    return getattr(client, method)(url, data=data, content_type="application/json", headers=auth(key))


def field_of(response) -> str:
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.content
    return response.json()["detail"][0]["loc"][-1]


@pytest.fixture
def package(offering: Offering) -> Package:
    return services.package_save(
        coach=offering.coach, name="Three calls", sessions=3, offerings=[offering], validity_days=30
    )


@pytest.fixture
def grace_pass(package: Package) -> Pass:
    return services.pass_grant(
        package=package, client_email="grace@example.com", client_name="Grace Hopper", now=NOW
    )


@pytest.fixture
def other_coach() -> Coach:
    return CoachFactory(slug="bob", user__email="bob@example.com")


@pytest.fixture
def others_package(other_coach: Coach) -> Package:
    offering = OfferingFactory(coach=other_coach, slug="bobs-call")
    return services.package_save(
        coach=other_coach, name="Bob's", sessions=2, offerings=[offering], validity_days=10
    )


@pytest.fixture
def others_pass(others_package: Package) -> Pass:
    return services.pass_grant(
        package=others_package, client_email="grace@example.com", client_name="Grace", now=NOW
    )


# --- who may call what -------------------------------------------------------------------------
OPERATIONS = [
    ("get", "/packages"),
    ("post", "/packages"),
    ("get", "/packages/{package}"),
    ("patch", "/packages/{package}"),
    ("get", "/passes"),
    ("post", "/passes"),
    ("get", "/passes/{pass}"),
    ("post", "/passes/{pass}/adjust"),
    ("post", "/passes/{pass}/return"),
]
# A valid body for each write: a read token is refused whatever it sends.
WRITES = {
    ("post", "/packages"): {"name": "Six", "offerings": ["intro-call"], "sessions": 6, "validity_days": 9},
    ("patch", "/packages/{package}"): {"sessions": 9},
    ("post", "/passes"): {"package": 0, "client_email": "ada@example.com", "client_name": "Ada"},
    ("post", "/passes/{pass}/adjust"): {"amount": 1, "reason": "Bonus"},
    ("post", "/passes/{pass}/return"): {"booking": "BK-T0000001", "reason": "Strike"},
}


def _url(path: str, package: Package, pass_obj: Pass) -> str:
    return ME + path.format(package=package.pk, **{"pass": pass_obj.reference})


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_operation_needs_a_token(
    client: Client, package: Package, grace_pass: Pass, method: str, path: str
) -> None:
    url = _url(path, package, grace_pass)
    response = client.get(url) if method == "get" else send(client, method, url, "", {})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    garbage = (
        get(client, url, "cc_garbage") if method == "get" else send(client, method, url, "cc_garbage", {})
    )
    assert garbage.status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize(("method", "path"), list(WRITES))
def test_a_read_token_may_not_write(
    client: Client, package: Package, grace_pass: Pass, read_key: str, method: str, path: str
) -> None:
    body = WRITES[(method, path)]
    response = send(client, method, _url(path, package, grace_pass), read_key, body)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Package.objects.count() == 1 and grace_pass.entries.count() == 1


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if "{" in op[1]])
def test_another_coachs_package_or_pass_is_a_404(
    client: Client,
    others_package: Package,
    others_pass: Pass,
    write_key: str,
    method: str,
    path: str,
) -> None:
    url = _url(path, others_package, others_pass)
    body = WRITES.get((method, path))
    response = get(client, url, write_key) if method == "get" else send(client, method, url, write_key, body)
    assert response.status_code == HTTPStatus.NOT_FOUND, response.content
    assert response.json()["detail"] in (
        "No package of yours with this id.",
        "No pass of yours with this id.",
    )
    others_package.refresh_from_db()
    assert others_package.sessions == 2 and others_pass.entries.count() == 1


@pytest.mark.parametrize("pass_id", ["PS-NOPE0000", "x" * 40, "PS-%00"])
def test_an_unknown_pass_is_a_404(client: Client, write_key: str, pass_id: str) -> None:
    assert get(client, f"{ME}/passes/{pass_id}", write_key).status_code == HTTPStatus.NOT_FOUND


def test_an_unknown_package_is_a_404(client: Client, write_key: str) -> None:
    assert get(client, f"{ME}/packages/999999", write_key).status_code == HTTPStatus.NOT_FOUND
    assert get(client, f"{ME}/packages/{2**70}", write_key).status_code == HTTPStatus.NOT_FOUND


# --- packages ----------------------------------------------------------------------------------
def test_it_lists_the_coachs_packages(
    client: Client, package: Package, grace_pass: Pass, others_package: Package, read_key: str
) -> None:
    response = get(client, f"{ME}/packages", read_key)
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["next_offset"] is None
    # The clock ticks from NOW; the time is in the coach's zone.
    assert body["items"][0].pop("created_at").startswith("2026-12-01T07:00:")
    assert body["items"] == [
        {
            "id": package.pk,
            "name": "Three calls",
            "description": "",
            "offerings": ["intro-call"],
            "sessions": 3,
            "validity_days": 30,
            "valid_until": None,
            "price_amount": None,
            "price_currency": "",
            "is_active": True,
            "passes_granted": 1,
        }
    ]


def test_it_creates_a_package(client: Client, offering: Offering, coach: Coach, write_key: str) -> None:
    OfferingFactory(coach=coach, slug="deep-dive", title="Deep dive")
    body = {
        "name": "  Six   sessions ",
        "offerings": ["intro-call", "deep-dive"],
        "sessions": 6,
        "valid_until": "2027-03-31",
        "price_amount": "480",
        "price_currency": "eur",
        "description": "Over three months.",
    }
    response = post(client, f"{ME}/packages", write_key, body)
    assert response.status_code == HTTPStatus.CREATED, response.content
    out = response.json()
    package = Package.objects.get(pk=out["id"])
    assert (package.name, package.sessions, str(package.valid_until)) == ("Six sessions", 6, "2027-03-31")
    assert out["offerings"] == ["deep-dive", "intro-call"] or out["offerings"] == ["intro-call", "deep-dive"]
    assert (out["validity_days"], out["price_amount"], out["price_currency"]) == (None, "480.00", "EUR")
    assert out["is_active"] is True and out["passes_granted"] == 0
    assert get(client, f"{ME}/packages/{package.pk}", write_key).json() == out


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sessions": 0}, "sessions"),
        ({"sessions": 501}, "sessions"),
        ({"offerings": []}, "offerings"),
        ({"offerings": ["nothing-here"]}, "offerings"),
        ({"offerings": ["bobs-call"]}, "offerings"),  # another coach's
        ({"validity_days": None}, "validity_days"),
        ({"validity_days": 0}, "validity_days"),
        ({"valid_until": "2026-11-30"}, "valid_until"),  # passed
        ({"valid_until": "31/12/2026"}, "valid_until"),
        ({"valid_until": "2027-01-31", "validity_days": 30}, "validity_days"),
        ({"price_amount": "80"}, "price_currency"),
        ({"price_amount": "-1", "price_currency": "EUR"}, "price_amount"),
        ({"price_amount": "12", "price_currency": "EURO"}, "price_currency"),
        ({"name": ""}, "name"),
        ({"name": "Two\nlines"}, "name"),
        ({"colour": "red"}, "colour"),
        ({"sessions": True}, "sessions"),
        ({"price_amount": True}, "price_amount"),
        ({"is_active": 1}, "is_active"),
    ],
)
def test_a_bad_package_is_a_422_naming_the_field(
    client: Client, offering: Offering, others_package: Package, write_key: str, changes: dict, field: str
) -> None:
    body = {"name": "Six", "offerings": ["intro-call"], "sessions": 6, **changes}
    if "valid_until" not in changes:
        body.setdefault("validity_days", 90)
    assert field_of(post(client, f"{ME}/packages", write_key, body)) == field
    assert not Package.objects.filter(coach=offering.coach).exists()


def test_it_changes_a_package_and_keeps_the_rest(
    client: Client, package: Package, grace_pass: Pass, write_key: str
) -> None:
    url = f"{ME}/packages/{package.pk}"
    response = send(client, "patch", url, write_key, {"sessions": 8, "valid_until": "2027-06-30"})
    assert response.status_code == HTTPStatus.OK, response.content
    out = response.json()
    assert (out["sessions"], out["validity_days"], out["valid_until"]) == (8, None, "2027-06-30")
    assert (out["name"], out["offerings"], out["passes_granted"]) == ("Three calls", ["intro-call"], 1)
    # Switching back to days, then retiring it.
    assert send(client, "patch", url, write_key, {"validity_days": 60}).json()["valid_until"] is None
    retired = send(client, "patch", url, write_key, {"is_active": False}).json()
    assert retired["is_active"] is False and retired["validity_days"] == 60
    # The pass granted before keeps its terms.
    grace_pass.refresh_from_db()
    assert (grace_pass.sessions, grace_pass.expires_at) == (3, NOW + timedelta(days=30))


def test_a_bad_change_is_a_422_and_changes_nothing(client: Client, package: Package, write_key: str) -> None:
    url = f"{ME}/packages/{package.pk}"
    assert field_of(send(client, "patch", url, write_key, {"sessions": 0, "name": "New"})) == "sessions"
    assert field_of(send(client, "patch", url, write_key, {"validity_days": None})) == "validity_days"
    assert field_of(send(client, "patch", url, write_key, {"price_amount": 5})) == "price_currency"
    package.refresh_from_db()
    assert (package.name, package.sessions) == ("Three calls", 3)


# --- passes ------------------------------------------------------------------------------------
def test_granting_a_pass_answers_its_id_token_balance_and_link(
    client: Client, package: Package, write_key: str, settings
) -> None:
    settings.SITE_URL = "https://coaching.example.com"
    body = {"package": package.pk, "client_email": " Ada@Example.com ", "client_name": "Ada  King"}
    response = post(client, f"{ME}/passes", write_key, body)
    assert response.status_code == HTTPStatus.CREATED, response.content
    out = response.json()
    pass_obj = Pass.objects.get(reference=out["id"])
    assert pass_for_token(out["token"]) == pass_obj
    assert out["book_url"] == f"https://coaching.example.com/passes/{out['token']}/"
    assert (out["remaining"], out["sessions"], out["status"]) == (3, 3, "active")
    assert out["expires_at"].startswith("2026-12-31T07:00:")  # 30 days on, in the coach's zone
    assert out["client"] == {"name": "Ada King", "email": "ada@example.com"}
    assert out["package"] == {"id": package.pk, "name": "Three calls"}
    assert [entry["kind"] for entry in out["ledger"]] == ["grant"]
    assert out["ledger"][0]["amount"] == 3 and out["ledger"][0]["by"] == "coach"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"client_email": "not-an-address"}, "client_email"),
        ({"client_name": ""}, "client_name"),
        ({"package": 999999}, "package"),
        ({"package": "x"}, "package"),
        ({"package": True}, "package"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_bad_grant_is_a_422_naming_the_field(
    client: Client, package: Package, write_key: str, body: dict, field: str
) -> None:
    full = {"package": package.pk, "client_email": "ada@example.com", "client_name": "Ada", **body}
    assert field_of(post(client, f"{ME}/passes", write_key, full)) == field
    assert not Pass.objects.exists()


def test_another_coachs_or_a_retired_or_ended_package_is_refused(
    client: Client, offering: Offering, package: Package, others_package: Package, write_key: str
) -> None:
    body = {"client_email": "ada@example.com", "client_name": "Ada"}
    assert (
        field_of(post(client, f"{ME}/passes", write_key, {**body, "package": others_package.pk})) == "package"
    )
    package.is_active = False
    package.save()
    assert field_of(post(client, f"{ME}/passes", write_key, {**body, "package": package.pk})) == "package"
    ended = services.package_save(
        coach=offering.coach, name="Ended", sessions=1, offerings=[offering], valid_until=NOW.date()
    )
    Package.objects.filter(pk=ended.pk).update(valid_until=NOW.date() - timedelta(days=2))
    response = post(client, f"{ME}/passes", write_key, {**body, "package": ended.pk})
    assert field_of(response) == "package"
    assert "last day" in response.json()["detail"][0]["msg"]
    assert not Pass.objects.exists()


def _grant(package: Package, email: str, at=NOW) -> Pass:
    return services.pass_grant(package=package, client_email=email, client_name="C", now=at)


def test_it_lists_passes_newest_first_with_filters(
    client: Client, offering: Offering, package: Package, others_pass: Pass, read_key: str
) -> None:
    other_package = services.package_save(
        coach=offering.coach, name="Ten", sessions=10, offerings=[offering], validity_days=365
    )
    active = _grant(package, "grace@example.com")
    used_up = _grant(other_package, "grace@example.com")
    services.pass_adjust(pass_obj=used_up, amount=-10, reason="Refund")
    expired = _grant(package, "alan@example.com", at=NOW - timedelta(days=40))

    def ids(**params: object) -> list[str]:
        response = get(client, f"{ME}/passes", read_key, params)
        assert response.status_code == HTTPStatus.OK, response.content
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [expired.reference, used_up.reference, active.reference]
    assert ids(status="active") == [active.reference]
    assert ids(status="used_up") == [used_up.reference]
    assert ids(status="expired") == [expired.reference]
    assert ids(client="GRACE@example.com") == [used_up.reference, active.reference]
    assert ids(package=other_package.pk) == [used_up.reference]
    assert ids(package=package.pk, status="active") == [active.reference]
    statuses = {item["id"]: item["status"] for item in get(client, f"{ME}/passes", read_key).json()["items"]}
    assert statuses == {
        active.reference: "active",
        used_up.reference: "used_up",
        expired.reference: "expired",
    }


def test_the_passes_list_pages_with_a_cursor(client: Client, package: Package, read_key: str) -> None:
    granted = [_grant(package, f"c{n}@example.com") for n in range(5)]
    seen, cursor = [], None
    while True:
        params: dict[str, object] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = get(client, f"{ME}/passes", read_key, params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [p.reference for p in reversed(granted)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"package": 999999}, "package"),
        ({"package": "x"}, "package"),
        ({"limit": 0}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b"[true]").decode()}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b"[1, 2]").decode()}, "cursor"),
        ({"client": "a\x00b@example.com"}, "client"),
    ],
)
def test_bad_pass_filters_are_a_422_naming_the_field(
    client: Client, others_package: Package, read_key: str, params: dict, field: str
) -> None:
    if params.get("package") == 999999:
        params = {"package": others_package.pk}  # another coach's package: not one of yours
    response = get(client, f"{ME}/passes", read_key, params)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.content
    assert response.json()["detail"][0]["loc"][-1] == field


def test_it_reads_one_pass_with_its_ledger(client: Client, grace_pass: Pass, book, read_key: str) -> None:
    booking = book(client_pass=grace_pass)
    response = get(client, f"{ME}/passes/{grace_pass.reference}", read_key)
    assert response.status_code == HTTPStatus.OK
    out = response.json()
    assert out["token"] == pass_token(grace_pass)
    assert out["remaining"] == 2
    assert [(e["kind"], e["amount"], e["booking"], e["by"]) for e in out["ledger"]] == [
        ("grant", 3, None, "coach"),
        ("use", -1, booking.reference, "client"),
    ]


def test_the_coach_adjusts_a_pass(client: Client, grace_pass: Pass, write_key: str) -> None:
    url = f"{ME}/passes/{grace_pass.reference}/adjust"
    response = post(client, url, write_key, {"amount": 2, "reason": "  Referral   bonus "})
    assert response.status_code == HTTPStatus.OK, response.content
    out = response.json()
    assert out["remaining"] == 5
    assert out["ledger"][-1] | {"at": ""} == {
        "kind": "adjust",
        "amount": 2,
        "booking": None,
        "by": "coach",
        "reason": "Referral bonus",
        "late": False,
        "at": "",
    }
    assert post(client, url, write_key, {"amount": -5, "reason": "Refund"}).json()["remaining"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 0, "reason": "Nothing"}, "amount"),
        ({"amount": -4, "reason": "Too many"}, "amount"),  # only 3 left
        ({"amount": 501, "reason": "Lots"}, "amount"),
        ({"amount": 1, "reason": "   "}, "reason"),
        ({"amount": "one", "reason": "x"}, "amount"),
        # pydantic alone would read true as 1 and add a session.
        ({"amount": True, "reason": "x"}, "amount"),
        ({"amount": 1.0, "reason": "x"}, "amount"),
        ({"reason": "x"}, "amount"),
    ],
)
def test_a_bad_adjustment_is_a_422_naming_the_field(
    client: Client, grace_pass: Pass, write_key: str, body: dict, field: str
) -> None:
    assert field_of(post(client, f"{ME}/passes/{grace_pass.reference}/adjust", write_key, body)) == field
    grace_pass.refresh_from_db()
    assert grace_pass.remaining == 3 and grace_pass.entries.count() == 1


def _forfeited(book, pass_obj: Pass) -> Booking:
    """A session of ``pass_obj`` the client cancelled too late: its credit is forfeited."""
    booking = book(client_pass=pass_obj)
    return booking_cancel(booking=booking, by=BookingEvent.Actor.CLIENT, now=SLOT - timedelta(hours=2))


def test_the_coach_gives_back_a_forfeited_credit_once(
    client: Client, grace_pass: Pass, book, write_key: str
) -> None:
    booking = _forfeited(book, grace_pass)
    url = f"{ME}/passes/{grace_pass.reference}/return"
    response = post(client, url, write_key, {"booking": booking.reference, "reason": "Train strike"})
    assert response.status_code == HTTPStatus.OK, response.content
    out = response.json()
    assert out["remaining"] == 3
    [given_back] = [entry for entry in out["ledger"] if entry["kind"] == "return"]
    assert (given_back["booking"], given_back["reason"], given_back["by"]) == (
        booking.reference,
        "Train strike",
        "coach",
    )
    again = post(client, url, write_key, {"booking": booking.reference, "reason": "Again"})
    assert again.status_code == HTTPStatus.CONFLICT
    assert "already" in again.json()["detail"]
    grace_pass.refresh_from_db()
    assert grace_pass.remaining == 3


def test_a_credit_that_was_not_forfeited_is_a_409(
    client: Client, grace_pass: Pass, book, write_key: str
) -> None:
    booking = book(client_pass=grace_pass)
    response = post(
        client,
        f"{ME}/passes/{grace_pass.reference}/return",
        write_key,
        {"booking": booking.reference, "reason": "Hm"},
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == {"detail": "Only a forfeited credit can be given back."}


def test_a_bad_give_back_is_a_422_naming_the_field(
    client: Client, offering: Offering, grace_pass: Pass, book, write_key: str
) -> None:
    booking = _forfeited(book, grace_pass)
    url = f"{ME}/passes/{grace_pass.reference}/return"
    assert field_of(post(client, url, write_key, {"booking": booking.reference, "reason": " "})) == "reason"
    assert field_of(post(client, url, write_key, {"booking": "BK-NOPE", "reason": "Hm"})) == "booking"
    # A booking of the coach's that this pass did not pay for.
    unpaid = book(SLOT + timedelta(hours=2), client_email="alan@example.com")
    assert field_of(post(client, url, write_key, {"booking": unpaid.reference, "reason": "Hm"})) == "booking"
    assert field_of(post(client, url, write_key, {"reason": "Hm"})) == "booking"
    grace_pass.refresh_from_db()
    assert grace_pass.remaining == 2


def test_the_documented_errors_are_what_the_api_answers(
    client: Client, grace_pass: Pass, book, write_key: str
) -> None:
    doc = client.get("/api/v1/openapi.json").json()

    def example(path: str, method: str, status: str) -> object:
        return doc["paths"][ME + path][method]["responses"][status]["content"]["application/json"]["example"]

    assert get(client, f"{ME}/packages/999999", write_key).json() == example(
        "/packages/{package_id}", "get", "404"
    )
    assert get(client, f"{ME}/passes/PS-NOPE0000", write_key).json() == example(
        "/passes/{pass_id}", "get", "404"
    )
    booking = book(client_pass=grace_pass)
    body = {"booking": booking.reference, "reason": "Hm"}
    refused = post(client, f"{ME}/passes/{grace_pass.reference}/return", write_key, body)
    assert refused.json() == example("/passes/{pass_id}/return", "post", "409")


# --- query counts ------------------------------------------------------------------------------
def _fill(offering: Offering, first: int, last: int) -> None:
    """Packages ``first`` to ``last - 1``, each with one pass (its grant in the ledger)."""
    for n in range(first, last):
        package = services.package_save(
            coach=offering.coach, name=f"P{n}", sessions=2, offerings=[offering], validity_days=30
        )
        _grant(package, f"c{n}@example.com")


@pytest.mark.parametrize("path", ["/packages", "/passes", "/clients"])
def test_the_lists_take_a_fixed_number_of_queries(
    client: Client, offering: Offering, read_key: str, path: str, django_assert_max_num_queries
) -> None:
    _fill(offering, 0, 3)
    get(client, ME + path, read_key)  # the token's first use records last_used_at once
    with django_assert_max_num_queries(4) as few:
        assert get(client, ME + path, read_key).status_code == HTTPStatus.OK
    _fill(offering, 3, 40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = get(client, ME + path, read_key, {"limit": 100})
    assert response.status_code == HTTPStatus.OK
    assert len(response.json()["items"]) == 40


# --- the bookings name their pass and its credit -------------------------------------------------
def test_the_bookings_name_their_pass_and_credit(
    client: Client, offering: Offering, grace_pass: Pass, book, read_key: str, write_key: str
) -> None:
    paid = book(client_pass=grace_pass)
    unpaid = book(SLOT + timedelta(hours=1), client_email="alan@example.com")
    items = {item["reference"]: item for item in get(client, f"{ME}/bookings", read_key).json()["items"]}
    assert (items[paid.reference]["pass"], items[paid.reference]["credit"]) == (grace_pass.reference, "used")
    assert (items[unpaid.reference]["pass"], items[unpaid.reference]["credit"]) == (None, None)
    one = get(client, f"{ME}/bookings/{paid.reference}", read_key).json()
    assert (one["pass"], one["credit"]) == (grace_pass.reference, "used")
    # The coach calls it off: the credit goes back, and the answer says so.
    cancelled = post(client, f"{ME}/bookings/{paid.reference}/cancel", write_key, {"reason": "Ill"})
    assert cancelled.status_code == HTTPStatus.OK, cancelled.content
    assert (cancelled.json()["pass"], cancelled.json()["credit"]) == (grace_pass.reference, "returned")
    grace_pass.refresh_from_db()
    assert grace_pass.remaining == 3
    assert PassEntry.objects.filter(booking=paid, kind="return").exists()


# --- fuzzing with a token: test_schemathesis.py runs without one, so it only sees 401s here -----
PRACTICE_OPERATIONS = [
    ("/api/v1/me/packages", "POST"),
    ("/api/v1/me/packages/{package_id}", "GET"),
    ("/api/v1/me/packages/{package_id}", "PATCH"),
    ("/api/v1/me/passes", "GET"),
    ("/api/v1/me/passes", "POST"),
    ("/api/v1/me/passes/{pass_id}", "GET"),
    ("/api/v1/me/passes/{pass_id}/adjust", "POST"),
    ("/api/v1/me/passes/{pass_id}/return", "POST"),
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
@pytest.mark.parametrize(("path", "method"), PRACTICE_OPERATIONS)
def test_no_request_with_a_token_breaks_the_contract(
    grace_pass: Pass, write_key: str, path: str, method: str
) -> None:
    """Generated bodies and parameters, valid and not, with a write token: a documented status
    and a body that matches the schema, never a 5xx; data the schema forbids is refused."""
    import hypothesis
    import schemathesis
    from hypothesis import HealthCheck
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

    from config.wsgi import application

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
            parameters = case.path_parameters or {}
            if len(str(parameters.get("pass_id", ""))) % 2:
                parameters["pass_id"] = grace_pass.reference  # reach a real pass, half the time
            case.headers = {**(case.headers or {}), **auth(write_key)}
            response = case.call()
            assert response.status_code < 500, case.as_curl_command()
            case.validate_response(response, excluded_checks=[positive_data_acceptance, ignored_auth])

        run()
