"""One deadline for the whole exchange: a server that trickles bytes is cut at it.

The servers here are raw sockets on loopback that send one byte at a time, slower than any
sensible server and faster than the per-operation timeout, so only the whole-exchange
deadline can end the fetch. What is asserted is behaviour (the error and how little the
server got to send), not a duration.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from common.outbound import OutboundError, fetch, post

HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nX-Padding: " + b"x" * 500 + b"\r\n\r\nok"


def _read_request(conn: socket.socket) -> None:
    """Read the whole request, body included: closing a socket with unread bytes sends a
    reset, which can reach the client before the reply it is reading (a flaky failure)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        body += chunk


class Trickler:
    """Accepts connections and answers each with ``reply`` one byte every ``gap`` seconds."""

    def __init__(self, reply: Callable[[int], bytes], gap: float) -> None:
        self.reply, self.gap = reply, gap
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.sent = 0
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                _read_request(conn)
                for byte in self.reply(self.connections):
                    if self.stop.wait(self.gap):
                        return
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break  # the client hung up: what the deadline should make it do
                    self.sent += 1

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(5)


@pytest.fixture
def trickler() -> Iterator[Callable[..., Trickler]]:
    servers: list[Trickler] = []

    def start(reply: Callable[[int], bytes], gap: float) -> Trickler:
        servers.append(Trickler(reply, gap))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def get(port: int, *, timeout: float = 1.0, deadline: float = 0.6) -> None:
    fetch(
        f"http://127.0.0.1:{port}/cal.ics",
        timeout=timeout,
        deadline=deadline,
        max_bytes=1024 * 1024,
        headers={},
        what="calendar",
        allow_loopback=True,
    )


def test_a_server_trickling_its_headers_is_cut_at_the_deadline(trickler) -> None:
    # One byte every 0.05 s: each read is well inside the 1 s timeout; the 500-byte headers
    # would take 25 s. Cut at 0.6 s, the server sends a few bytes, not the headers.
    server = trickler(lambda _: HEADERS, gap=0.05)
    with pytest.raises(OutboundError) as refused:
        get(server.port)
    assert refused.value.message == (
        "The calendar server was too slow: the whole download did not finish within 0.6 seconds."
    )
    server.stop.wait(0.3)
    assert server.sent < len(HEADERS) // 2


def test_the_deadline_covers_every_redirect(trickler) -> None:
    # Each hop answers a short redirect a byte at a time: each alone is quick, together too slow.
    redirect = b"HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n"
    server = trickler(lambda _: redirect, gap=0.004)
    with pytest.raises(OutboundError, match="did not finish within 0.6 seconds"):
        get(server.port)
    assert server.connections >= 2


def test_a_silent_server_still_answers_with_the_timeout(trickler) -> None:
    server = trickler(lambda _: b"", gap=0.01)
    with pytest.raises(OutboundError) as refused:
        get(server.port, timeout=0.2, deadline=5)
    assert refused.value.message in (
        "The calendar server did not answer within 0.2 seconds.",
        "The calendar server closed the connection without answering.",
    )


def test_a_refused_connection_says_so() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OutboundError, match="refused the connection"):
        get(port)


def test_a_normal_answer_is_read_whole(trickler) -> None:
    body = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    server = trickler(lambda _: reply, gap=0)
    fetched = fetch(
        f"http://127.0.0.1:{server.port}/",
        timeout=2,
        deadline=5,
        max_bytes=1024,
        headers={},
        allow_loopback=True,
    )
    assert fetched.status == 200 and fetched.body == body


def test_a_post_to_a_trickling_server_is_cut_at_its_deadline(trickler) -> None:
    server = trickler(lambda _: HEADERS, gap=0.05)
    with pytest.raises(OutboundError) as refused:
        post(
            f"http://127.0.0.1:{server.port}/hook",
            b"{}",
            headers={},
            deadline=0.6,
            max_bytes=1024,
            what="webhook",
            allow_loopback=True,
        )
    assert refused.value.message == (
        "The webhook server was too slow: the whole request did not finish within 0.6 seconds."
    )
    server.stop.wait(0.3)
    assert server.sent < len(HEADERS) // 2


def test_a_post_answers_the_status_and_follows_no_redirect(trickler) -> None:
    redirect = b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n"
    server = trickler(lambda _: redirect, gap=0)
    status = post(
        f"http://127.0.0.1:{server.port}/hook",
        b"{}",
        headers={},
        deadline=5,
        max_bytes=1024,
        allow_loopback=True,
    )
    assert status == 307
    assert server.connections == 1
