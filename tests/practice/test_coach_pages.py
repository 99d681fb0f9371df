"""The coach's practice pages: packages (list, create, edit, retire), granting a pass with a
confirmation step, a pass's page (ledger, adjust, give back a forfeited credit), the passes
list with its filters, and the offering form's package settings.

Time is pinned at NOW (Tuesday 1 December 2026, 07:00 in New York); the ``package`` fixture is
three intro calls valid 30 days from the grant.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from booking.models import BookingEvent
from booking.services import booking_cancel
from coaching.models import Coach, Offering
from practice import selectors, services
from practice.models import Package, Pass, PassEntry
from practice.tokens import pass_token
from tests.factories import CoachFactory, OfferingFactory, UserFactory
from tests.support import NOW, SLOT, offering_data

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

Kind = PassEntry.Kind
PACKAGES = "/dashboard/packages/"
PASSES = "/dashboard/passes/"
GRANT = "/dashboard/passes/new/"


def html(response: Any) -> str:
    return response.content.decode()


def package_data(offering: Offering, **overrides: Any) -> dict[str, Any]:
    """The package form's POST, valid as it is."""
    data = {
        "name": "Six sessions",
        "description": "Over three months.",
        "offerings": [str(offering.pk)],
        "sessions": "6",
        "validity": "days",
        "validity_days": "90",
        "valid_until": "",
        "price_amount": "480",
        "price_currency": "eur",
    }
    data.update(overrides)
    return data


def pass_url(pass_obj: Pass, tail: str = "") -> str:
    return f"{PASSES}{pass_obj.reference}/{tail}"


@pytest.fixture
def other_coach(db: None) -> Coach:
    return CoachFactory(slug="hedy", user__email="hedy@example.com")


@pytest.fixture
def other_client(client: Client, other_coach: Coach) -> Client:
    client.force_login(other_coach.user)
    return client


# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------
class TestPackageList:
    def test_it_invites_the_first_package_when_there_is_none(self, coach_client: Client) -> None:
        page = html(coach_client.get(PACKAGES))
        assert "You have no packages yet." in page
        assert 'href="/dashboard/packages/new/"' in page

    def test_it_lists_what_each_package_is(self, coach_client: Client, package: Package, grant) -> None:
        grant()
        grant(to="alan@example.com")
        services.package_save(
            coach=package.coach,
            name="Winter",
            sessions=1,
            offerings=list(package.offerings.all()),
            valid_until=date(2027, 1, 31),
            price_amount=0,
            is_active=False,
        )
        page = html(coach_client.get(PACKAGES))
        assert "Three calls" in page and "3 sessions · 30 days from the grant" in page
        assert "Covers: Intro call" in page
        assert "2 passes granted" in page
        assert "until Sunday 31 January 2027 · Free" in page
        assert "Retired" in page and "No passes granted yet" in page
        assert f"/dashboard/passes/new/?package={package.pk}" in page

    def test_its_queries_do_not_grow_with_the_packages(
        self, coach_client: Client, offering: Offering, django_assert_max_num_queries
    ) -> None:
        for n in range(15):
            services.package_save(
                coach=offering.coach, name=f"P{n}", sessions=2, offerings=[offering], validity_days=10
            )
        with django_assert_max_num_queries(8):
            assert coach_client.get(PACKAGES).status_code == HTTPStatus.OK


