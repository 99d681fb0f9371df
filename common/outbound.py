"""Outbound HTTP to addresses that coaches give us (busy feeds, webhooks, CalDAV servers).

One guarded client: http(s) only, every hop's addresses checked and the connection pinned
to them (no internal addresses), a timeout per operation, an overall deadline and a size
cap (docs/architecture.md, "Outbound requests"). Every failure is an ``OutboundError``
whose message is safe to show: it never quotes the address, which may be a secret.
"""

from __future__ import annotations

import http.client
import ipaddress
import math
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from common.errors import UserFacingError

MAX_REDIRECTS = 3
# The whole fetch, redirects and a slow trickle of bytes included, ends by then.
DEADLINE_FACTOR = 3
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class OutboundError(UserFacingError):
    """A remote that cannot be used or read; ``message`` is safe to show (no address in it)."""


@dataclass(frozen=True)
class Fetched:
    status: int  # 200, or 304 for "not modified"
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""


def check_url(url: str, *, what: str = "web") -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an address we may fetch, or OutboundError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundError("This is not a valid web address.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise OutboundError(f"Only http:// and https:// {what} addresses can be used.")
    host = parts.hostname
    if not host:
        raise OutboundError("This address has no host name.")
    if parts.username or parts.password:
        raise OutboundError("Addresses with a user name or password in them are not supported.")
    return scheme, host, port or (443 if scheme == "https" else 80)


# IPv6 forms that carry an IPv4 address in their last 32 bits: mapped (::ffff:a.b.c.d),
# "compatible" (::a.b.c.d), SIIT-translated (::ffff:0:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d).
_LAST_32_BITS = tuple(
    ipaddress.IPv6Network(net) for net in ("::ffff:0:0/96", "::/96", "::ffff:0:0:0/96", "64:ff9b::/96")
)
# The first three are IPv4 in IPv6 clothing: the IPv4 inside alone decides.
_IPV4_ONLY = _LAST_32_BITS[:3]
# Not globally routable, though Python's registry (3.11) does not say so: local-use NAT64 (RFC 8215).
_NOT_GLOBAL = (ipaddress.IPv6Network("64:ff9b:1::/48"),)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 transition form leads to (mapped, compatible, SIIT, NAT64, 6to4, Teredo)."""
    if any(ip in net for net in _LAST_32_BITS):
        return [ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    return []


def _ipv4_allowed(ip: ipaddress.IPv4Address, *, allow_loopback: bool) -> bool:
    if ip.is_loopback:
        return allow_loopback
    return ip.is_global and not ip.is_multicast


def address_allowed(address: str, *, allow_loopback: bool = False) -> bool:
    """Whether we may connect to this IP address: globally routable ones only (loopback if allowed).

    An IPv6 address that wraps an IPv4 one is judged by the IPv4 inside as well, so no
    transition form (NAT64, 6to4, Teredo, mapped, ...) reaches an internal address.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv4Address):
        return _ipv4_allowed(ip, allow_loopback=allow_loopback)
    if ip.is_loopback:
        return allow_loopback
    inner = embedded_ipv4(ip)
    if not all(_ipv4_allowed(v4, allow_loopback=allow_loopback) for v4 in inner):
        return False
    if inner and any(ip in net for net in _IPV4_ONLY):
        return True
    return ip.is_global and not ip.is_multicast and not any(ip in net for net in _NOT_GLOBAL)


def resolve(host: str, port: int, *, what: str = "web", allow_loopback: bool | None = None) -> list[str]:
    """The host's addresses, to connect to; refuses the host if any of them is not allowed."""
    if allow_loopback is None:
        allow_loopback = loopback_allowed()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundError(f"The {what}'s host name could not be found.") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise OutboundError(f"The {what}'s host name could not be found.")
    if not all(address_allowed(address, allow_loopback=allow_loopback) for address in addresses):
        raise OutboundError("This address points to a private or local network, which is not allowed.")
    return addresses


class _DeadlineExceeded(TimeoutError):
    """The whole exchange ran past its deadline (a server trickling bytes, slow redirects)."""


