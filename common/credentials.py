"""Secrets we must keep readable (a coach's CalDAV app password): encrypted at rest with Fernet.

Keys come from ``CREDENTIAL_KEYS`` (comma-separated Fernet keys, newest first): every value is
encrypted with the first and read with any, so a key is rotated by putting a new one in front,
running ``rotate`` over the stored values, then dropping the old key. Without the setting (local
use) one key is derived from ``SECRET_KEY``. A database dump holds only tokens; values are never
logged. Anything unreadable raises ``CredentialUnreadable``.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class CredentialUnreadable(Exception):
    """A stored secret no configured key opens (tampered, or its key was dropped)."""


def _box() -> MultiFernet:
    keys = [key.strip() for key in settings.CREDENTIAL_KEYS if key.strip()]
    if not keys:
        digest = hashlib.sha256(f"credentials:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(value: str) -> str:
    return _box().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _box().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise CredentialUnreadable("A stored credential could not be read with the configured keys.") from exc


def rotate(token: str) -> str:
    """The same secret encrypted with the newest key (for a key rotation)."""
    try:
        return _box().rotate(token.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise CredentialUnreadable("A stored credential could not be read with the configured keys.") from exc