class TestPackageForm:
    def test_it_creates_a_package_valid_for_days(self, coach_client: Client, offering: Offering) -> None:
        response = coach_client.post(f"{PACKAGES}new/", package_data(offering))
        assert response.status_code == HTTPStatus.FOUND and response["Location"] == PACKAGES
        package = Package.objects.get()
        assert (package.name, package.sessions, package.validity_days, package.valid_until) == (
            "Six sessions",
            6,
            90,
            None,
        )
        assert (str(package.price_amount), package.price_currency) == ("480.00", "EUR")
        assert list(package.offerings.all()) == [offering]

    def test_it_creates_a_package_with_a_fixed_last_day(
        self, coach_client: Client, offering: Offering
    ) -> None:
        data = package_data(offering, validity="date", validity_days="90", valid_until="2027-03-31")
        assert coach_client.post(f"{PACKAGES}new/", data).status_code == HTTPStatus.FOUND
        package = Package.objects.get()
        assert (package.validity_days, package.valid_until) == (None, date(2027, 3, 31))

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"offerings": []}, "Choose at least one of your calls the package covers."),
            ({"validity_days": ""}, "Say for how many days from the grant the package is valid."),
            ({"validity": "date", "valid_until": ""}, "Give the package&#x27;s last day."),
            ({"validity": "date", "valid_until": "2026-11-30"}, "This day has passed."),
            ({"validity": "date", "valid_until": "31/12/2026"}, "Enter a date like 2026-12-24."),
            ({"sessions": "0"}, "A package has at least 1 session."),
            ({"price_currency": ""}, "Say which currency the price is in"),
            ({"price_currency": "E1"}, "Use a three-letter currency code"),
            ({"name": ""}, "This field is required."),
        ],
    )
    def test_it_says_what_is_wrong(
        self, coach_client: Client, offering: Offering, overrides: dict[str, Any], message: str
    ) -> None:
        response = coach_client.post(f"{PACKAGES}new/", package_data(offering, **overrides))
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert message in html(response)
        assert not Package.objects.exists()

    def test_it_refuses_another_coachs_offering(
        self, coach_client: Client, offering: Offering, other_coach: Coach
    ) -> None:
        theirs = OfferingFactory(coach=other_coach, title="Hedy's call")
        response = coach_client.post(f"{PACKAGES}new/", package_data(offering, offerings=[str(theirs.pk)]))
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "Choose among your own calls." in html(response)
        assert "Hedy&#x27;s call" not in html(response)

    def test_it_edits_a_package_and_keeps_granted_passes_as_they_were(
        self, coach_client: Client, package: Package, grant, offering: Offering
    ) -> None:
        pass_obj = grant()
        page = html(coach_client.get(f"{PACKAGES}{package.pk}/"))
        assert 'value="Three calls"' in page and 'value="30"' in page
        data = package_data(offering, name="Five calls", sessions="5", price_amount="", price_currency="")
        assert coach_client.post(f"{PACKAGES}{package.pk}/", data).status_code == HTTPStatus.FOUND
        package.refresh_from_db()
        assert (package.name, package.sessions, package.price_amount) == ("Five calls", 5, None)
        pass_obj.refresh_from_db()
        assert (pass_obj.name, pass_obj.sessions) == ("Three calls", 3)

    def test_it_answers_404_for_another_coachs_package(self, other_client: Client, package: Package) -> None:
        assert other_client.get(f"{PACKAGES}{package.pk}/").status_code == HTTPStatus.NOT_FOUND
        data = package_data(package.offerings.get(), name="Stolen")
        assert other_client.post(f"{PACKAGES}{package.pk}/", data).status_code == HTTPStatus.NOT_FOUND
        assert other_client.post(f"{PACKAGES}{package.pk}/retire/").status_code == HTTPStatus.NOT_FOUND
        package.refresh_from_db()
        assert (package.name, package.is_active) == ("Three calls", True)


class TestRetire:
    def test_it_asks_before_retiring_and_reactivating(self, coach_client: Client, package: Package) -> None:
        page = html(coach_client.get(f"{PACKAGES}{package.pk}/retire/"))
        assert "Retire “Three calls”?" in page and "Passes already granted stay valid" in page
        package.refresh_from_db()
        assert package.is_active
        response = coach_client.post(f"{PACKAGES}{package.pk}/retire/", follow=True)
        assert "retired: it can no longer be granted" in html(response)
        package.refresh_from_db()
        assert not package.is_active
        assert "Reactivate “Three calls”?" in html(coach_client.get(f"{PACKAGES}{package.pk}/reactivate/"))
        coach_client.post(f"{PACKAGES}{package.pk}/reactivate/")
        package.refresh_from_db()
        assert package.is_active

    def test_a_retired_package_can_no_longer_be_granted(self, coach_client: Client, package: Package) -> None:
        services.package_set_active(package=package, active=False)
        data = {"package": package.pk, "client_email": "g@example.com", "client_name": "G", "confirm": "1"}
        response = coach_client.post(GRANT, data)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "Choose one of your active packages." in html(response)
        assert not Pass.objects.exists()


