"""A mail server on loopback that keeps what it accepts: enough SMTP for smtplib and Django.

Worker processes started by the tests (and by bench/bench_reminders.py) send real
SMTP to it, so what arrived is counted outside the process that sent it. It answers
EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP and QUIT; a message counts as delivered only
once the server has answered ``250`` to its DATA, as with a real server.

``hold_after=n`` lets a test stop a worker mid-batch: the message after the n-th is
held unanswered (``holding`` is set) until ``release`` is set, then its connection
is dropped without an answer, so the message is not delivered (the sender's crash
is the test's to cause meanwhile). Only one message is ever held; later ones are
accepted.
"""

from __future__ import annotations

import socketserver
import threading
from email.parser import BytesHeaderParser
from types import TracebackType


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode("ascii") + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        sink = self.server.sink
        self._reply("220 sink.invalid ESMTP test sink")
        while True:
            line = self.rfile.readline(1000)
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"EHLO":
                self._reply("250-sink.invalid\r\n250-8BITMIME\r\n250 SMTPUTF8")
            elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self._reply("250 OK")
            elif verb == b"DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                data = self._read_data()
                if data is None or not sink._accept(data):
                    return  # dropped without an answer: not delivered
                self._reply("250 OK queued")
            elif verb == b"QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("502 Command not implemented")

    def _read_data(self) -> bytes | None:
        lines = []
        while True:
            line = self.rfile.readline()
            if not line:
                return None
            if line in (b".\r\n", b".\n"):
                return b"".join(lines)
            lines.append(line[1:] if line.startswith(b"..") else line)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    sink: SmtpSink


class SmtpSink:
    """Start with ``with SmtpSink() as sink:``; ``sink.port``, ``sink.messages``, ``sink.message_ids()``."""

    def __init__(self, *, hold_after: int | None = None) -> None:
        self.hold_after = hold_after
        self.holding = threading.Event()
        self.release = threading.Event()
        self.messages: list[bytes] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.sink = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def __enter__(self) -> SmtpSink:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def _accept(self, data: bytes) -> bool:
        with self._lock:
            hold = (
                self.hold_after is not None
                and not self.holding.is_set()
                and len(self.messages) >= self.hold_after
            )
            if hold:
                self.holding.set()
            else:
                self.messages.append(data)
                return True
        self.release.wait(timeout=60)
        return False

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def message_ids(self) -> list[str]:
        """The Message-ID of every accepted message, in arrival order (duplicates kept)."""
        parser = BytesHeaderParser()
        with self._lock:
            messages = list(self.messages)
        return [str(parser.parsebytes(raw)["Message-ID"]) for raw in messages]

    def recipients_of(self, message_id: str) -> list[str]:
        parser = BytesHeaderParser()
        with self._lock:
            messages = list(self.messages)
        return [
            str(headers["To"])
            for headers in (parser.parsebytes(raw) for raw in messages)
            if headers["Message-ID"] == message_id
        ]
