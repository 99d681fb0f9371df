"""Busy calendars: a coach's other calendar (a secret iCal address) read into BusyBlocks.

Google, Outlook, iCloud and Fastmail each publish a calendar as a secret ``.ics``
address. Every few minutes (coaching/tasks.py) and on demand from the dashboard,
``refresh_busy_calendar`` does, for one calendar:

1. **Fetch** over http(s) only, with a timeout per network operation and an overall
   deadline, a size limit (a too-large body is refused as soon as it is too large,
   without reading the rest), at most three redirects, and a conditional GET
   (ETag / Last-Modified) when the blocks already cover the booking horizon. The
   host is resolved once and every address checked: private, loopback, link-local
   and other non-public addresses are refused (loopback only with
   ``settings.BUSY_CALENDAR_ALLOW_LOOPBACK``, for tests), and the connection goes to
   the checked addresses, so a DNS answer cannot change between check and use.
2. **Parse** with ``icalendar`` and **expand** recurring events (RRULE, RDATE, EXDATE,
   RECURRENCE-ID exceptions, X-WR-TIMEZONE) with ``recurring-ical-events`` over
   [now, now + the coach's longest horizon + 2 days]. Free (TRANSP:TRANSPARENT) and
   cancelled events are skipped; all-day events block the coach's whole local days;
   floating times are read in the coach's zone.
3. **Replace** that calendar's BusyBlocks in one transaction (merged, sorted).

On any failure nothing is replaced: the old blocks stay, and the calendar records
the error and its time for the dashboard. The address is a secret: it is never
logged, and errors never quote it.

Settings (read at call time, with defaults): ``BUSY_CALENDAR_TIMEOUT`` (seconds per
network operation, 15), ``BUSY_CALENDAR_MAX_BYTES`` (10 MB),
``BUSY_CALENDAR_ALLOW_LOOPBACK`` (False).
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import recurring_ical_events
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from icalendar import Calendar

from coaching.availability import local_day_bounds, wall_time_to_utc
from coaching.models import BusyBlock, BusyCalendar, Offering

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 15.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# The whole fetch, redirects and a slow trickle of bytes included, ends by then.
DEADLINE_FACTOR = 3
MAX_REDIRECTS = 3
MAX_BLOCKS = 10_000
DEFAULT_HORIZON_DAYS = 60
HORIZON_MARGIN = timedelta(days=2)
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class BusyCalendarError(Exception):
    """A calendar that cannot be read; ``message`` is safe to show the coach (no address in it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Fetched:
    status: int  # 200, or 304 for "not modified"
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""


def _timeout() -> float:
    return float(getattr(settings, "BUSY_CALENDAR_TIMEOUT", DEFAULT_TIMEOUT))


def _max_bytes() -> int:
    return int(getattr(settings, "BUSY_CALENDAR_MAX_BYTES", DEFAULT_MAX_BYTES))


def _allow_loopback() -> bool:
    return bool(getattr(settings, "BUSY_CALENDAR_ALLOW_LOOPBACK", False))


# ---------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------
def normalize_url(raw: str) -> str:
    """Trim, and read ``webcal://`` (what iCloud and others hand out) as ``https://``."""
    url = raw.strip()
    lowered = url.lower()
    for prefix in ("webcals://", "webcal://"):
        if lowered.startswith(prefix):
            return "https://" + url[len(prefix) :]
    return url


def check_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an address we may fetch, or BusyCalendarError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BusyCalendarError("This is not a valid web address.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BusyCalendarError("Only http:// and https:// calendar addresses can be used.")
    host = parts.hostname
    if not host:
        raise BusyCalendarError("This address has no host name.")
    if parts.username or parts.password:
        raise BusyCalendarError("Addresses with a user name or password in them are not supported.")
    return scheme, host, port or (443 if scheme == "https" else 80)


def address_allowed(address: str) -> bool:
    """Whether we may connect to this IP address: public ones only (and loopback if the setting says so)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return _allow_loopback()
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """The host's addresses, to connect to; refuses the host if any of them is not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise BusyCalendarError("The calendar's host name could not be found.") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise BusyCalendarError("The calendar's host name could not be found.")
    if not all(address_allowed(address) for address in addresses):
        raise BusyCalendarError("This address points to a private or local network, which is not allowed.")
    return addresses


def check_address(raw: str) -> str:
    """The normalized address if it can be used (scheme, host, public addresses), else BusyCalendarError."""
    url = normalize_url(raw)
    _, host, port = check_url(url)
    resolve(host, port)
    return url


def display_url(url: str) -> str:
    """The address with its secret part hidden: ``https://calendar.google.com/…``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "…"
    return f"{parts.scheme}://{parts.hostname or ''}/…"


# ---------------------------------------------------------------------------
# Fetching
# ---------------------------------------------------------------------------
def _connect(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """A TCP connection to the first of the checked addresses that answers."""
    error: OSError | None = None
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise error or OSError("no address to connect to")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the addresses we checked, while Host names the host."""

    def __init__(self, host: str, port: int, *, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self._addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the addresses we checked; TLS verifies the certificate for the host name."""

    def __init__(self, host: str, port: int, *, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._addresses = addresses

    def connect(self) -> None:
        sock = _connect(self._addresses, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def fetch(url: str, *, etag: str = "", last_modified: str = "") -> Fetched:
    """GET a calendar address within the limits (see the module); BusyCalendarError on any failure."""
    timeout = _timeout()
    max_bytes = _max_bytes()
    deadline = time.monotonic() + timeout * DEADLINE_FACTOR
    for _ in range(MAX_REDIRECTS + 1):
        scheme, host, port = check_url(url)
        addresses = resolve(host, port)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        connection = connection_class(host, port, addresses=addresses, timeout=timeout)
        headers = {
            "User-Agent": f"{settings.SITE_NAME} busy-time sync (+{settings.SITE_URL})",
            "Accept": "text/calendar, text/plain;q=0.5, */*;q=0.1",
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        response: http.client.HTTPResponse | None = None
        try:
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            if response.status in _REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise BusyCalendarError("The calendar server sent a redirect without an address.")
                url = urljoin(url, location)
                continue
            if response.status == 304 and (etag or last_modified):
                return Fetched(status=304, etag=etag, last_modified=last_modified)
            if response.status != 200:
                raise BusyCalendarError(
                    f"The calendar server answered {response.status} {response.reason}."
                    + (
                        " Check that the address is still valid."
                        if response.status in (401, 403, 404, 410)
                        else ""
                    )
                )
            body = _read_limited(response, max_bytes=max_bytes, deadline=deadline)
            return Fetched(
                status=200,
                body=body,
                etag=(response.getheader("ETag") or "")[:300],
                last_modified=(response.getheader("Last-Modified") or "")[:100],
            )
        except TimeoutError as exc:
            raise BusyCalendarError(
                f"The calendar server did not answer within {timeout:g} seconds."
            ) from exc
        except ssl.SSLError as exc:
            raise BusyCalendarError("A secure connection to the calendar server failed.") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise BusyCalendarError("The calendar server could not be reached.") from exc
        finally:
            # The response holds its own reference to the socket: close both, so a
            # server still sending a refused body sees the connection go at once.
            if response is not None:
                response.close()
            connection.close()
    raise BusyCalendarError("The calendar address redirected too many times.")


def _read_limited(response: http.client.HTTPResponse, *, max_bytes: int, deadline: float) -> bytes:
    too_large = BusyCalendarError(f"The calendar is larger than {max_bytes // (1024 * 1024) or 1} MB.")
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
        if time.monotonic() > deadline:
            raise TimeoutError("overall deadline")
    return b"".join(chunks)


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------
def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    """Aware UTC for a DTSTART/DTEND value: floating times and dates are read in the coach's zone."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return wall_time_to_utc(zone, value.date(), value.time())
        return value.astimezone(UTC)
    return local_day_bounds(zone, value)[0]


def _occurrence_bounds(
    raw_start: date | datetime, raw_end: date | datetime, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    if isinstance(raw_start, datetime):
        return _instant(raw_start, zone), _instant(raw_end, zone)
    # All-day: whole days where the coach lives; DTEND is the first day after.
    first_day = raw_start
    after_last = raw_end.date() if isinstance(raw_end, datetime) else raw_end
    if after_last <= first_day:
        after_last = first_day + timedelta(days=1)
    return local_day_bounds(zone, first_day)[0], local_day_bounds(zone, after_last)[0]


def busy_intervals(
    data: bytes, *, zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Busy time in [start, end) from iCalendar data: merged, sorted, aware UTC."""
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped[:15].upper().startswith(b"BEGIN:VCALENDAR"):
        raise BusyCalendarError(
            "This address did not return a calendar. Use the calendar's secret address in iCal format."
        )
    try:
        calendar = Calendar.from_ical(stripped)
    except Exception as exc:  # icalendar raises ValueError and others for broken data
        raise BusyCalendarError("The calendar could not be read: it is not valid iCalendar data.") from exc
    if not isinstance(calendar, Calendar):
        raise BusyCalendarError("The calendar could not be read: it is not valid iCalendar data.")
    try:
        occurrences = list(recurring_ical_events.of(calendar, skip_bad_series=True).between(start, end))
    except Exception as exc:  # a bad rule or time zone anywhere in the feed
        raise BusyCalendarError("The calendar's repeating events could not be read.") from exc

    intervals: list[tuple[datetime, datetime]] = []
    for event in occurrences:
        if str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        try:
            raw_start, raw_end = event.start, event.end
        except Exception:  # noqa: S112 - an event without a usable start is no busy time
            continue
        busy_start, busy_end = _occurrence_bounds(raw_start, raw_end, zone)
        busy_start, busy_end = max(busy_start, start), min(busy_end, end)
        if busy_end > busy_start:
            intervals.append((busy_start, busy_end))

    merged: list[tuple[datetime, datetime]] = []
    for busy_start, busy_end in sorted(intervals):
        if merged and busy_start <= merged[-1][1]:
            if busy_end > merged[-1][1]:
                merged[-1] = (merged[-1][0], busy_end)
        else:
            merged.append((busy_start, busy_end))
    if len(merged) > MAX_BLOCKS:
        raise BusyCalendarError(
            f"The calendar has more than {MAX_BLOCKS:,} busy periods in the booking horizon."
        )
    return merged


# ---------------------------------------------------------------------------
# Refreshing
# ---------------------------------------------------------------------------
def busy_horizon(coach_id: int) -> timedelta:
    """How far ahead busy time matters: the coach's longest booking horizon."""
    days = Offering.objects.filter(coach_id=coach_id, is_active=True).aggregate(days=Max("horizon_days"))[
        "days"
    ]
    return timedelta(days=days or DEFAULT_HORIZON_DAYS)


def refresh_busy_calendar(calendar: BusyCalendar, *, now: datetime | None = None) -> bool:
    """Fetch ``calendar`` and replace its busy blocks; False (old blocks kept, error recorded) on failure."""
    frozen_now = now or timezone.now()
    horizon = busy_horizon(calendar.coach_id)
    window_end = frozen_now + horizon + HORIZON_MARGIN
    # "Not modified" only helps while the stored blocks still reach the horizon.
    conditional = calendar.blocks_until is not None and calendar.blocks_until >= frozen_now + horizon
    zone = calendar.coach.zone
    try:
        fetched = fetch(
            calendar.url,
            etag=calendar.etag if conditional else "",
            last_modified=calendar.last_modified if conditional else "",
        )
        if fetched.status == 304:
            BusyCalendar.objects.filter(pk=calendar.pk).update(
                last_fetched_at=frozen_now, last_error="", last_error_at=None
            )
            logger.info("busy calendar %s: not modified", calendar.pk)
            return True
        intervals = busy_intervals(fetched.body, zone=zone, start=frozen_now, end=window_end)
    except BusyCalendarError as exc:
        _record_error(calendar, exc.message, frozen_now)
        return False
    except Exception as exc:
        _record_error(calendar, "The calendar could not be read.", frozen_now)
        logger.exception("busy calendar %s: unexpected %s", calendar.pk, type(exc).__name__)
        return False

    with transaction.atomic():
        # The row lock orders two refreshes of one calendar (a beat tick and a
        # "refresh now"): the second sees the first's blocks and replaces them.
        locked = BusyCalendar.objects.select_for_update().filter(pk=calendar.pk).first()
        if locked is None:
            return False  # removed while we were fetching
        BusyBlock.objects.filter(calendar=locked).delete()
        BusyBlock.objects.bulk_create(
            [
                BusyBlock(coach_id=locked.coach_id, calendar=locked, start=s, end=e, source=locked.name[:200])
                for s, e in intervals
            ],
            batch_size=1000,
        )
        BusyCalendar.objects.filter(pk=locked.pk).update(
            last_fetched_at=frozen_now,
            last_error="",
            last_error_at=None,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            blocks_until=window_end,
        )
    logger.info("busy calendar %s: %d busy blocks", calendar.pk, len(intervals))
    return True


def _record_error(calendar: BusyCalendar, message: str, now: datetime) -> None:
    BusyCalendar.objects.filter(pk=calendar.pk).update(last_error=message[:500], last_error_at=now)
    logger.warning("busy calendar %s: %s", calendar.pk, message)
