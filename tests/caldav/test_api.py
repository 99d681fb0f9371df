"""``/api/v1/me/calendars`` against a real Radicale: connect (the password never comes back),
choose the busy calendars and the write calendar, sync now, disconnect; a refused password is a
422 on ``password``, an unusable server on ``server``; another coach's account is a 404."""

from __future__ import annotations

import json

import pytest

from coaching.models import BusyBlock, CalDavAccount
from tests.api.conftest import auth, get, post
from tests.caldav.conftest import PASSWORD, USER, Radicale
from tests.factories import CoachFactory
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]

URL = "/api/v1/me/calendars"


def test_connect_choose_sync_and_disconnect(
    client, radicale: Radicale, write_key: str, read_key: str, django_capture_on_commit_callbacks
) -> None:
    radicale.calendar("Work", "work").save_event(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20261120T000000Z\r\n"
        "DTSTART:20261202T150000Z\r\nDTEND:20261202T160000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    radicale.calendar("Family", "family")
    response = post(client, URL, write_key, {"server": radicale.url, "username": USER, "password": PASSWORD})
    assert response.status_code == 201, response.content
    account = response.json()
    assert PASSWORD not in response.content.decode()
    assert [(c["name"], c["busy"], c["write_bookings"]) for c in account["calendars"]] == [
        ("Family", True, False),
        ("Work", True, False),
    ]
    work = next(c["id"] for c in account["calendars"] if c["name"] == "Work")
    response = client.put(
        f"{URL}/{account['id']}",
        data=json.dumps({"busy": [work], "write": work, "block_all_day": False}),
        content_type="application/json",
        headers=auth(write_key),
    )
    assert response.status_code == 200, response.content
    assert [(c["name"], c["busy"], c["write_bookings"]) for c in response.json()["calendars"]] == [
        ("Family", False, False),
        ("Work", True, True),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, f"{URL}/{account['id']}/sync", write_key).status_code == 202
    assert BusyBlock.objects.filter(caldav_calendar_id=work).count() == 1
    assert get(client, URL, read_key).json()["items"][0]["id"] == account["id"]
    assert post(client, f"{URL}/{account['id']}/sync", read_key).status_code == 403
    assert client.delete(f"{URL}/{account['id']}", headers=auth(write_key)).status_code == 204
    assert not CalDavAccount.objects.exists() and not BusyBlock.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"password": "wrong"}, "password", "refused the username or password"),
        ({"server": "http://127.0.0.1:9/"}, "server", "refused the connection"),
        ({"server": "http://10.0.0.1/"}, "server", "private or local"),
    ],
)
def test_a_refused_or_unusable_account_is_a_422_naming_the_field(
    client, radicale: Radicale, write_key: str, body: dict[str, str], field: str, message: str
) -> None:
    sent = {"server": radicale.url, "username": USER, "password": PASSWORD, **body}
    response = post(client, URL, write_key, sent)
    assert response.status_code == 422, response.content
    [error] = response.json()["detail"]
    assert error["loc"][-1] == field and message in error["msg"]
    assert not CalDavAccount.objects.exists()


def test_another_coachs_account_is_not_found(client, radicale: Radicale, write_key: str) -> None:
    radicale.calendar("Work", "work")
    from coaching.caldav_services import caldav_connect

    theirs = caldav_connect(
        coach=CoachFactory(slug="other"), server=radicale.url, username=USER, password=PASSWORD
    )
    assert post(client, f"{URL}/{theirs.pk}/sync", write_key).status_code == 404
    assert client.delete(f"{URL}/{theirs.pk}", headers=auth(write_key)).status_code == 404
    response = client.put(
        f"{URL}/{theirs.pk}",
        data=json.dumps({"busy": []}),
        content_type="application/json",
        headers=auth(write_key),
    )
    assert response.status_code == 404
