"""Link guest bookings (and client records) to an account once its owner proves the email address is theirs."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.http import HttpRequest

from accounts.models import User
from booking.models import Booking
from practice.models import Client


def link_guest_bookings(*, user: User, email: str) -> int:
    """Give ``user`` the guest bookings made with ``email``; returns how many were linked."""
    if not email:
        return 0
    # The coaches' client records of that address are theirs too (their passes, on "My bookings").
    Client.objects.filter(user__isnull=True, email=email.strip().lower()).update(user=user)
    return Booking.objects.filter(client__isnull=True, client_email__iexact=email).update(client=user)


def on_email_confirmed(
    sender: Any, request: HttpRequest | None, email_address: EmailAddress, **kwargs: Any
) -> None:
    """allauth's ``email_confirmed``: the address is verified, so its guest bookings are the user's."""
    link_guest_bookings(user=email_address.user, email=email_address.email)


def on_user_logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """Guest bookings made with an already verified address while signed out join on the next sign-in."""
    for email in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True):
        link_guest_bookings(user=user, email=email)
