"""The client's pass page, /passes/<token>/: what is left, until when, its history, where it books.

No login: the token is the secret (practice/tokens.py), so a client sees only the pass whose
link they hold; anything unknown or tampered is a 404. Lookups are throttled per address, as
the booking manage links are, and the page is never cached or indexed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from common.display import moment_label, visitor_zone, zone_city
from common.ratelimit import AddressRateThrottle, too_many_requests
from common.shortcuts import found_or_404
from common.timezones import timezone_names
from practice import emails, selectors
from practice.models import Pass, PassEntry
from practice.tokens import pass_for_token

Kind = PassEntry.Kind


def pass_lookup_throttle() -> AddressRateThrottle:
    """As many pass lookups per address as manage-link lookups: a token is guessed no faster."""
    return AddressRateThrottle("pass-lookup", settings.MANAGE_LOOKUP_RATE)


@dataclass(frozen=True)
class LedgerLine:
    """One entry of the pass's history, in the client's words and zone."""

    when: str  # "Tuesday 1 December 2026, 07:00"
    iso: str  # for <time datetime>
    words: str  # "Used for Intro call, Wednesday 2 December 2026, 10:00"
    amount: str  # "+3", "−1", "0"


def _session(entry: PassEntry, zone_name: str) -> str:
    booking = entry.booking
    if booking is None:
        return ""
    return f"{booking.offering.title}, {moment_label(booking.start, zone_name)}"


def ledger_words(entry: PassEntry, *, coach_name: str, zone_name: str) -> str:
    """What one ledger entry did, as the client reads it."""
    session = _session(entry, zone_name)
    reason = entry.reason.strip()
    if entry.kind == Kind.GRANT:
        return f"Granted: {emails.sessions_text(entry.amount)}" + (f" ({reason})" if reason else "")
    if entry.kind == Kind.USE:
        return f"Used for {session}" if session else "Used"
    if entry.kind == Kind.RETURN:
        words = "Returned — late cancellation" if entry.late else "Returned"
        if session:
            words += f": {session}"
        if reason and entry.actor == PassEntry.Actor.COACH:
            words += f" ({coach_name}: {reason})"
        return words
    if entry.kind == Kind.FORFEIT:
        why = (
            "no-show"
            if entry.booking is not None and entry.booking.status == "no_show"
            else "late cancellation"
        )
        return f"Forfeited — {why}" + (f": {session}" if session else "")
    if entry.kind == Kind.EXPIRE:
        return f"Expired: {emails.sessions_text(-entry.amount)} unused at the end of the pass"
    if entry.kind == Kind.ADJUST:
        change = "added" if entry.amount > 0 else "removed"
        return f"Adjusted by {coach_name}: {emails.sessions_text(abs(entry.amount))} {change}" + (
            f" ({reason})" if reason else ""
        )
    return entry.get_kind_display()


def _amount(value: int) -> str:
    # A real minus sign: "−1" reads as minus one, "-1" as a dash.
    return f"+{value}" if value > 0 else (f"\u2212{-value}" if value < 0 else "0")


def _state(pass_obj: Pass, now: datetime) -> str:
    if pass_obj.expires_at <= now:
        return "ended"
    if pass_obj.remaining <= 0:
        return "used"
    return "active"


@require_safe
def pass_page(request: HttpRequest, token: str) -> HttpResponse:
    """The pass behind a pass link: coach, package, sessions left, expiry, history, "Book a session"."""
    if not pass_lookup_throttle().allow_request(request):
        return too_many_requests(request)
    pass_obj = found_or_404(pass_for_token(token), "No pass for this link.")
    now = timezone.now()
    coach = pass_obj.coach
    entries = list(selectors.pass_entries(pass_obj=pass_obj).select_related("booking__offering"))
    # Times in the visitor's zone: ?tz=, their account's, else the zone they last booked in.
    booked_zones = [e.booking.client_time_zone for e in entries if e.booking is not None]
    choice = visitor_zone(request, fallback=booked_zones[-1] if booked_zones else coach.time_zone)
    zone_name = choice.name
    state = _state(pass_obj, now)
    offerings = list(pass_obj.package.offerings.filter(is_active=True)) if state == "active" else []
    context = {
        "pass": pass_obj,
        "coach": coach,
        "client": pass_obj.client,
        "state": state,
        "left": emails.sessions_text(pass_obj.remaining),
        "until": emails.until_label(pass_obj.expires_at, zone_name),
        "expires_iso": pass_obj.expires_at.astimezone(choice.zone).isoformat(),
        "book_links": [
            (offering, emails.book_path(pass_obj, offering, token=token)) for offering in offerings
        ],
        "ledger": [
            LedgerLine(
                when=moment_label(entry.at, zone_name),
                iso=entry.at.astimezone(choice.zone).isoformat(),
                words=ledger_words(entry, coach_name=coach.display_name, zone_name=zone_name),
                amount=_amount(entry.amount),
            )
            for entry in reversed(entries)
        ],
        "zone_choice": choice,
        "zone_name": zone_name,
        "zone_city": zone_city(zone_name),
        "zones": names if zone_name in (names := timezone_names()) else (zone_name, *names),
        "contact_email": coach.contact_email,
    }
    response = render(request, "practice/pass.html", context, status=HTTPStatus.OK)
    # The token in the address is the secret: no cache keeps the page, no search engine lists it.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
