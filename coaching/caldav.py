"""CalDAV with a coach's calendar server, through the one guarded client (common/outbound.py).

Issue 17 so far: finding the coach's calendars from a server address (or just a host) and their
username and app password: RFC 6764's ``/.well-known/caldav``, RFC 5397's
``current-user-principal``, RFC 4791's ``calendar-home-set``, then the calendars in the home with
their name, colour, CTag and sync token; and reading a calendar's events, incrementally with
RFC 6578's sync-collection (a full read when the server has no token for us, or no sync at all:
then a calendar-query). Events become busy time through coaching/busy_calendars.py, under the
same caps as a feed. Every answer is parsed with
defusedxml (no entities, no external references) under the outbound size cap. Errors are
``CalDavError``s whose message a coach can act on; none quotes the address or the credentials.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.conf import settings

from common.outbound import Answered, OutboundError, request

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
CALSERVER = "http://calendarserver.org/ns/"
APPLE = "http://apple.com/ns/ical/"
# Discovery answers are small; a calendar list of a few hundred calendars fits easily.
MAX_DISCOVERY_BYTES = 2 * 1024 * 1024
# At most this many events in one calendar, whatever the server sends (a feed's cap).
MAX_EVENTS = 20_000
WHAT = "calendar"

_PRINCIPAL = f"""<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="{DAV}"><d:prop><d:current-user-principal/></d:prop></d:propfind>"""
_HOME = f"""<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="{DAV}" xmlns:c="{CALDAV}"><d:prop><c:calendar-home-set/></d:prop></d:propfind>"""
_CALENDARS = f"""<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="{DAV}" xmlns:c="{CALDAV}" xmlns:cs="{CALSERVER}" xmlns:ic="{APPLE}">
<d:prop><d:resourcetype/><d:displayname/><cs:getctag/><d:sync-token/><ic:calendar-color/>
<c:supported-calendar-component-set/></d:prop></d:propfind>"""


_SYNC = f"""<?xml version="1.0" encoding="utf-8"?>
<d:sync-collection xmlns:d="{DAV}" xmlns:c="{CALDAV}"><d:sync-token>{{token}}</d:sync-token>
<d:sync-level>1</d:sync-level><d:prop><d:getetag/><c:calendar-data/></d:prop></d:sync-collection>"""
_QUERY = f"""<?xml version="1.0" encoding="utf-8"?>
<c:calendar-query xmlns:d="{DAV}" xmlns:c="{CALDAV}"><d:prop><d:getetag/><c:calendar-data/></d:prop>
<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"/></c:comp-filter></c:filter>
</c:calendar-query>"""
_ETAGS = _QUERY.replace("<c:calendar-data/>", "")
_CTAG = f"""<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="{DAV}" xmlns:cs="{CALSERVER}"><d:prop><cs:getctag/></d:prop></d:propfind>"""
_MULTIGET = f"""<?xml version="1.0" encoding="utf-8"?>
<c:calendar-multiget xmlns:d="{DAV}" xmlns:c="{CALDAV}"><d:prop><d:getetag/><c:calendar-data/></d:prop>
{{hrefs}}</c:calendar-multiget>"""
# Hrefs asked for in one calendar-multiget (servers cap a request's size).
MULTIGET_BATCH = 200


class CalDavError(OutboundError):
    default_message = "The calendar server could not be used."


@dataclass(frozen=True)
class Calendar:
    """One calendar of the coach's account, as the server lists it."""

    url: str
    name: str
    ctag: str = ""
    sync_token: str = ""
    color: str = ""


@dataclass(frozen=True)
class Account:
    """Where a coach's calendars are, once found: the calendar home and the credentials."""

    home_url: str
    username: str
    password: str

    def headers(self, **extra: str) -> dict[str, str]:
        pair = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {pair}", "User-Agent": f"{settings.SITE_NAME} CalDAV", **extra}


