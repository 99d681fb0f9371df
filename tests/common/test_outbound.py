"""The outbound guard refuses every address that leads into a private or local network."""

from __future__ import annotations

import ipaddress

import pytest

from common.outbound import OutboundError, address_allowed, check_public_url, embedded_ipv4, fetch, post

REFUSED = [
    "10.1.2.3",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",  # noqa: S104 - an address we refuse, not one we bind
    "224.0.0.1",
    "fd00::1",
    "fe80::1",
    "::",
    "::ffff:10.0.0.1",
    # NAT64 of loopback and of the cloud metadata address.
    "64:ff9b::7f00:1",
    "64:ff9b::a9fe:a9fe",
    # 6to4 of the metadata address.
    "2002:a9fe:a9fe::",
    # IPv4-compatible and SIIT-translated loopback.
    "::127.0.0.1",
    "::ffff:0:7f00:1",
    # Teredo (server 169.254.169.254), and Teredo in general: not globally routable.
    "2001:0:a9fe:a9fe::7f00:1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    # Local-use NAT64.
    "64:ff9b:1::808:808",
]
ALLOWED = ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"]


@pytest.mark.parametrize("address", REFUSED)
def test_it_refuses_internal_addresses_in_every_form(address: str) -> None:
    assert not address_allowed(address)
    assert not address_allowed(address, allow_loopback=True) or address in (
        "64:ff9b::7f00:1",
        "::127.0.0.1",
        "::ffff:0:7f00:1",
    )


@pytest.mark.parametrize("address", ALLOWED)
def test_it_allows_globally_routable_addresses(address: str) -> None:
    assert address_allowed(address)


def test_it_allows_loopback_only_when_told() -> None:
    assert not address_allowed("127.0.0.1") and not address_allowed("::1")
    assert address_allowed("127.0.0.1", allow_loopback=True) and address_allowed("::1", allow_loopback=True)


def test_it_finds_the_ipv4_inside_each_transition_form() -> None:
    def inner(text: str) -> list[str]:
        return [str(v4) for v4 in embedded_ipv4(ipaddress.IPv6Address(text))]

    assert inner("64:ff9b::a9fe:a9fe") == ["169.254.169.254"]
    assert inner("2002:a9fe:a9fe::") == ["169.254.169.254"]
    assert inner("::ffff:0:7f00:1") == ["127.0.0.1"]
    assert inner("2001:0:a9fe:a9fe::7f00:1")[0] == "169.254.169.254"
    assert inner("2606:4700::1111") == []


@pytest.mark.parametrize("address", ["64:ff9b::7f00:1", "2002:a9fe:a9fe::", "::ffff:0:7f00:1", "::127.0.0.1"])
def test_it_refuses_a_fetch_of_a_wrapped_internal_address_before_connecting(address: str) -> None:
    with pytest.raises(OutboundError, match="private or local network"):
        fetch(f"http://[{address}]/cal.ics", timeout=1, max_bytes=1024, headers={})


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://0x7f.1/hook",
        "http://2130706433/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest",
        "http://localhost:8000/",
        "https://printer.local/",
        "https://metadata.google.internal/",
    ],
)
def test_a_stored_address_is_refused_when_it_spells_an_internal_host(url: str) -> None:
    with pytest.raises(OutboundError, match="private or local network"):
        check_public_url(url)


def test_a_stored_address_with_a_public_name_is_kept_for_later_checks() -> None:
    # Not resolved now: the name is judged at every request, where it cannot be rebound.
    assert check_public_url("https://hooks.example.com/in") == "https://hooks.example.com/in"


def test_a_post_to_an_internal_address_is_refused_before_connecting() -> None:
    with pytest.raises(OutboundError, match="private or local network"):
        post("http://[::ffff:10.0.0.1]/hook", b"{}", headers={}, deadline=1, max_bytes=1024)
