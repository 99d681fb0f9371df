"""The writes of CalDAV calendar connections (issue 17): connect an account, choose which of
its calendars count as busy and which one receives bookings, remove it, and sync a calendar's
events into busy blocks. The protocol is coaching/caldav.py; the app password is stored as a
Fernet token (common/credentials.py) and decrypted only to make a request.

A sync reads what changed since the calendar's sync token (a full read at most a day apart, so
repeating events keep covering the horizon), keeps each event resource's busy time
(``CalDavEvent``) and rebuilds the calendar's ``BusyBlock``s from them in one transaction: the
slot engine reads busy blocks as before, whichever calendar they came from. Our own events
(bookings written into the coach's calendar, UIDs ``...@SITE_DOMAIN``) are not read back as busy:
the bookings block their time themselves.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from coaching import caldav, tasks
from coaching.busy_calendars import BusyCalendarError, busy_intervals, merged
from coaching.models import BusyBlock, CalDavAccount, CalDavCalendar, CalDavEvent, Coach
from coaching.services import availability_changed, busy_horizon
from common import credentials
from common.emails import RETRYABLE, absolute_url, describe_error, mailbox, render_email
from common.outbound import display_url

logger = logging.getLogger(__name__)

# A full read at least this often: a repeating event's occurrences move into the horizon.
FULL_SYNC_EVERY = timedelta(days=1)
_REFUSED = (401, 403)


def caldav_connect(*, coach: Coach, server: str, username: str, password: str) -> CalDavAccount:
    """Find the account's calendars (CalDavError says why not) and keep them, each counted as
    busy until the coach says otherwise, none receiving bookings yet; a first sync is enqueued."""
    found, calendars = caldav.discover(server, username=username, password=password)
    with transaction.atomic():
        again = CalDavAccount.objects.filter(coach=coach, home_url=found.home_url, username=username).first()
        if again is not None:
            return _reconnect(again, password=password, calendars=calendars)
        account = CalDavAccount.objects.create(
            coach=coach,
            server=server.strip()[:2000],
            home_url=found.home_url,
            username=username,
            password_token=credentials.encrypt(password),
        )
        rows = CalDavCalendar.objects.bulk_create(
            CalDavCalendar(account=account, coach=coach, url=c.url, name=c.name[:200], color=c.color)
            for c in calendars
        )
        for row in CalDavCalendar.objects.filter(account=account):
            transaction.on_commit(lambda pk=row.pk: tasks.sync_caldav_calendar.delay(pk), robust=True)
    logger.info("caldav account %s (coach %s): connected, %d calendars", account.pk, coach.pk, len(rows))
    return account


def _reconnect(account: CalDavAccount, *, password: str, calendars: list[caldav.Calendar]) -> CalDavAccount:
    """The same account connected again (a new app password): it works again, keeps the coach's
    choices, and gains the calendars made since."""
    CalDavAccount.objects.filter(pk=account.pk).update(
        password_token=credentials.encrypt(password),
        status=CalDavAccount.Status.OK,
        last_error="",
        last_error_at=None,
        broken_notified_at=None,
    )
    known = set(account.calendars.values_list("url", flat=True))
    CalDavCalendar.objects.bulk_create(
        CalDavCalendar(
            account=account, coach_id=account.coach_id, url=c.url, name=c.name[:200], color=c.color
        )
        for c in calendars
        if c.url not in known
    )
    for pk in account.calendars.filter(busy=True).values_list("pk", flat=True):
        transaction.on_commit(lambda pk=pk: tasks.sync_caldav_calendar.delay(pk), robust=True)
    account.refresh_from_db()
    logger.info("caldav account %s: connected again", account.pk)
    return account


def caldav_calendars_choose(*, account: CalDavAccount, busy: set[int], write: int | None) -> None:
    """Which of the account's calendars count as busy, and the one (or none) bookings go to."""
    with transaction.atomic():
        calendars = CalDavCalendar.objects.filter(account=account)
        calendars.filter(pk__in=busy).update(busy=True)
        dropped = list(calendars.exclude(pk__in=busy).filter(busy=True).values_list("pk", flat=True))
        calendars.filter(pk__in=dropped).update(busy=False, sync_token="", ctag="")
        CalDavEvent.objects.filter(calendar_id__in=dropped).delete()
        BusyBlock.objects.filter(caldav_calendar_id__in=dropped).delete()
        CalDavCalendar.objects.filter(coach_id=account.coach_id, write_bookings=True).update(
            write_bookings=False
        )
        if write is not None:
            calendars.filter(pk=write).update(write_bookings=True)
        for pk in calendars.filter(pk__in=busy).values_list("pk", flat=True):
            transaction.on_commit(lambda pk=pk: tasks.sync_caldav_calendar.delay(pk), robust=True)
        availability_changed(account.coach_id)