def server_url(address: str) -> str:
    """A server address as the coach typed it: a whole URL, or a host (``https://`` assumed)."""
    address = address.strip()
    if "://" not in address:
        address = f"https://{address}"
    parts = urlsplit(address)
    return address if parts.path else f"{address}/"


def discover(address: str, *, username: str, password: str) -> tuple[Account, list[Calendar]]:
    """The account's calendar home and its calendars that hold events (RFC 6764, 5397, 4791)."""
    start = server_url(address)
    probe = Account(home_url=start, username=username, password=password)
    principal = _principal(probe, start)
    if principal is None:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(start))
        principal = _principal(probe, urljoin(origin, "/.well-known/caldav"))
    if principal is None:
        raise CalDavError(
            "No CalDAV account was found at this address. Check it (your provider's help names its "
            "CalDAV server address)."
        )
    home = _one_href(_propfind(probe, principal, _HOME, depth="0"), f"{{{CALDAV}}}calendar-home-set")
    if home is None:
        raise CalDavError("The calendar server shows no calendars for this account.")
    account = Account(home_url=home, username=username, password=password)
    return account, list_calendars(account)


def list_calendars(account: Account) -> list[Calendar]:
    """The calendars in the account's home that can hold events, by name."""
    found = []
    for href, prop in _propfind(account, account.home_url, _CALENDARS, depth="1"):
        kinds = prop.find(f"{{{DAV}}}resourcetype")
        if kinds is None or kinds.find(f"{{{CALDAV}}}calendar") is None:
            continue
        components = prop.find(f"{{{CALDAV}}}supported-calendar-component-set")
        if (
            components is not None
            and len(components)
            and not any(c.get("name", "").upper() == "VEVENT" for c in components)
        ):
            continue  # a to-do list or a journal
        found.append(
            Calendar(
                url=href,
                name=_text(prop, f"{{{DAV}}}displayname")
                or urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1],
                ctag=_text(prop, f"{{{CALSERVER}}}getctag"),
                sync_token=_text(prop, f"{{{DAV}}}sync-token"),
                color=_text(prop, f"{{{APPLE}}}calendar-color")[:9],
            )
        )
    return sorted(found, key=lambda c: (c.name.lower(), c.url))


@dataclass(frozen=True)
class Changes:
    """What changed in a calendar since ``token``: every event resource (href -> its etag and
    iCalendar data) when ``full``, else the changed ones and the hrefs of deleted ones."""

    token: str
    full: bool
    changed: dict[str, tuple[str, bytes]]
    deleted: list[str]


def changes_since(account: Account, calendar_url: str, token: str = "") -> Changes:
    """The calendar's events changed since ``token`` ("" for all of them), and the next token.

    A token the server no longer knows gives a full read (``full``); a server without
    sync-collection is read whole with a calendar-query (no token then)."""
    answered = _report(account, calendar_url, _SYNC.replace("{token}", _xml_text(token)))
    if token and answered.status in (403, 409) and b"valid-sync-token" in answered.body:
        return changes_since(account, calendar_url, "")
    if answered.status in (400, 403, 404, 405, 415, 501) and b"valid-sync-token" not in answered.body:
        answered = _report(account, calendar_url, _QUERY, depth="1")
        _check(answered)
        changed, _ = _events(answered)
        return Changes(token="", full=True, changed=changed, deleted=[])
    _check(answered)
    changed, deleted = _events(answered)
    root_token = _text(fromstring(answered.body), f"{{{DAV}}}sync-token")
    return Changes(token=root_token, full=not token, changed=changed, deleted=deleted)


def calendar_ctag(account: Account, calendar_url: str) -> str:
    """The calendar's CTag ("" when the server keeps none): it changes whenever an event does."""
    for _, prop in _propfind(account, calendar_url, _CTAG, depth="0"):
        return _text(prop, f"{{{CALSERVER}}}getctag")
    return ""