# ---------------------------------------------------------------------------
# Granting a pass
# ---------------------------------------------------------------------------
class TestGrant:
    def grant_data(self, of: Package, **overrides: str) -> dict[str, Any]:
        return {
            "package": str(of.pk),
            "client_email": " Grace@Example.com ",
            "client_name": "Grace Hopper",
            **overrides,
        }

    def test_the_package_list_fills_in_the_package(self, coach_client: Client, package: Package) -> None:
        page = html(coach_client.get(f"{GRANT}?package={package.pk}"))
        assert f'<option value="{package.pk}" selected>Three calls (3 sessions)</option>' in page

    def test_a_clients_page_fills_in_the_client(self, coach_client: Client, package: Package, grant) -> None:
        client = grant().client
        page = html(coach_client.get(f"{GRANT}?client={client.pk}"))
        assert 'value="grace@example.com"' in page and 'value="Grace Hopper"' in page

    def test_another_coachs_client_fills_in_nothing(
        self, other_client: Client, other_coach: Coach, grant
    ) -> None:
        client = grant().client
        OfferingFactory(coach=other_coach)
        page = html(other_client.get(f"{GRANT}?client={client.pk}&package=x"))
        assert "grace@example.com" not in page

    def test_it_shows_what_the_client_receives_before_granting(
        self, coach_client: Client, package: Package
    ) -> None:
        response = coach_client.post(GRANT, self.grant_data(package))
        assert response.status_code == HTTPStatus.OK
        page = html(response)
        assert "Grant “Three calls” to Grace Hopper?" in page
        assert "3 sessions" in page and "Intro call" in page
        # 30 days from NOW, in New York.
        assert "Thursday 31 December 2026, 07:00" in page
        assert not Pass.objects.exists()
        # "Change" goes back to the form, filled in.
        page = html(coach_client.post(GRANT, {**self.grant_data(package), "edit": "1"}))
        assert 'value="Grace Hopper"' in page and "Continue" in page
        assert not Pass.objects.exists()

    def test_it_grants_the_pass_and_shows_its_link(self, coach_client: Client, package: Package) -> None:
        response = coach_client.post(GRANT, {**self.grant_data(package), "confirm": "1"})
        pass_obj = Pass.objects.get()
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == pass_url(pass_obj)
        assert (pass_obj.client.email, pass_obj.remaining) == ("grace@example.com", 3)
        page = html(coach_client.get(response["Location"]))
        assert "Pass granted: Grace Hopper has 3 sessions of “Three calls”." in page
        assert f"/passes/{pass_token(pass_obj)}/" in page

    def test_it_says_an_existing_client_is_known(self, coach_client: Client, package: Package, grant) -> None:
        grant()
        page = html(coach_client.post(GRANT, self.grant_data(package, client_name="Grace H.")))
        assert "is already your client, as “Grace Hopper”" in page

    def test_a_package_whose_last_day_passed_is_refused(
        self, coach_client: Client, offering: Offering
    ) -> None:
        old = services.package_save(
            coach=offering.coach,
            name="Autumn",
            sessions=2,
            offerings=[offering],
            valid_until=date(2026, 11, 30),
        )
        for extra in ({}, {"confirm": "1"}):
            response = coach_client.post(GRANT, {**self.grant_data(old), **extra})
            assert response.status_code == HTTPStatus.BAD_REQUEST
            assert "This package&#x27;s last day has passed." in html(response)
        assert not Pass.objects.exists()

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"client_email": "not an email"}, "Enter an email address."),
            ({"client_email": ""}, "Give the client&#x27;s email address."),
            ({"client_name": ""}, "Give the client&#x27;s name."),
            ({"package": "999999"}, "Choose one of your active packages."),
            ({"package": "x"}, "Choose one of your active packages."),
        ],
    )
    def test_it_says_what_is_wrong(
        self, coach_client: Client, package: Package, overrides: dict[str, str], message: str
    ) -> None:
        response = coach_client.post(GRANT, {**self.grant_data(package, **overrides), "confirm": "1"})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert message in html(response)
        assert not Pass.objects.exists()

    def test_another_coachs_package_cannot_be_granted(
        self, other_client: Client, other_coach: Coach, package: Package
    ) -> None:
        OfferingFactory(coach=other_coach)
        services.package_save(
            coach=other_coach,
            name="Hedy's",
            sessions=1,
            offerings=[other_coach.offerings.get()],
            validity_days=5,
        )
        response = other_client.post(GRANT, {**self.grant_data(package), "confirm": "1"})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert not Pass.objects.exists()

    def test_without_an_active_package_it_invites_one(self, coach_client: Client, offering: Offering) -> None:
        page = html(coach_client.get(GRANT))
        assert "You have no active package to grant." in page