class _ConnectTimeout(TimeoutError):
    """No checked address accepted a connection in time."""


class _Deadline:
    """Each blocking socket operation waits at most the per-operation timeout and never
    past the exchange's deadline, so a server sending one byte a second cannot stretch it."""

    _deadline: float = math.inf
    _op_timeout: float | None = None

    def _arm(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise _DeadlineExceeded("deadline")
        op = self._op_timeout
        self.settimeout(remaining if op is None else min(op, remaining))  # type: ignore[attr-defined]

    def _within(self, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self._arm()
        try:
            return operation(*args, **kwargs)
        except TimeoutError as exc:
            if time.monotonic() >= self._deadline:
                raise _DeadlineExceeded("deadline") from exc
            raise

    def recv(self, *args: Any, **kwargs: Any) -> Any:
        return self._within(super().recv, *args, **kwargs)  # type: ignore[misc]

    def recv_into(self, *args: Any, **kwargs: Any) -> Any:
        return self._within(super().recv_into, *args, **kwargs)  # type: ignore[misc]

    def send(self, *args: Any, **kwargs: Any) -> Any:
        return self._within(super().send, *args, **kwargs)  # type: ignore[misc]

    def sendall(self, *args: Any, **kwargs: Any) -> Any:
        return self._within(super().sendall, *args, **kwargs)  # type: ignore[misc]

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        return self._within(super().connect, *args, **kwargs)  # type: ignore[misc]

    def do_handshake(self, *args: Any, **kwargs: Any) -> Any:
        return self._within(super().do_handshake, *args, **kwargs)  # type: ignore[misc]


class _DeadlineSocket(_Deadline, socket.socket):
    pass


class _DeadlineSSLSocket(_Deadline, ssl.SSLSocket):
    pass


def _connect(addresses: list[str], port: int, timeout: float, deadline: float) -> socket.socket:
    """A TCP connection to the first of the checked addresses that answers, by the deadline."""
    error: OSError | None = None
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = _DeadlineSocket(family, socket.SOCK_STREAM)
        sock._deadline, sock._op_timeout = deadline, timeout
        try:
            sock.connect((address, port))
        except _DeadlineExceeded:
            sock.close()
            raise
        except TimeoutError as exc:
            sock.close()
            error = _ConnectTimeout(str(exc))
            continue
        except OSError as exc:
            sock.close()
            error = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise error or OSError("no address to connect to")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the addresses we checked, while Host names the host."""

    def __init__(
        self, host: str, port: int, *, addresses: list[str], timeout: float, deadline: float
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses
        self._deadline = deadline

    def connect(self) -> None:
        self.sock = _connect(self._addresses, self.port, self.timeout, self._deadline)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the addresses we checked; TLS verifies the certificate for the host name."""

    def __init__(
        self, host: str, port: int, *, addresses: list[str], timeout: float, deadline: float
    ) -> None:
        context = ssl.create_default_context()
        context.sslsocket_class = _DeadlineSSLSocket
        super().__init__(host, port, timeout=timeout, context=context)
        self._addresses = addresses
        self._deadline = deadline

    def connect(self) -> None:
        sock = _connect(self._addresses, self.port, self.timeout, self._deadline)
        tls = self._context.wrap_socket(sock, server_hostname=self.host, do_handshake_on_connect=False)
        tls._deadline, tls._op_timeout = self._deadline, self.timeout
        self.sock = tls
        tls.do_handshake()


def fetch(
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    headers: Mapping[str, str],
    deadline: float | None = None,
    what: str = "web",
    allow_loopback: bool | None = None,
    etag: str = "",
    last_modified: str = "",
) -> Fetched:
    """GET ``url`` within the limits (see the module); OutboundError on any failure.

    ``timeout`` bounds each wait (connect, a read); ``deadline`` (seconds, default three
    timeouts) the whole exchange: connecting, TLS, headers, every redirect and the body.
    ``what`` names the remote in messages ("calendar": "The calendar server answered 404").
    """
    total = timeout * DEADLINE_FACTOR if deadline is None else deadline
    if allow_loopback is None:
        allow_loopback = loopback_allowed()
    ends_at = time.monotonic() + total
    for _ in range(MAX_REDIRECTS + 1):
        scheme, host, port = check_url(url, what=what)
        addresses = resolve(host, port, what=what, allow_loopback=allow_loopback)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        connection = connection_class(host, port, addresses=addresses, timeout=timeout, deadline=ends_at)
        request_headers = dict(headers)
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        response: http.client.HTTPResponse | None = None
        try:
            connection.request("GET", target, headers=request_headers)
            response = connection.getresponse()
            if response.status in _REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise OutboundError(f"The {what} server sent a redirect without an address.")
                url = urljoin(url, location)
                continue
            if response.status == 304 and (etag or last_modified):
                return Fetched(status=304, etag=etag, last_modified=last_modified)
            if response.status != 200:
                raise OutboundError(
                    f"The {what} server answered {response.status} {response.reason}."
                    + (
                        " Check that the address is still valid."
                        if response.status in (401, 403, 404, 410)
                        else ""
                    )
                )
            body = _read_limited(response, what=what, max_bytes=max_bytes)
            return Fetched(
                status=200,
                body=body,
                etag=(response.getheader("ETag") or "")[:300],
                last_modified=(response.getheader("Last-Modified") or "")[:100],
            )
        except (OSError, http.client.HTTPException) as exc:
            raise OutboundError(_describe(exc, what=what, timeout=timeout, total=total)) from exc
        finally:
            # The response holds its own reference to the socket: close both, so a
            # server still sending a refused body sees the connection go at once.
            if response is not None:
                response.close()
            connection.close()
    raise OutboundError(f"The {what} address redirected too many times.")


def post(
    url: str,
    body: bytes,
    *,
    headers: Mapping[str, str],
    deadline: float,
    max_bytes: int,
    what: str = "web",
    allow_loopback: bool | None = None,
) -> int:
    """POST ``body`` within the limits (see the module) and return the answer's status code.

    One ``deadline`` bounds the whole exchange (connecting, TLS, sending, the answer).
    Redirects are not followed: the caller judges a 3xx. At most ``max_bytes`` of the answer
    are read and dropped; OutboundError when no answer came.
    """
    if allow_loopback is None:
        allow_loopback = loopback_allowed()
    ends_at = time.monotonic() + deadline
    scheme, host, port = check_url(url, what=what)
    addresses = resolve(host, port, what=what, allow_loopback=allow_loopback)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, addresses=addresses, timeout=deadline, deadline=ends_at)
    response: http.client.HTTPResponse | None = None
    try:
        connection.request("POST", target, body=body, headers=dict(headers))
        response = connection.getresponse()
        read = 0
        while read < max_bytes:
            chunk = response.read1(min(_CHUNK, max_bytes - read))
            if not chunk:
                break
            read += len(chunk)
        return response.status
    except (OSError, http.client.HTTPException) as exc:
        raise OutboundError(
            _describe(exc, what=what, timeout=deadline, total=deadline, exchange="request")
        ) from exc
    finally:
        if response is not None:
            response.close()
        connection.close()


@dataclass(frozen=True)
class Answered:
    """A server's answer to ``request``: its status, headers (names lower-cased) and body."""

    status: int
    headers: dict[str, str]
    body: bytes
    url: str


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    deadline: float,
    max_bytes: int,
    body: bytes = b"",
    timeout: float | None = None,
    what: str = "web",
    allow_loopback: bool | None = None,
) -> Answered:
    """Any method (PROPFIND, REPORT, PUT, DELETE...) within the limits (see the module), whatever
    status comes back: the caller judges it. Redirects are followed with the same method and body
    (CalDAV's /.well-known answers one); credentials are not sent on to another host. One
    ``deadline`` bounds the whole exchange; ``timeout`` each wait (default: the deadline)."""
    if allow_loopback is None:
        allow_loopback = loopback_allowed()
    wait = deadline if timeout is None else timeout
    ends_at = time.monotonic() + deadline
    sent = dict(headers)
    origin = urlsplit(url).netloc.lower()
    for _ in range(MAX_REDIRECTS + 1):
        scheme, host, port = check_url(url, what=what)
        addresses = resolve(host, port, what=what, allow_loopback=allow_loopback)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if parts.netloc.lower() != origin:
            sent = {k: v for k, v in sent.items() if k.lower() != "authorization"}
        connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        connection = connection_class(host, port, addresses=addresses, timeout=wait, deadline=ends_at)
        response: http.client.HTTPResponse | None = None
        try:
            connection.request(method, target, body=body or None, headers=sent)
            response = connection.getresponse()
            if response.status in _REDIRECTS and response.getheader("Location"):
                url = urljoin(url, response.getheader("Location") or "")
                continue
            return Answered(
                status=response.status,
                headers={name.lower(): value for name, value in response.getheaders()},
                body=_read_limited(response, what=what, max_bytes=max_bytes),
                url=url,
            )
        except (OSError, http.client.HTTPException) as exc:
            raise OutboundError(
                _describe(exc, what=what, timeout=wait, total=deadline, exchange="request")
            ) from exc
        finally:
            if response is not None:
                response.close()
            connection.close()
    raise OutboundError(f"The {what} address redirected too many times.")


