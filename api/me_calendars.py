"""The coach API's CalDAV calendars (/api/v1/me/calendars, issue 17): connect an account (its
calendars are found from the server's address or just its host), choose which calendars count as
busy and the one bookings are written into, sync now, disconnect. The app password goes in once
and never comes out: answers name the account by its server and username only."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import StrictBool, StrictInt

from api.auth import require_write, token_coach
from api.errors import field_error
from api.me_schemas import AUTH_ERRORS
from api.schemas import ErrorOut, Text
from coaching import caldav_services, tasks
from coaching.caldav import CalDavError
from coaching.models import CalDavAccount, Coach
from common.outbound import OutboundError, display_url
from common.queue import enqueue_on_commit

router = Router()

NOT_FOUND = "No calendar account of yours with this id."
EXAMPLE_ACCOUNT = {
    "id": 3,
    "server": "https://caldav.fastmail.com/…",
    "username": "dana@example.com",
    "status": "ok",
    "last_error": "",
    "block_all_day": True,
    "calendars": [
        {
            "id": 11,
            "name": "Work",
            "color": "#3a7bd5",
            "busy": True,
            "write_bookings": True,
            "last_synced_at": None,
        },
        {
            "id": 12,
            "name": "Family",
            "color": "",
            "busy": True,
            "write_bookings": False,
            "last_synced_at": None,
        },
    ],
}


class AccountIn(Schema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {"server": "caldav.fastmail.com", "username": "dana@example.com", "password": "app-password"}
            ]
        }
    }

    server: Text = Field(
        min_length=1, max_length=2000, description="The CalDAV server's address, or just its host"
    )
    username: Text = Field(min_length=1, max_length=200)
    password: Text = Field(min_length=1, max_length=500, description="An app password (stored encrypted)")


class ChoiceIn(Schema):
    model_config = {
        "json_schema_extra": {"examples": [{"busy": [11, 12], "write": 11, "block_all_day": True}]}
    }

    busy: list[StrictInt] = Field(
        max_length=500, description="The ids of the calendars whose events block your time"
    )
    write: StrictInt | None = Field(
        default=None, description="The calendar bookings are written into (null: none)"
    )
    block_all_day: StrictBool = Field(default=True, description="All-day events make the day busy")


class CalendarOut(Schema):
    id: int
    name: str
    color: str
    busy: bool
    write_bookings: bool
    last_synced_at: str | None


class AccountOut(Schema):
    model_config = {"json_schema_extra": {"examples": [EXAMPLE_ACCOUNT]}}

    id: int
    server: str = Field(description="The server's address, its path hidden")
    username: str
    status: str = Field(description="ok, or broken: the server refused the password; connect again")
    last_error: str
    block_all_day: bool
    calendars: list[CalendarOut]


class AccountListOut(Schema):
    model_config = {"json_schema_extra": {"examples": [{"items": [EXAMPLE_ACCOUNT]}]}}

    items: list[AccountOut]


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _out(account: CalDavAccount) -> dict[str, Any]:
    return {
        "id": account.pk,
        "server": display_url(account.server if "://" in account.server else f"https://{account.server}"),
        "username": account.username,
        "status": account.status,
        "last_error": account.last_error,
        "block_all_day": account.block_all_day,
        "calendars": [
            {
                "id": c.pk,
                "name": c.name,
                "color": c.color,
                "busy": c.busy,
                "write_bookings": c.write_bookings,
                "last_synced_at": _iso(c.last_synced_at),
            }
            for c in account.calendars.all()
        ],
    }


def _account_or_404(coach: Coach, account_id: int) -> CalDavAccount:
    account = CalDavAccount.objects.filter(coach=coach, pk=account_id).prefetch_related("calendars").first()
    if account is None:
        raise Http404(NOT_FOUND)
    return account


@router.get("", response={200: AccountListOut, **AUTH_ERRORS}, summary="Your CalDAV calendar accounts")
def list_accounts(request: HttpRequest):
    coach = token_coach(request)
    accounts = CalDavAccount.objects.filter(coach=coach).prefetch_related("calendars").order_by("pk")
    return {"items": [_out(a) for a in accounts]}


@router.post(
    "",
    response={201: AccountOut, 400: ErrorOut, 403: ErrorOut, **AUTH_ERRORS},
    summary="Connect a CalDAV account (iCloud, Fastmail, Nextcloud, ...)",
    description=(
        "Finds the account's calendars (the server's `/.well-known/caldav` when only a host is given). Every "
        "calendar counts as busy until you choose; none receives bookings until you pick one. A 422 names "
        "`password` when the server refused the sign-in, `server` when it could not be used."
    ),
)
def connect_account(request: HttpRequest, payload: AccountIn):
    coach = require_write(request)
    try:
        account = caldav_services.caldav_connect(
            coach=coach, server=payload.server, username=payload.username, password=payload.password
        )
    except CalDavError as exc:
        field = "password" if getattr(exc, "status", None) in (401, 403) else "server"
        raise field_error("body", field, exc.message) from exc
    except OutboundError as exc:
        raise field_error("body", "server", exc.message) from exc
    return Status(HTTPStatus.CREATED, _out(_account_or_404(coach, account.pk)))


@router.put(
    "/{account_id}",
    response={200: AccountOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, **AUTH_ERRORS},
    summary="Choose the busy calendars and the one bookings are written into",
)
def choose_calendars(request: HttpRequest, account_id: int, payload: ChoiceIn):
    account = _account_or_404(require_write(request), account_id)
    ids = {c.pk for c in account.calendars.all()}
    unknown = [pk for pk in payload.busy if pk not in ids]
    if unknown:
        raise field_error("body", "busy", f"No calendar {unknown[0]} in this account.")
    if payload.write is not None and payload.write not in ids:
        raise field_error("body", "write", f"No calendar {payload.write} in this account.")
    CalDavAccount.objects.filter(pk=account.pk).update(block_all_day=payload.block_all_day)
    caldav_services.caldav_calendars_choose(account=account, busy=set(payload.busy), write=payload.write)
    return _out(_account_or_404(account.coach, account.pk))


@router.post(
    "/{account_id}/sync",
    response={202: AccountOut, 403: ErrorOut, 404: ErrorOut, **AUTH_ERRORS},
    summary="Read the busy calendars again now (in the background)",
)
def sync_account(request: HttpRequest, account_id: int):
    account = _account_or_404(require_write(request), account_id)
    for calendar in account.calendars.all():
        if calendar.busy:
            enqueue_on_commit(tasks.sync_caldav_calendar, calendar.pk)
    return Status(HTTPStatus.ACCEPTED, _out(account))


@router.delete(
    "/{account_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut, **AUTH_ERRORS},
    summary="Disconnect the account (its busy time goes; nothing is written any more)",
)
def disconnect_account(request: HttpRequest, account_id: int):
    account = _account_or_404(require_write(request), account_id)
    caldav_services.caldav_account_remove(account=account)
    return Status(HTTPStatus.NO_CONTENT, None)
