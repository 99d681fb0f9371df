"""Connecting a coach's CalDAV account against a real Radicale: from the server's address (or
its /.well-known/caldav, which redirects), the calendars that hold events with their sync state, and clear
errors for a wrong password, a server that is gone, and an address that is no CalDAV server."""

from __future__ import annotations

import pytest

from coaching.caldav import CalDavError, discover, server_url
from common.outbound import OutboundError
from tests.caldav.conftest import PASSWORD, USER, Radicale


def test_the_servers_address_alone_finds_the_accounts_calendars(radicale: Radicale) -> None:
    radicale.calendar("Work", "work")
    radicale.calendar("Family", "family")
    todo = (
        radicale.client()
        .principal()
        .make_calendar(name="Chores", cal_id="chores", supported_calendar_component_set=["VTODO"])
    )
    assert todo is not None
    account, calendars = discover(radicale.url, username=USER, password=PASSWORD)
    assert account.home_url == f"{radicale.url}/{USER}/"
    assert [(c.name, c.url) for c in calendars] == [
        ("Family", f"{radicale.url}/{USER}/family/"),
        ("Work", f"{radicale.url}/{USER}/work/"),
    ]
    assert all(c.sync_token and c.ctag for c in calendars)


def test_the_well_known_address_is_followed(radicale: Radicale) -> None:
    radicale.calendar("Work", "work")
    _, calendars = discover(f"{radicale.url}/.well-known/caldav", username=USER, password=PASSWORD)
    assert [c.name for c in calendars] == ["Work"]


def test_a_wrong_password_is_named(radicale: Radicale) -> None:
    with pytest.raises(CalDavError, match="refused the username or password"):
        discover(radicale.url, username=USER, password="wrong")


def test_a_server_that_is_gone_is_reported(radicale: Radicale, settings) -> None:
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    with pytest.raises(OutboundError, match="refused the connection"):
        discover("http://127.0.0.1:9/", username=USER, password=PASSWORD)


def test_internal_addresses_are_refused(settings) -> None:
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    with pytest.raises(OutboundError, match="private or local"):
        discover("http://127.0.0.1:5232/", username=USER, password=PASSWORD)


def test_a_host_gets_https() -> None:
    assert server_url("caldav.example.com") == "https://caldav.example.com/"
    assert server_url(" https://dav.example.com/dav/ ") == "https://dav.example.com/dav/"


def test_an_xml_bomb_is_refused_not_expanded(settings) -> None:
    from pytest_httpserver import HTTPServer

    settings.OUTBOUND_ALLOW_LOOPBACK = True
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><d:multistatus xmlns:d="DAV:"><d:response>'
        "<d:href>&c;</d:href></d:response></d:multistatus>"
    )
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        server.expect_request("/", method="PROPFIND").respond_with_data(bomb, status=207)
        with pytest.raises(CalDavError, match="could not be read"):
            discover(server.url_for("/"), username=USER, password=PASSWORD)
    finally:
        server.stop()
