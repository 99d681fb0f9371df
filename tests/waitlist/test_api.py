"""``POST /api/v1/waitlist``: 201 and one confirmation email; bad input is a 422 naming the field."""

from __future__ import annotations

import pytest

from booking.models import WaitlistEntry
from coaching.models import Offering
from tests.support import NOW
from tests.waitlist.conftest import DAY

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

URL = "/api/v1/waitlist"


def body(**overrides: object) -> dict[str, object]:
    return {
        "coach": "ada",
        "offering": "intro-call",
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "timezone": "Europe/Berlin",
        "from": DAY.isoformat(),
        "to": DAY.isoformat(),
        **overrides,
    }


def test_it_joins_unconfirmed_and_sends_one_confirmation(
    client, offering: Offering, full_day, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, body(), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "confirmation-sent"
    entry = WaitlistEntry.objects.get()
    assert (entry.status, entry.time_zone, str(entry.date_from), str(entry.date_to)) == (
        "unconfirmed",
        "Europe/Berlin",
        "2026-12-02",
        "2026-12-02",
    )
    assert len(mailoutbox) == 1 and "Please confirm" in mailoutbox[0].subject


def test_the_answer_is_the_same_for_an_address_already_on_the_list(
    client, offering: Offering, full_day
) -> None:
    first = client.post(URL, body(), content_type="application/json")
    second = client.post(URL, body(), content_type="application/json")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"coach": "nobody"}, "coach"),
        ({"offering": "nothing"}, "offering"),
        ({"from": "2026-12-05", "to": "2026-12-02"}, "to"),
        ({"from": "2026-11-01", "to": "2026-11-02"}, "to"),
        ({"from": "02/12/2026"}, "from"),
        ({"from": "2026-02-30"}, "from"),
        ({"to": 20261204}, "to"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"email": "grace@[127.0.0.1]"}, "email"),
        ({"name": "  "}, "name"),
        ({"name": "Grace\x00"}, "name"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, offering: Offering, overrides, field: str) -> None:
    response = client.post(URL, body(**overrides), content_type="application/json")
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"][-1] == field
    assert not WaitlistEntry.objects.exists()


def test_a_package_only_call_has_no_waitlist(client, offering: Offering) -> None:
    offering.package_only = True
    offering.save(update_fields=["package_only"])
    response = client.post(URL, body(), content_type="application/json")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == "offering"


def test_days_with_free_times_can_be_waited_for_too(client, offering: Offering) -> None:
    """The contract's 201 whatever the days: only times that free up later are offered."""
    response = client.post(URL, body(to="2026-12-04"), content_type="application/json")
    assert response.status_code == 201, response.content


def test_joining_is_rate_limited(client, offering: Offering, full_day, settings) -> None:
    settings.WAITLIST_JOIN_RATE = "2/m"
    codes = [
        client.post(URL, body(email=f"p{n}@example.com"), content_type="application/json").status_code
        for n in range(3)
    ]
    assert codes == [201, 201, 429]
