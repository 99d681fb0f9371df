"""Booking references and the secret links: manage links and calendar-feed links.

A manage token is ``<reference>.<mac>`` and a feed token ``<owner id>.<mac>``, both signed
``<id>.<mac>`` tokens (common/tokens.py) over a random per-row key: replacing the key
revokes the link; a blank feed key means "no feed yet". Anything malformed is "not found".
"""

from __future__ import annotations

import secrets

from django.db.models import QuerySet

from accounts.models import User
from booking.models import Booking, BookingSeries, WaitlistEntry
from coaching.models import Coach
from common import tokens
from common.tokens import new_key as new_manage_key

__all__ = [
    "booking_for_manage_token",
    "client_feed_token",
    "coach_feed_token",
    "coach_for_feed_token",
    "manage_token",
    "new_series_reference",
    "series_for_manage_token",
    "series_manage_token",
    "new_feed_key",
    "new_manage_key",
    "new_room_key",
    "new_reference",
    "user_for_feed_token",
    "new_waitlist_reference",
    "waitlist_entry_for_token",
    "waitlist_token",
]

_MANAGE_SALT = "booking.manage-link"
_SERIES_SALT = "booking.series-link"
_WAITLIST_SALT = "booking.waitlist-link"
_COACH_FEED_SALT = "booking.feed.coach"
_CLIENT_FEED_SALT = "booking.feed.client"
# Crockford's base32 without I, L, O, U: easy to read out on a phone call.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_MAX_REFERENCE = 16

new_feed_key = tokens.new_key


def new_room_key() -> str:
    """A booking's video-room name: 26 letters and digits (130 bits), unguessable, and plain
    enough for every meeting service's room names and for reading out."""
    return "".join(secrets.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(26))


def new_reference() -> str:
    return "BK-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def new_series_reference() -> str:
    return "SR-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def new_waitlist_reference() -> str:
    return "WL-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def waitlist_token(entry: WaitlistEntry) -> str:
    return tokens.make_token(salt=_WAITLIST_SALT, ident=entry.reference, key=entry.manage_key)


def waitlist_entry_for_token(token: str) -> WaitlistEntry | None:
    """The waitlist entry a token opens, or None for anything unknown or tampered."""
    parts = tokens.split_token(token, max_ident=_MAX_REFERENCE)
    if parts is None or not parts[0].startswith("WL-"):
        return None
    entry = WaitlistEntry.objects.select_related("coach__user", "offering").filter(reference=parts[0]).first()
    if entry is None or not tokens.mac_matches(
        salt=_WAITLIST_SALT, ident=entry.reference, key=entry.manage_key, mac=parts[1]
    ):
        return None
    return entry


def series_manage_token(series: BookingSeries) -> str:
    return tokens.make_token(salt=_SERIES_SALT, ident=series.reference, key=series.manage_key)


def series_for_manage_token(token: str) -> BookingSeries | None:
    """The series a token opens, or None for anything unknown, tampered or revoked."""
    parts = tokens.split_token(token, max_ident=_MAX_REFERENCE)
    if parts is None or not parts[0].startswith("SR-"):
        return None
    series = (
        BookingSeries.objects.select_related("coach__user", "offering").filter(reference=parts[0]).first()
    )
    if series is None or not tokens.mac_matches(
        salt=_SERIES_SALT, ident=series.reference, key=series.manage_key, mac=parts[1]
    ):
        return None
    return series


def manage_token(booking: Booking) -> str:
    return tokens.make_token(salt=_MANAGE_SALT, ident=booking.reference, key=booking.manage_key)


def booking_for_manage_token(token: str, *, queryset: QuerySet[Booking] | None = None) -> Booking | None:
    """The booking a token opens, or None for anything unknown, tampered or revoked."""
    parts = tokens.split_token(token, max_ident=_MAX_REFERENCE)
    if parts is None or not parts[0].startswith("BK-"):
        return None
    qs = queryset if queryset is not None else Booking.objects.select_related("coach__user", "offering")
    booking = qs.filter(reference=parts[0]).first()
    if booking is None or not tokens.mac_matches(
        salt=_MANAGE_SALT, ident=booking.reference, key=booking.manage_key, mac=parts[1]
    ):
        return None
    return booking


def coach_feed_token(coach: Coach) -> str:
    """The token of the coach's feed link; "" while the coach has no feed."""
    return (
        tokens.make_token(salt=_COACH_FEED_SALT, ident=coach.pk, key=coach.feed_key) if coach.feed_key else ""
    )


def client_feed_token(user: User) -> str:
    """The token of a client's feed link; "" while they have no feed."""
    return (
        tokens.make_token(salt=_CLIENT_FEED_SALT, ident=user.pk, key=user.feed_key) if user.feed_key else ""
    )


def coach_for_feed_token(token: str) -> Coach | None:
    parts = tokens.split_numeric_token(token)
    if parts is None:
        return None
    coach = Coach.objects.filter(pk=parts[0]).first()
    if coach is None or not tokens.mac_matches(
        salt=_COACH_FEED_SALT, ident=coach.pk, key=coach.feed_key, mac=parts[1]
    ):
        return None
    return coach


def user_for_feed_token(token: str) -> User | None:
    parts = tokens.split_numeric_token(token)
    if parts is None:
        return None
    user = User.objects.filter(pk=parts[0], is_active=True).first()
    if user is None or not tokens.mac_matches(
        salt=_CLIENT_FEED_SALT, ident=user.pk, key=user.feed_key, mac=parts[1]
    ):
        return None
    return user