# ---------------------------------------------------------------------------
# A pass's page
# ---------------------------------------------------------------------------
@pytest.fixture
def used_pass(grant, book) -> tuple[Pass, Any]:
    """Grace's pass: one session booked at SLOT and cancelled late by her (forfeited)."""
    pass_obj = grant()
    booking = book(client_pass=pass_obj)
    booking_cancel(booking=booking, by=BookingEvent.Actor.CLIENT, now=SLOT - timedelta(hours=2))
    pass_obj.refresh_from_db()
    return pass_obj, booking


class TestPassPage:
    def test_it_shows_the_balance_the_link_and_the_ledger_in_the_coachs_zone(
        self, coach_client: Client, used_pass
    ) -> None:
        pass_obj, booking = used_pass
        page = html(coach_client.get(pass_url(pass_obj)))
        assert "2 of 3</strong> sessions left" in page
        assert "Thursday 31 December 2026, 07:00" in page
        assert f"/passes/{pass_token(pass_obj)}/" in page
        rows = re.findall(r'<tr id="entry-\d+">(.*?)</tr>', page, re.S)
        assert [re.search(r"<td>(\w+)", row).group(1) for row in rows] == ["Granted", "Used", "Forfeited"]
        assert "Tuesday 1 December 2026, 07:00" in rows[0]
        # The cancellation, 2 hours before the 10:00 call in New York.
        assert "Wednesday 2 December 2026, 08:00" in rows[2]
        assert f'href="/dashboard/bookings/{booking.reference}/"' in rows[1]
        assert "+3" in rows[0] and "-1" in rows[1] and "Client" in rows[1]
        assert "Give back this session" in rows[2] and "Give back" not in rows[1]
        assert f"/dashboard/clients/{pass_obj.client_id}/" in page

    def test_a_late_return_is_marked_late(
        self, coach_client: Client, grant, book, offering: Offering
    ) -> None:
        offering.late_cancel_credit = Offering.LateCancelCredit.RETURN_LATE
        offering.save()
        pass_obj = grant()
        booking_cancel(
            booking=book(client_pass=pass_obj), by=BookingEvent.Actor.CLIENT, now=SLOT - timedelta(hours=1)
        )
        page = html(coach_client.get(pass_url(pass_obj)))
        assert 'Returned <span class="badge badge-warning">Late</span>' in page

    def test_it_adds_and_takes_away_sessions_with_a_reason(self, coach_client: Client, grant) -> None:
        pass_obj = grant()
        response = coach_client.post(
            pass_url(pass_obj, "adjust/"), {"amount": "2", "reason": "A gift"}, follow=True
        )
        assert "Added 2 sessions." in html(response)
        coach_client.post(pass_url(pass_obj, "adjust/"), {"amount": "-1", "reason": "Double booking"})
        pass_obj.refresh_from_db()
        assert pass_obj.remaining == 4
        entries = list(pass_obj.entries.filter(kind=Kind.ADJUST).values_list("amount", "reason", "actor"))
        assert entries == [(2, "A gift", "coach"), (-1, "Double booking", "coach")]

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (
                {"amount": "-4", "reason": "Oops"},
                "The pass has 3 sessions left; you can&#x27;t remove more than that.",
            ),
            ({"amount": "0", "reason": "Nothing"}, "Add or remove at least one session."),
            ({"amount": "two", "reason": "Typo"}, "Enter a whole number"),
            ({"amount": "1", "reason": "  "}, "Say why: the client sees it"),
        ],
    )
    def test_a_bad_adjustment_says_why_and_changes_nothing(
        self, coach_client: Client, grant, data: dict[str, str], message: str
    ) -> None:
        pass_obj = grant()
        response = coach_client.post(pass_url(pass_obj, "adjust/"), data)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert message in html(response)
        pass_obj.refresh_from_db()
        assert pass_obj.remaining == 3 and not pass_obj.entries.filter(kind=Kind.ADJUST).exists()

    def test_it_gives_back_a_forfeited_credit_once_with_a_reason(
        self, coach_client: Client, used_pass
    ) -> None:
        pass_obj, booking = used_pass
        forfeit = pass_obj.entries.get(kind=Kind.FORFEIT)
        url = pass_url(pass_obj, f"forfeits/{forfeit.pk}/give-back/")
        field = f"entry{forfeit.pk}-reason"
        response = coach_client.post(url, {field: " "})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "Say why the credit is given back" in html(response)
        response = coach_client.post(url, {field: "She was ill"}, follow=True)
        assert "The session is back on the pass." in html(response)
        pass_obj.refresh_from_db()
        assert pass_obj.remaining == 3
        back = pass_obj.entries.get(kind=Kind.RETURN)
        assert (back.booking_id, back.reason, back.actor) == (booking.pk, "She was ill", "coach")
        assert "Give back this session" not in html(response)
        again = coach_client.post(url, {field: "Twice?"})
        assert again.status_code == HTTPStatus.BAD_REQUEST
        assert "already been given back" in html(again)
        assert pass_obj.entries.filter(kind=Kind.RETURN).count() == 1

    def test_only_a_forfeit_entry_can_be_given_back(self, coach_client: Client, used_pass) -> None:
        pass_obj, _ = used_pass
        use = pass_obj.entries.get(kind=Kind.USE)
        response = coach_client.post(
            pass_url(pass_obj, f"forfeits/{use.pk}/give-back/"), {f"entry{use.pk}-reason": "x"}
        )
        assert response.status_code == HTTPStatus.NOT_FOUND

    def test_another_coachs_pass_is_not_found(self, other_client: Client, used_pass) -> None:
        pass_obj, _ = used_pass
        forfeit = pass_obj.entries.get(kind=Kind.FORFEIT)
        assert other_client.get(pass_url(pass_obj)).status_code == HTTPStatus.NOT_FOUND
        assert (
            other_client.post(pass_url(pass_obj, "adjust/"), {"amount": "5", "reason": "x"}).status_code
            == HTTPStatus.NOT_FOUND
        )
        give_back = pass_url(pass_obj, f"forfeits/{forfeit.pk}/give-back/")
        assert (
            other_client.post(give_back, {f"entry{forfeit.pk}-reason": "x"}).status_code
            == HTTPStatus.NOT_FOUND
        )
        pass_obj.refresh_from_db()
        assert pass_obj.remaining == 2

    def test_an_unknown_reference_is_not_found(self, coach_client: Client) -> None:
        for reference in ("PS-NOPE0000", "x" * 300, "PS-%00"):
            assert coach_client.get(f"{PASSES}{reference}/").status_code == HTTPStatus.NOT_FOUND

    def test_the_ledgers_queries_do_not_grow_with_its_entries(
        self, coach_client: Client, grant, django_assert_max_num_queries
    ) -> None:
        pass_obj = grant()
        for n in range(12):
            services.pass_adjust(pass_obj=pass_obj, amount=1, reason=f"gift {n}")
        with django_assert_max_num_queries(8):
            assert coach_client.get(pass_url(pass_obj)).status_code == HTTPStatus.OK


