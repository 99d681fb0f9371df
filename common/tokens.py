"""Signed ``<id>.<mac>`` tokens: manage links, feed links and unsubscribe links.

The MAC is an HMAC-SHA256 (Django's ``salted_hmac``, keyed by SECRET_KEY) of the id and
a random per-row key, cut to 192 bits. Nothing secret is stored, links can be rebuilt
for every email, a new key revokes the old link, and ``SECRET_KEY_FALLBACKS`` keeps
links working through a key rotation. See docs/decisions.md ("Manage and feed links").
"""

from __future__ import annotations

import base64
import re
import secrets

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

MAX_IDENT_LENGTH = 18
MAX_MAC_LENGTH = 64
# What we issue: idents are ids or references (BK-7Q2M9XHD), MACs URL-safe base64. Anything
# else (a NUL byte, a space) is not ours and never reaches a query.
_IDENT = re.compile(r"[A-Za-z0-9-]+")
_MAC = re.compile(r"[A-Za-z0-9_-]+")


def new_key() -> str:
    """128 random bits, hex: the per-row key behind a token."""
    return secrets.token_hex(16)


def _mac(salt: str, ident: str, key: str, secret: str) -> str:
    digest = salted_hmac(salt, f"{ident}:{key}", secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def make_token(*, salt: str, ident: object, key: str) -> str:
    """``<ident>.<mac>`` for the row ``ident`` with its ``key``."""
    return f"{ident}.{_mac(salt, str(ident), key, settings.SECRET_KEY)}"


def split_token(token: str, *, max_ident: int = MAX_IDENT_LENGTH) -> tuple[str, str] | None:
    """``(ident, mac)`` of a well-formed token, or None for anything malformed."""
    ident, sep, mac = (token or "").partition(".")
    if not sep or not ident or len(ident) > max_ident or not mac or len(mac) > MAX_MAC_LENGTH:
        return None
    if not (_IDENT.fullmatch(ident) and _MAC.fullmatch(mac)):
        return None
    return ident, mac


def split_numeric_token(token: str) -> tuple[int, str] | None:
    """``(id, mac)`` of a token whose ident is a database id, or None."""
    parts = split_token(token)
    if parts is None or not parts[0].isdigit():
        return None
    return int(parts[0]), parts[1]


def mac_matches(*, salt: str, ident: object, key: str, mac: str) -> bool:
    """Whether ``mac`` signs ``ident`` and ``key`` under the current or a fallback secret (constant time)."""
    if not key:
        return False
    return any(
        constant_time_compare(mac, _mac(salt, str(ident), key, secret))
        for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
    )
