"""A person's own data: export all of it, or delete the account.

Accounts sits low in the layers, so the apps above it that hold a person's data
(bookings, community memberships) register a handler here from their ``AppConfig.ready``
(``register_account_data``): the export asks each for its part, and deletion lets each
forget or anonymise its rows, inside one transaction, before the user row goes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from common.errors import UserFacingError


class AccountDeletionRefused(UserFacingError):
    pass


@dataclass(frozen=True)
class AccountData:
    """One app's part of a person's data: ``export(user, emails)`` and ``delete(user, emails, now)``."""

    name: str
    export: Callable[[User, list[str]], Any]
    delete: Callable[[User, list[str], datetime], int]


_HANDLERS: dict[str, AccountData] = {}


def register_account_data(
    *,
    name: str,
    export: Callable[[User, list[str]], Any],
    delete: Callable[[User, list[str], datetime], int],
) -> None:
    """Add an app's data to the export (under ``name``) and to account deletion; idempotent."""
    _HANDLERS[name] = AccountData(name=name, export=export, delete=delete)


def user_emails(user: User) -> list[str]:
    """The account's address and every verified one, lower-cased."""
    verified = EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    return sorted({email.lower() for email in [*verified, user.email]})


def user_export_data(*, user: User) -> dict[str, Any]:
    """Everything we hold about ``user``, in plain JSON types."""
    emails = user_emails(user)
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "account": {
            "email": user.email,
            "name": user.name,
            "time_zone": user.time_zone,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
        },
        "email_addresses": [
            {"email": a.email, "verified": a.verified, "primary": a.primary}
            for a in EmailAddress.objects.filter(user=user).order_by("email")
        ],
    }
    for handler in _HANDLERS.values():
        part = handler.export(user, emails)
        if part is not None:
            data[handler.name] = part
    return data


def user_delete(*, user: User, now: datetime | None = None) -> int:
    """Delete ``user`` after every registered app has forgotten or anonymised its rows.

    Returns how many rows the apps changed. A coach's account is refused: their
    clients' bookings depend on it (the operator can hand the practice over in admin).
    """
    now = now or timezone.now()
    if user.is_coach:
        raise AccountDeletionRefused(
            "Your account holds a coach profile with its clients' bookings. "
            "Please ask the site's operator to close your practice first."
        )
    emails = user_emails(user)
    with transaction.atomic():
        changed = sum(handler.delete(user, emails, now) for handler in _HANDLERS.values())
        user.delete()
    return changed


def user_rename(*, user: User, name: str) -> None:
    """Set the account's name (one line, checked by the form), e.g. the one given at signup."""
    user.name = name.strip()
    User.objects.filter(pk=user.pk).update(name=user.name)


def remember_zone(*, user: User, name: str) -> None:
    """Keep the zone a signed-in client booked in, for showing times next time."""
    if user.time_zone != name:
        user.time_zone = name
        User.objects.filter(pk=user.pk).update(time_zone=name)


def account_ensure_verified(*, email: str, name: str = "", password: str | None = None) -> tuple[User, bool]:
    """The account for ``email`` with its address verified, made if missing: ``(user, created)``.

    An existing account keeps its name unless it has none; ``password`` (if given) is set.
    For operators (``manage.py createcoach``), who vouch for the address themselves.
    """
    email = User.objects.normalize_email(email.strip())
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        created = user is None
        if user is None:
            user = User.objects.create_user(email=email, password=password, name=name)
        else:
            changed = []
            if name and not user.name:
                user.name = name
                changed.append("name")
            if password:
                user.set_password(password)
                changed.append("password")
            if changed:
                user.save(update_fields=changed)
        EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email).update(primary=False)
        address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
        if address is None:
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        elif not (address.verified and address.primary):
            address.verified = address.primary = True
            address.save(update_fields=["verified", "primary"])
    return user, created