# ---------------------------------------------------------------------------
# The passes list
# ---------------------------------------------------------------------------
@pytest.fixture
def passes(offering: Offering, package: Package, grant) -> dict[str, Pass]:
    """One pass in each state: active, expiring within 14 days, expired, used up."""
    short = services.package_save(
        coach=offering.coach, name="Short", sessions=1, offerings=[offering], validity_days=10
    )
    active = grant(to="active@example.com")
    expiring = grant(to="expiring@example.com", of=short)
    expired = grant(to="expired@example.com", at=NOW - timedelta(days=40))
    used = grant(to="used@example.com")
    services.pass_adjust(pass_obj=used, amount=-3, reason="Settled")
    return {"active": active, "expiring": expiring, "expired": expired, "used": used}


def listed(page: str) -> list[str]:
    return re.findall(r'href="/dashboard/passes/(PS-[0-9A-Z]+)/"', page)


class TestPassList:
    def test_it_invites_the_first_grant(self, coach_client: Client) -> None:
        page = html(coach_client.get(PASSES))
        assert "You haven't granted any passes yet." in page

    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            ("active", ["expiring", "active"]),
            ("expiring", ["expiring"]),
            ("expired", ["expired"]),
            ("used", ["used"]),
        ],
    )
    def test_it_filters_by_state(
        self, coach_client: Client, passes: dict[str, Pass], status: str, expected: list[str]
    ) -> None:
        page = html(coach_client.get(f"{PASSES}?status={status}"))
        assert listed(page) == [passes[name].reference for name in expected]

    def test_it_lists_all_newest_first_with_their_state(
        self, coach_client: Client, passes: dict[str, Pass]
    ) -> None:
        page = html(coach_client.get(PASSES))
        assert set(listed(page)) == {p.reference for p in passes.values()}
        for label in ("Active", "Expiring soon", "Expired", "Used up"):
            assert f">{label}</span>" in page

    def test_it_searches_by_client_name_or_email(self, coach_client: Client, passes: dict[str, Pass]) -> None:
        assert listed(html(coach_client.get(f"{PASSES}?q=EXPIRING@"))) == [passes["expiring"].reference]
        assert len(listed(html(coach_client.get(f"{PASSES}?q=grace+hopper")))) == 4
        assert "No passes match “nobody”" in html(coach_client.get(f"{PASSES}?q=nobody"))

    def test_bad_filters_show_everything_instead_of_failing(
        self, coach_client: Client, passes: dict[str, Pass]
    ) -> None:
        for query in ("?status=bogus", "?q=%00", "?page=999", "?page=x", "?q=" + "a" * 500):
            assert coach_client.get(PASSES + query).status_code == HTTPStatus.OK

    def test_it_pages_and_keeps_the_filter(self, coach_client: Client, package: Package, grant) -> None:
        for n in range(27):
            grant(to=f"c{n}@example.com")
        page = html(coach_client.get(f"{PASSES}?status=active"))
        assert len(listed(page)) == 25
        assert 'href="?page=2&amp;status=active"' in page
        assert len(listed(html(coach_client.get(f"{PASSES}?status=active&page=2")))) == 2

    def test_it_shows_only_the_coachs_own_passes(self, other_client: Client, passes: dict[str, Pass]) -> None:
        assert listed(html(other_client.get(PASSES))) == []

    def test_its_queries_do_not_grow_with_the_passes(
        self, coach_client: Client, grant, django_assert_max_num_queries
    ) -> None:
        for n in range(20):
            grant(to=f"c{n}@example.com")
        with django_assert_max_num_queries(7):
            assert coach_client.get(PASSES).status_code == HTTPStatus.OK


