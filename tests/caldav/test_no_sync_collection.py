"""A CalDAV server without sync-collection (RFC 6578): Radicale behind a loopback proxy that
answers 501 to it. The first sync reads the calendar whole; a sync with an unchanged CTag reads
nothing more; a changed CTag fetches only the events whose ETag changed and drops the ones that
are gone; a day later everything is read again."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import time_machine

from booking.slots import offering_slot_is_free
from coaching.caldav_services import caldav_calendar_sync, caldav_connect
from coaching.models import BusyBlock, CalDavCalendar, Offering
from tests.caldav.conftest import PASSWORD, USER, Radicale
from tests.caldav.test_sync import event
from tests.support import NOW, SLOT

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(NOW, tick=False)]


class NoSyncProxy:
    """Forwards every request to Radicale, except sync-collection REPORTs (501), and records
    the requests that reached it as ``(method, body)``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.seen: list[tuple[str, bytes]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "REPORT" and b"sync-collection" in body:
                    self.send_response(501)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                proxy.seen.append((self.command, body))
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=10
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = do_OPTIONS = _forward

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def reports(self) -> list[bytes]:
        return [body for method, body in self.seen if method == "REPORT"]


@pytest.fixture
def proxy(radicale: Radicale) -> Iterator[NoSyncProxy]:
    serving = NoSyncProxy(radicale.url)
    thread = threading.Thread(target=serving.server.serve_forever, daemon=True)
    thread.start()
    yield serving
    serving.server.shutdown()
    serving.server.server_close()


@pytest.fixture
def work(radicale: Radicale, proxy: NoSyncProxy, offering: Offering):  # type: ignore[no-untyped-def]
    calendar = radicale.calendar("Work", "work")
    calendar.save_event(event("dentist", "20261202T150000Z", "20261202T153000Z"))
    calendar.save_event(event("gym", "20261203T150000Z", "20261203T160000Z"))
    caldav_connect(coach=offering.coach, server=proxy.url, username=USER, password=PASSWORD)
    return calendar


def sync() -> None:
    calendar = CalDavCalendar.objects.select_related("account", "coach").get(name="Work")
    assert caldav_calendar_sync(calendar=calendar)


def test_the_first_sync_reads_the_calendar_whole(work, proxy: NoSyncProxy, offering: Offering) -> None:  # type: ignore[no-untyped-def]
    sync()
    assert [b"calendar-query" in body for body in proxy.reports()] == [True]
    calendar = CalDavCalendar.objects.get(name="Work")
    assert calendar.sync_token == "" and calendar.ctag
    assert calendar.events.count() == 2 and BusyBlock.objects.count() == 2
    assert not offering_slot_is_free(offering=offering, start=SLOT, now=NOW)


def test_an_unchanged_ctag_reads_nothing_more(work, proxy: NoSyncProxy) -> None:  # type: ignore[no-untyped-def]
    sync()
    proxy.seen.clear()
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        sync()
    assert [method for method, _ in proxy.seen] == ["PROPFIND"]
    assert BusyBlock.objects.count() == 2


def test_a_changed_ctag_fetches_only_the_changed_events(work, proxy: NoSyncProxy, offering: Offering) -> None:  # type: ignore[no-untyped-def]
    sync()
    work.event_by_uid("gym").delete()
    work.save_event(event("lunch", "20261202T160000Z", "20261202T163000Z"))
    proxy.seen.clear()
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        sync()
    listing, multiget = proxy.reports()
    assert b"calendar-query" in listing and b"calendar-data" not in listing
    assert b"calendar-multiget" in multiget and multiget.count(b"<d:href>") == 1
    calendar = CalDavCalendar.objects.get(name="Work")
    assert calendar.events.count() == 2
    # The dentist (15:00) and lunch (16:00) on Wednesday; the gym on Thursday is gone.
    assert sorted((b.start.hour, b.start.day) for b in BusyBlock.objects.all()) == [(15, 2), (16, 2)]
    assert offering_slot_is_free(offering=offering, start=SLOT + timedelta(days=1), now=NOW)


def test_a_day_later_everything_is_read_again(work, proxy: NoSyncProxy) -> None:  # type: ignore[no-untyped-def]
    sync()
    proxy.seen.clear()
    with time_machine.travel(NOW + timedelta(days=1, minutes=1), tick=False):
        sync()
    assert [b"calendar-query" in body and b"calendar-data" in body for body in proxy.reports()] == [True]
    assert CalDavCalendar.objects.get(name="Work").last_synced_at == NOW + timedelta(days=1, minutes=1)