def check_public_url(url: str, *, what: str = "web") -> str:
    """``url`` if it may be stored for later requests: http(s), and not plainly internal.

    A host written as an IP address (in any form a resolver accepts: "0x7f.1", "2130706433")
    or a local name is judged now; any other name is resolved and judged at every request,
    so a name that later points inside is refused then.
    """
    _, host, _ = check_url(url, what=what)
    allow = loopback_allowed()
    address = _ip_literal(host)
    name = host.lower()
    local_name = name == "localhost" or name.endswith((".localhost", ".local", ".internal"))
    if (address is not None and not address_allowed(address, allow_loopback=allow)) or (
        local_name and not allow
    ):
        raise OutboundError("This address points to a private or local network, which is not allowed.")
    return url


def _ip_literal(host: str) -> str | None:
    """The IP address a host name spells, or None for a name."""
    host = host.strip("[]")
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        pass
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return None


def _read_limited(response: http.client.HTTPResponse, *, what: str, max_bytes: int) -> bytes:
    """The body, refused as soon as it passes ``max_bytes`` (the socket enforces the deadline)."""
    too_large = OutboundError(f"The {what} is larger than {max_bytes // (1024 * 1024) or 1} MB.")
    length = response.getheader("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = response.read1(_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _describe(
    exc: BaseException, *, what: str, timeout: float, total: float, exchange: str = "download"
) -> str:
    """What really went wrong, in words a coach can act on (never the address)."""
    if isinstance(exc, _DeadlineExceeded):
        return (
            f"The {what} server was too slow: the whole {exchange} did not finish within {total:g} seconds."
        )
    if isinstance(exc, _ConnectTimeout):
        return f"The {what} server did not accept a connection within {timeout:g} seconds."
    if isinstance(exc, TimeoutError):
        return f"The {what} server did not answer within {timeout:g} seconds."
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"The {what} server's certificate could not be verified, so a secure connection was refused."
    if isinstance(exc, ssl.SSLError):
        return f"A secure connection to the {what} server failed."
    if isinstance(exc, ConnectionRefusedError):
        return f"The {what} server refused the connection."
    if isinstance(exc, http.client.RemoteDisconnected):
        return f"The {what} server closed the connection without answering."
    if isinstance(exc, http.client.HTTPException):
        return f"The {what} server sent an answer that is not valid HTTP."
    return f"The {what} server could not be reached."


def loopback_allowed() -> bool:
    """``OUTBOUND_ALLOW_LOOPBACK``: tests let outbound requests reach servers on this machine."""
    from django.conf import settings

    return settings.OUTBOUND_ALLOW_LOOPBACK


def display_url(url: str) -> str:
    """The address with its secret part hidden: ``https://calendar.google.com/…``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "…"
    return f"{parts.scheme}://{parts.hostname or ''}/…"