def caldav_account_remove(*, account: CalDavAccount) -> None:
    """Disconnect: the calendars, their events and busy blocks go; nothing is written any more."""
    with transaction.atomic():
        account.delete()
        availability_changed(account.coach_id)


def caldav_login(account: CalDavAccount) -> caldav.Account:
    """The account's calendar home with its credentials, for a request (CredentialUnreadable if
    the stored password no configured key opens)."""
    return caldav.Account(
        home_url=account.home_url,
        username=account.username,
        password=credentials.decrypt(account.password_token),
    )


def caldav_calendar_sync(*, calendar: CalDavCalendar, now: datetime | None = None) -> bool:
    """Read what changed in a busy calendar and rebuild its busy blocks; False when it could
    not be read (the error is kept on the account; refused credentials mark it broken).

    With a sync token, only the changes since it are read. A server without sync-collection is
    asked for the calendar's CTag first: unchanged, nothing more is read; changed, only the events
    whose ETag changed are fetched. Either way everything is read again at least daily."""
    now = now or timezone.now()
    account = calendar.account
    if account.status == CalDavAccount.Status.BROKEN or not calendar.busy:
        return False
    due = calendar.last_synced_at is None or calendar.last_synced_at < now - FULL_SYNC_EVERY
    ctag = calendar.ctag
    try:
        login = caldav_login(account)
        if calendar.sync_token and not due:
            changes = caldav.changes_since(login, calendar.url, calendar.sync_token)
        else:
            ctag = caldav.calendar_ctag(login, calendar.url)
            if not due and ctag and ctag == calendar.ctag:
                logger.info("caldav calendar %s: unchanged", calendar.pk)
                return True
            if not due and calendar.ctag:  # read before, and the server keeps no sync token
                known = dict(CalDavEvent.objects.filter(calendar=calendar).values_list("href", "etag"))
                changes = caldav.changes_by_etag(login, calendar.url, known)
            else:
                changes = caldav.changes_since(login, calendar.url, "")
        start = now - timedelta(days=1)
        end = now + busy_horizon(calendar.coach_id) + timedelta(days=1)
        zone = calendar.coach.zone
        read = {
            href: (
                etag,
                []
                if _ours(data) or _outside(data, start, end)
                else busy_intervals(data, zone=zone, start=start, end=end, all_day=account.block_all_day),
            )
            for href, (etag, data) in changes.changed.items()
        }
    except credentials.CredentialUnreadable:
        caldav_account_failed(
            account, "The stored password could not be read: connect the account again.", now, broken=True
        )
        return False
    except BusyCalendarError as exc:
        refused = getattr(exc, "status", None) in _REFUSED
        caldav_account_failed(account, exc.message, now, broken=refused)
        return False
    if not (changes.full or changes.changed or changes.deleted):
        CalDavCalendar.objects.filter(pk=calendar.pk, busy=True).update(
            sync_token=changes.token, ctag=ctag, last_synced_at=now
        )
        CalDavAccount.objects.filter(pk=account.pk).update(last_error="", last_error_at=None)
        logger.info("caldav calendar %s: unchanged", calendar.pk)
        return True
    with transaction.atomic():
        locked = CalDavCalendar.objects.select_for_update().filter(pk=calendar.pk, busy=True).first()
        if locked is None:
            return False  # no longer busy, or gone, while we were reading
        events = CalDavEvent.objects.filter(calendar=locked)
        # Whole rows replaced in bulk: a first read of thousands of events is a few statements.
        if changes.full:
            events.delete()
        else:
            gone = [*changes.deleted, *read]
            for i in range(0, len(gone), 500):  # IN lists of a size every database takes
                events.filter(href__in=gone[i : i + 500]).delete()
        CalDavEvent.objects.bulk_create(
            [
                CalDavEvent(
                    calendar=locked,
                    href=href,
                    etag=etag,
                    busy=[[s.isoformat(), e.isoformat()] for s, e in busy],
                )
                for href, (etag, busy) in read.items()
            ],
            batch_size=1000,
        )
        _rebuild_blocks(locked)
        CalDavCalendar.objects.filter(pk=locked.pk).update(
            sync_token=changes.token, ctag=ctag, last_synced_at=now
        )
        CalDavAccount.objects.filter(pk=account.pk).update(last_error="", last_error_at=None)
        availability_changed(locked.coach_id)
    logger.info(
        "caldav calendar %s: synced (%s, %d changed)",
        calendar.pk,
        "full" if changes.full else "changes",
        len(read),
    )
    return True


