"""Personal access tokens: the dashboard page (create once, revoke) and create_api_token."""

from __future__ import annotations

import hashlib
from http import HTTPStatus
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from coaching.models import ApiToken, Coach
from coaching.services import api_token_create
from tests.factories import CoachFactory
from tests.support import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW)]

LIST = "/dashboard/api-tokens/"
NEW = "/dashboard/api-tokens/new/"


def api_status(client: Client, key: str) -> int:
    return client.get("/api/v1/me/bookings", headers={"Authorization": f"Bearer {key}"}).status_code


def test_the_empty_list_says_so_and_explains(coach_client: Client) -> None:
    response = coach_client.get(LIST)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "No tokens yet" in html
    assert 'href="/api/v1/docs"' in html
    assert "Read only" in html and "Read and write" in html
    # The nav link, marked as the current page.
    assert f'href="{LIST}" aria-current="page"' in html


def test_creating_shows_the_token_once_and_stores_only_its_hash(coach_client: Client, coach: Coach) -> None:
    response = coach_client.post(NEW, {"name": "  CRM   sync ", "scope": "write"})
    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(coach=coach)
    key = response.context["key"]
    assert key.startswith("cc_")
    html = response.content.decode()
    assert key in html
    assert "won't be shown again" in html
    assert token.name == "CRM sync"
    assert token.scope == ApiToken.Scope.WRITE
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {token.prefix, token.key_hash, token.name}
    # Neither the session nor any later page holds it.
    assert key not in str(dict(coach_client.session))
    listing = coach_client.get(LIST).content.decode()
    assert key not in listing
    assert f"{token.prefix}…" in listing and "CRM sync" in listing and "never used" in listing
    # And it works.
    assert api_status(Client(), key) == HTTPStatus.OK


@pytest.mark.parametrize(
    ("data", "field"), [({"name": "", "scope": "read"}, "name"), ({"name": "x", "scope": "admin"}, "scope")]
)
def test_a_bad_form_is_a_400_naming_the_problem(coach_client: Client, coach: Coach, data, field: str) -> None:
    response = coach_client.post(NEW, data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.context["form"].errors
    assert not ApiToken.objects.filter(coach=coach).exists()


def test_revoking_asks_first_then_stops_the_token(coach_client: Client, coach: Coach) -> None:
    token, key = api_token_create(coach=coach, name="Zapier", scope="read")
    url = f"/dashboard/api-tokens/{token.pk}/revoke/"
    confirm = coach_client.get(url)
    assert confirm.status_code == HTTPStatus.OK
    assert "Revoke token" in confirm.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None  # the GET changed nothing
    assert api_status(Client(), key) == HTTPStatus.OK

    response = coach_client.post(url)
    assert response.status_code == HTTPStatus.FOUND
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_status(Client(), key) == HTTPStatus.UNAUTHORIZED
    assert "Revoked" in coach_client.get(LIST).content.decode()


def test_another_coachs_token_is_a_404(coach_client: Client) -> None:
    theirs, key = api_token_create(coach=CoachFactory(), name="Theirs", scope="write")
    url = f"/dashboard/api-tokens/{theirs.pk}/revoke/"
    assert coach_client.get(url).status_code == HTTPStatus.NOT_FOUND
    assert coach_client.post(url).status_code == HTTPStatus.NOT_FOUND
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert "Theirs" not in coach_client.get(LIST).content.decode()


def test_the_pages_need_a_signed_in_coach(client_user_client: Client) -> None:
    assert Client().get(LIST).status_code == HTTPStatus.FOUND  # to the login page
    assert client_user_client.get(LIST).status_code == HTTPStatus.FORBIDDEN


# --- manage.py create_api_token --------------------------------------------------------------
def test_the_command_prints_only_a_working_token(client: Client, coach: Coach) -> None:
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_token", "--coach", "ada", "--name", "Backup", "--scope", "write", stdout=out, stderr=err
    )
    key = out.getvalue().strip()
    assert out.getvalue() == key + "\n"
    assert key.startswith("cc_")
    assert key not in err.getvalue()
    token = ApiToken.objects.get(coach=coach)
    assert (token.name, token.scope) == ("Backup", "write")
    assert api_status(client, key) == HTTPStatus.OK


def test_the_command_defaults_to_a_read_token(coach: Coach) -> None:
    call_command("create_api_token", "--coach", "ada", stdout=StringIO(), stderr=StringIO())
    assert ApiToken.objects.get(coach=coach).scope == ApiToken.Scope.READ


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--coach", "nobody"], "no coach"),
        (["--coach", "a\x00b"], "no coach"),
        (["--coach", "ada", "--scope", "admin"], "read or write"),
    ],
)
def test_the_command_refuses_bad_arguments(coach: Coach, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", *args, stdout=StringIO(), stderr=StringIO())
    assert not ApiToken.objects.exists()