def changes_by_etag(account: Account, calendar_url: str, known: dict[str, str]) -> Changes:
    """For a server without sync-collection: list the events' ETags, fetch only the events
    whose ETag differs from ``known`` (href -> etag) and name the known ones that are gone."""
    answered = _report(account, calendar_url, _ETAGS, depth="1")
    _check(answered)
    listed = _etags(answered)
    wanted = [href for href, etag in listed.items() if known.get(href) != etag]
    changed: dict[str, tuple[str, bytes]] = {}
    for i in range(0, len(wanted), MULTIGET_BATCH):
        hrefs = "".join(
            f"<d:href>{_xml_text(urlsplit(href).path)}</d:href>" for href in wanted[i : i + MULTIGET_BATCH]
        )
        got = _report(account, calendar_url, _MULTIGET.replace("{hrefs}", hrefs), depth="1")
        _check(got)
        changed.update(_events(got)[0])
    return Changes(token="", full=False, changed=changed, deleted=[h for h in known if h not in listed])


def _etags(answered: Answered) -> dict[str, str]:
    """``{href: etag}`` of a multistatus listing event resources."""
    try:
        root = fromstring(answered.body)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise CalDavError("The calendar server sent an answer that could not be read.") from exc
    listed: dict[str, str] = {}
    for response in root.iter(f"{{{DAV}}}response"):
        href = urljoin(answered.url, _text(response, f"{{{DAV}}}href"))
        for propstat in response.iter(f"{{{DAV}}}propstat"):
            prop = propstat.find(f"{{{DAV}}}prop")
            if prop is not None and " 200 " in f" {_text(propstat, f'{{{DAV}}}status')} ":
                listed[href] = _text(prop, f"{{{DAV}}}getetag")
        if len(listed) > MAX_EVENTS:
            raise CalDavError(f"This calendar has more than {MAX_EVENTS:,} events: choose a smaller one.")
    return listed


def _report(account: Account, url: str, body: str, *, depth: str = "0") -> Answered:
    return request(
        "REPORT",
        url,
        body=body.encode(),
        headers=account.headers(**{"Depth": depth, "Content-Type": "application/xml; charset=utf-8"}),
        deadline=settings.BUSY_CALENDAR_DEADLINE,
        timeout=settings.BUSY_CALENDAR_TIMEOUT,
        max_bytes=settings.BUSY_CALENDAR_MAX_BYTES,
        what=WHAT,
    )


def _events(answered: Answered) -> tuple[dict[str, tuple[str, bytes]], list[str]]:
    """``({href: (etag, data)}, [deleted hrefs])`` of a multistatus of event resources."""
    try:
        root = fromstring(answered.body)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise CalDavError("The calendar server sent an answer that could not be read.") from exc
    changed: dict[str, tuple[str, bytes]] = {}
    deleted: list[str] = []
    for response in root.iter(f"{{{DAV}}}response"):
        href = urljoin(answered.url, _text(response, f"{{{DAV}}}href"))
        if " 404 " in f" {_text(response, f'{{{DAV}}}status')} ":
            deleted.append(href)
            continue
        for propstat in response.iter(f"{{{DAV}}}propstat"):
            prop = propstat.find(f"{{{DAV}}}prop")
            if prop is None or " 200 " not in f" {_text(propstat, f'{{{DAV}}}status')} ":
                continue
            data = _text(prop, f"{{{CALDAV}}}calendar-data")
            if data:
                changed[href] = (_text(prop, f"{{{DAV}}}getetag"), data.encode())
        if len(changed) > MAX_EVENTS:
            raise CalDavError(f"This calendar has more than {MAX_EVENTS:,} events: choose a smaller one.")
    return changed, deleted


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class CalDavConflict(CalDavError):
    """The event changed on the server since we last wrote it (If-Match failed), or exists
    already where we meant to create it: read it again, then decide."""