def _ours(data: bytes) -> bool:
    """A booking we wrote into this calendar (its UID is ours): its booking blocks the time."""
    return (
        re.search(rb"^UID:[^\r\n]*@" + re.escape(settings.SITE_DOMAIN.encode()) + rb"\r?$", data, re.M)
        is not None
    )


_DATE = re.compile(rb"^(DTSTART|DTEND)[;:][^\r\n]*?:?(\d{8})(?:T\d{6}Z?)?\r?$", re.M | re.I)
_ZONES = re.compile(rb"^BEGIN:VTIMEZONE\r?$.*?^END:VTIMEZONE\r?$", re.M | re.I | re.S)
# Whatever its zone, an event's day is at most this far from its UTC day.
_ZONE_MARGIN = timedelta(days=2)


def _outside(data: bytes, start: datetime, end: datetime) -> bool:
    """Whether an event resource clearly ends before ``start`` or begins after ``end``, read from
    its DTSTART and DTEND lines alone (time zone definitions aside): most of a calendar's events
    are past, and parsing each of thousands costs seconds. Anything that repeats, has a DURATION,
    or several of either line is parsed as usual."""
    unfolded = _ZONES.sub(b"", data.replace(b"\r\n ", b"").replace(b"\r\n\t", b""))
    if re.search(rb"^(RRULE|RDATE|RECURRENCE-ID|DURATION)[;:]", unfolded, re.M | re.I):
        return False
    found: dict[bytes, list[bytes]] = {}
    for name, day in _DATE.findall(unfolded):
        found.setdefault(name.upper(), []).append(day)
    starts, ends = found.get(b"DTSTART", []), found.get(b"DTEND", [])
    if len(starts) != 1 or len(ends) > 1:
        return False
    try:
        first = datetime.strptime(starts[0].decode(), "%Y%m%d").replace(tzinfo=UTC)
        last = datetime.strptime((ends or starts)[0].decode(), "%Y%m%d").replace(tzinfo=UTC)
    except ValueError:
        return False
    return last + _ZONE_MARGIN < start or first - _ZONE_MARGIN > end


def _rebuild_blocks(calendar: CalDavCalendar) -> None:
    intervals: list[tuple[datetime, datetime]] = []
    # Most events of a calendar lie in the past and give no busy time.
    for busy in CalDavEvent.objects.filter(calendar=calendar).exclude(busy=[]).values_list("busy", flat=True):
        intervals += [
            (datetime.fromisoformat(s).astimezone(UTC), datetime.fromisoformat(e).astimezone(UTC))
            for s, e in busy
        ]
    BusyBlock.objects.filter(caldav_calendar=calendar).delete()
    BusyBlock.objects.bulk_create(
        [
            BusyBlock(
                coach_id=calendar.coach_id,
                caldav_calendar=calendar,
                start=s,
                end=e,
                source=calendar.name[:200],
            )
            for s, e in merged(intervals)
        ],
        batch_size=1000,
    )


def caldav_account_failed(account: CalDavAccount, message: str, now: datetime, *, broken: bool) -> None:
    """Keep what went wrong on the account (shown to the coach); ``broken``: the server refused
    the credentials, so nothing more is tried until the coach connects again."""
    fields = {"last_error": message[:500], "last_error_at": now}
    if broken:
        fields["status"] = CalDavAccount.Status.BROKEN
    CalDavAccount.objects.filter(pk=account.pk).update(**fields)
    logger.warning("caldav account %s: %s", account.pk, message)
    # The coach hears of it once: only the update that sets the mark sends the email.
    if broken and CalDavAccount.objects.filter(pk=account.pk, broken_notified_at__isnull=True).update(
        broken_notified_at=now
    ):
        _tell_coach(account, message)


def _tell_coach(account: CalDavAccount, message: str) -> None:
    coach = account.coach
    context = {
        "coach": coach,
        "account": account,
        "server": display_url(caldav.server_url(account.server)),
        "message": message,
        "dashboard_url": absolute_url(reverse("dashboard")),
        "SITE_NAME": settings.SITE_NAME,
    }
    subject, text, html = render_email("caldav-broken-coach", context)
    email = EmailMultiAlternatives(
        subject, text, to=[mailbox(coach.user.email)], headers={"Auto-Submitted": "auto-generated"}
    )
    email.attach_alternative(html, "text/html")
    try:
        email.send()
    except RETRYABLE as exc:
        logger.error("caldav account %s: the coach's email was not sent: %s", account.pk, describe_error(exc))
