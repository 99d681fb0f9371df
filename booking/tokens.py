"""Secret tokens for manage links.

A manage token is ``<reference>.<mac>``: the MAC is an HMAC-SHA256 (Django's
``salted_hmac``, keyed by SECRET_KEY) of the booking's reference and its random
``manage_key``. Nothing secret is stored, a leaked database alone yields no working
links, links can be rebuilt for every later email, and replacing ``manage_key``
revokes the old link. Comparison is constant-time; anything malformed is "not found".
"""

from __future__ import annotations

import base64
import secrets

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from booking.models import Booking

_SALT = "booking.manage-link"
# Crockford's base32 without I, L, O, U: easy to read out on a phone call.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_manage_key() -> str:
    """128 random bits, hex."""
    return secrets.token_hex(16)


def new_reference() -> str:
    return "BK-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def _mac(reference: str, manage_key: str, secret: str) -> str:
    digest = salted_hmac(_SALT, f"{reference}:{manage_key}", secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def manage_token(booking: Booking) -> str:
    return f"{booking.reference}.{_mac(booking.reference, booking.manage_key, settings.SECRET_KEY)}"


def booking_for_manage_token(token: str, *, queryset: object | None = None) -> Booking | None:
    """The booking a token opens, or None for anything unknown, tampered or revoked."""
    reference, sep, mac = (token or "").partition(".")
    if not sep or not reference.startswith("BK-") or len(reference) > 16 or not mac or len(mac) > 64:
        return None
    qs = queryset if queryset is not None else Booking.objects.select_related("coach", "offering")
    booking = qs.filter(reference=reference).first()
    if booking is None:
        return None
    for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        if constant_time_compare(mac, _mac(booking.reference, booking.manage_key, secret)):
            return booking
    return None
