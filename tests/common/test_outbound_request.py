"""``common.outbound.request``: any method, redirects followed with the same method and body,
credentials never carried to another host, the size cap, and whatever status comes back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from common.outbound import OutboundError, request


@pytest.fixture
def servers(settings) -> Iterator[tuple[HTTPServer, HTTPServer]]:
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    first, second = HTTPServer(host="127.0.0.1", port=0), HTTPServer(host="127.0.0.1", port=0)
    first.start()
    second.start()
    try:
        yield first, second
    finally:
        first.clear()
        second.clear()
        first.stop()
        second.stop()


def call(url: str, **kwargs: object):  # type: ignore[no-untyped-def]
    defaults = {"headers": {"Authorization": "Basic secret"}, "deadline": 5.0, "max_bytes": 1000}
    return request("PROPFIND", url, body=b"<x/>", **{**defaults, **kwargs})


def test_a_redirect_keeps_the_method_and_body_on_the_same_host(servers) -> None:
    first, _ = servers
    first.expect_request("/.well-known/caldav", method="PROPFIND").respond_with_response(
        Response(status=301, headers={"Location": "/dav/"})
    )
    seen = {}

    def handler(req):  # type: ignore[no-untyped-def]
        seen.update(auth=req.headers.get("Authorization"), body=req.get_data())
        return Response("<ok/>", status=207)

    first.expect_request("/dav/", method="PROPFIND").respond_with_handler(handler)
    answered = call(first.url_for("/.well-known/caldav"))
    assert (answered.status, answered.body, answered.url) == (207, b"<ok/>", first.url_for("/dav/"))
    assert seen == {"auth": "Basic secret", "body": b"<x/>"}


def test_credentials_are_not_sent_to_another_host(servers) -> None:
    first, second = servers
    # Two loopback servers differ by port: another origin, as another host would be.
    first.expect_request("/", method="PROPFIND").respond_with_response(
        Response(status=307, headers={"Location": second.url_for("/elsewhere")})
    )
    seen = {}

    def handler(req):  # type: ignore[no-untyped-def]
        seen["auth"] = req.headers.get("Authorization")
        return Response("", status=207)

    second.expect_request("/elsewhere", method="PROPFIND").respond_with_handler(handler)
    assert call(first.url_for("/")).status == 207
    assert seen == {"auth": None}


def test_any_status_is_the_callers_and_the_size_cap_holds(servers) -> None:
    first, _ = servers
    first.expect_request("/gone", method="PROPFIND").respond_with_data("nope", status=404)
    first.expect_request("/big", method="PROPFIND").respond_with_data("x" * 5000, status=207)
    assert call(first.url_for("/gone")).status == 404
    with pytest.raises(OutboundError, match="larger than"):
        call(first.url_for("/big"))
