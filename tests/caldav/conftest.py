"""A real CalDAV server for the tests: Radicale (from PyPI) on loopback, a fresh store per test,
one account (``ada`` / ``app-password-1``), and the ``caldav`` library to put calendars and events
in it the way a coach's own calendar app would."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import caldav
import pytest

from tests.api import conftest as api_conftest

USER, PASSWORD = "ada", "app-password-1"
# The coach API's token fixtures, for the calendar endpoints' tests.
write_key = api_conftest.write_key
read_key = api_conftest.read_key


@dataclass(frozen=True)
class Radicale:
    url: str
    port: int

    def client(self, password: str = PASSWORD) -> caldav.DAVClient:
        return caldav.DAVClient(url=f"{self.url}/{USER}/", username=USER, password=password)

    def calendar(self, name: str, slug: str) -> caldav.Calendar:
        return self.client().principal().make_calendar(name=name, cal_id=slug)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def radicale(tmp_path: Path, settings) -> Iterator[Radicale]:
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    (tmp_path / "users").write_text(f"{USER}:{PASSWORD}\n")
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "radicale",
        "--config",
        "",
        "--server-hosts",
        f"127.0.0.1:{port}",
        "--auth-type",
        "htpasswd",
        "--auth-htpasswd-filename",
        str(tmp_path / "users"),
        "--auth-htpasswd-encryption",
        "plain",
        "--auth-delay",
        "0",
        "--storage-filesystem-folder",
        str(tmp_path / "collections"),
        "--logging-level",
        "warning",
    ]
    log = (tmp_path / "radicale.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "radicale.log").read_text()) from None
                time.sleep(0.05)
        yield Radicale(url=f"http://127.0.0.1:{port}", port=port)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