class TestExpiringSelector:
    def test_it_lists_passes_with_sessions_left_ending_within_the_days(
        self, coach, passes: dict[str, Pass], other_coach: Coach, django_assert_num_queries
    ) -> None:
        with django_assert_num_queries(1):
            found = [(p.reference, p.client.email) for p in selectors.passes_expiring(coach=coach, now=NOW)]
        assert found == [(passes["expiring"].reference, "expiring@example.com")]
        later = [p.pk for p in selectors.passes_expiring(coach=coach, now=NOW, days=31)]
        assert later == [passes["expiring"].pk, passes["active"].pk]
        assert not selectors.passes_expiring(coach=other_coach, now=NOW, days=365).exists()


# ---------------------------------------------------------------------------
# Who may open the pages
# ---------------------------------------------------------------------------
def test_people_without_a_coach_profile_are_refused_and_visitors_sent_to_sign_in(
    client: Client, package: Package, grant
) -> None:
    pass_obj = grant()
    urls = [
        PACKAGES,
        f"{PACKAGES}new/",
        f"{PACKAGES}{package.pk}/",
        f"{PACKAGES}{package.pk}/retire/",
        PASSES,
        GRANT,
        pass_url(pass_obj),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND and response["Location"].startswith(
            "/accounts/login/"
        )
    client.force_login(UserFactory(email="cleo@example.com"))
    for url in urls:
        assert client.get(url).status_code == HTTPStatus.FORBIDDEN
    response = client.post(pass_url(pass_obj, "adjust/"), {"amount": "9", "reason": "x"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert client.post(f"{PACKAGES}{package.pk}/retire/").status_code == HTTPStatus.FORBIDDEN
    package.refresh_from_db()
    pass_obj.refresh_from_db()
    assert package.is_active and pass_obj.remaining == 3


# ---------------------------------------------------------------------------
# The offering form's package settings
# ---------------------------------------------------------------------------
def test_the_offering_form_sets_the_late_credit_and_package_only(
    coach_client: Client, offering: Offering
) -> None:
    url = f"/dashboard/offerings/{offering.pk}/"
    page = html(coach_client.get(url))
    assert "The session goes back on the package, marked late" in page
    assert "Bookable only with a package" in page
    data = offering_data(slug="intro-call", late_cancel_credit="return_late", package_only="on")
    assert coach_client.post(url, data).status_code == HTTPStatus.FOUND
    offering.refresh_from_db()
    assert (offering.late_cancel_credit, offering.package_only) == ("return_late", True)
    response = coach_client.post(url, offering_data(slug="intro-call", late_cancel_credit="sometimes"))
    assert "Select a valid choice." in html(response)