def put_event(account: Account, url: str, data: bytes, *, etag: str = "", force: bool = False) -> str:
    """Write one event resource at ``url``: create it (``etag`` empty: only if nothing is there)
    or replace the version we wrote (``If-Match``); ``force`` writes whatever is there. Returns
    the new ETag ("" if the server sends none)."""
    condition = {} if force else {"If-Match": etag} if etag else {"If-None-Match": "*"}
    answered = request(
        "PUT",
        url,
        body=data,
        headers=account.headers(**{"Content-Type": "text/calendar; charset=utf-8", **condition}),
        deadline=settings.BUSY_CALENDAR_DEADLINE,
        timeout=settings.BUSY_CALENDAR_TIMEOUT,
        max_bytes=MAX_DISCOVERY_BYTES,
        what=WHAT,
    )
    if answered.status == 412:
        raise CalDavConflict("The event changed in the calendar since it was written.")
    if answered.status not in (200, 201, 204):
        _check(answered)
    return answered.headers.get("etag", "")


def delete_event(account: Account, url: str, *, etag: str = "") -> bool:
    """Remove the event resource at ``url`` (the version we wrote, with ``etag``); False if it
    was gone already."""
    answered = request(
        "DELETE",
        url,
        headers=account.headers(**({"If-Match": etag} if etag else {})),
        deadline=settings.BUSY_CALENDAR_DEADLINE,
        timeout=settings.BUSY_CALENDAR_TIMEOUT,
        max_bytes=MAX_DISCOVERY_BYTES,
        what=WHAT,
    )
    if answered.status == 404:
        return False
    if answered.status == 412:
        raise CalDavConflict("The event changed in the calendar since it was written.")
    if answered.status not in (200, 204):
        _check(answered)
    return True


def _principal(account: Account, url: str) -> str | None:
    try:
        answers = _propfind(account, url, _PRINCIPAL, depth="0")
    except CalDavError as exc:
        if getattr(exc, "status", None) in (404, 405, 501):
            return None  # not a DAV resource: try the well-known address
        raise
    return _one_href(answers, f"{{{DAV}}}current-user-principal")


def _propfind(account: Account, url: str, body: str, *, depth: str) -> list[tuple[str, Element]]:
    """``(absolute href, merged 200 <prop>)`` for each response of a PROPFIND."""
    answered = request(
        "PROPFIND",
        url,
        body=body.encode(),
        headers=account.headers(**{"Depth": depth, "Content-Type": "application/xml; charset=utf-8"}),
        deadline=settings.BUSY_CALENDAR_DEADLINE,
        timeout=settings.BUSY_CALENDAR_TIMEOUT,
        max_bytes=MAX_DISCOVERY_BYTES,
        what=WHAT,
    )
    _check(answered)
    return [(urljoin(answered.url, href), prop) for href, prop in _responses(answered.body)]


def _check(answered: Answered) -> None:
    if answered.status == 207:
        return
    if answered.status == 401:
        error = CalDavError(
            "The calendar server refused the username or password. Check them, or make a new app password."
        )
    elif answered.status == 403:
        error = CalDavError("The calendar server refused access to this account's calendars.")
    else:
        error = CalDavError(f"The calendar server answered {answered.status}.")
    error.status = answered.status  # type: ignore[attr-defined]
    raise error


def _responses(body: bytes) -> list[tuple[str, Element]]:
    try:
        root = fromstring(body)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise CalDavError("The calendar server sent an answer that could not be read.") from exc
    found = []
    for response in root.iter(f"{{{DAV}}}response"):
        href = _text(response, f"{{{DAV}}}href")
        merged = Element(f"{{{DAV}}}prop")
        for propstat in response.iter(f"{{{DAV}}}propstat"):
            status = _text(propstat, f"{{{DAV}}}status")
            prop = propstat.find(f"{{{DAV}}}prop")
            if prop is not None and " 200 " in f" {status} ":
                merged.extend(list(prop))
        if href:
            found.append((href, merged))
    return found


def _one_href(answers: list[tuple[str, Element]], tag: str) -> str | None:
    for href, prop in answers:
        holder = prop.find(tag)
        if holder is not None:
            inner = _text(holder, f"{{{DAV}}}href")
            if inner:
                return urljoin(href, inner)
    return None


def _text(element: Element, tag: str) -> str:
    found = element.find(tag)
    return (found.text or "").strip() if found is not None else ""
