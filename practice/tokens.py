"""Pass references and pass links: ``<reference>.<mac>`` signed tokens (common/tokens.py)
over a random per-pass key. Anything malformed, unknown or tampered is "not found"."""

from __future__ import annotations

import secrets

from django.db.models import QuerySet

from common import tokens
from practice.models import Pass

_SALT = "practice.pass-link"
# Crockford's base32 without I, L, O, U, as for bookings: easy to read out.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
new_pass_key = tokens.new_key


def new_pass_reference() -> str:
    return "PS-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def pass_token(pass_obj: Pass) -> str:
    return tokens.make_token(salt=_SALT, ident=pass_obj.reference, key=pass_obj.key)


def pass_for_token(token: str, *, queryset: QuerySet[Pass] | None = None) -> Pass | None:
    """The pass a token opens, or None."""
    parts = tokens.split_token(token, max_ident=16)
    if parts is None or not parts[0].startswith("PS-"):
        return None
    qs = queryset if queryset is not None else Pass.objects.select_related("coach", "package", "client")
    pass_obj = qs.filter(reference=parts[0]).first()
    if pass_obj is None or not tokens.mac_matches(
        salt=_SALT, ident=pass_obj.reference, key=pass_obj.key, mac=parts[1]
    ):
        return None
    return pass_obj
