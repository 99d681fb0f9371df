"""The links in community emails: confirm (expires after 7 days) and unsubscribe (never expires).

Confirm links are ``django.core.signing`` output; unsubscribe links are signed
``<id>.<mac>`` tokens (common/tokens.py). Both honour ``SECRET_KEY_FALLBACKS``, and a new
subscriber key revokes every link sent so far.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.core import signing
from django.utils.crypto import constant_time_compare

from coaching.models import Coach
from common import tokens
from community.models import Subscriber

# The salts keep the names of the app these links were first issued by: changing them
# would break every confirmation and unsubscribe link already sent.
CONFIRM_SALT = "coaching.community.confirm"
UNSUBSCRIBE_SALT = "coaching.community.unsubscribe"
CONFIRM_MAX_AGE = timedelta(days=7)


def new_subscriber_key() -> str:
    return tokens.new_key()


def _key_digest(key: str) -> str:
    # The token carries a digest of the key, not the key: it only has to match it.
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def confirm_token(subscriber: Subscriber) -> str:
    return signing.dumps({"s": subscriber.pk, "k": _key_digest(subscriber.key)}, salt=CONFIRM_SALT)


class ConfirmLinkExpired(Exception):
    """A genuine confirmation link, too old to use: the person should sign up again."""

    def __init__(self, coach: Coach | None) -> None:
        super().__init__("confirmation link expired")
        self.coach = coach


def subscriber_for_confirm_token(token: str) -> Subscriber | None:
    """The subscriber a confirmation link names; None if unknown or tampered.

    Raises ConfirmLinkExpired for a genuine link older than CONFIRM_MAX_AGE.
    """
    if not token or len(token) > 300:
        return None
    try:
        payload = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        payload = signing.loads(token, salt=CONFIRM_SALT)  # genuine, only old: whose was it?
        found = _subscriber_for_payload(payload)
        raise ConfirmLinkExpired(found.coach if found else None) from None
    except signing.BadSignature:
        return None
    return _subscriber_for_payload(payload)


def _subscriber_for_payload(payload: Any) -> Subscriber | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        return None
    found = Subscriber.objects.select_related("coach").filter(pk=payload["s"]).first()
    if found is None or not constant_time_compare(str(payload.get("k", "")), _key_digest(found.key)):
        return None
    return found


def unsubscribe_token(subscriber: Subscriber) -> str:
    return tokens.make_token(salt=UNSUBSCRIBE_SALT, ident=subscriber.pk, key=subscriber.key)


def subscriber_for_unsubscribe_token(token: str) -> Subscriber | None:
    """The subscriber an unsubscribe link names, or None for anything unknown or tampered."""
    parts = tokens.split_numeric_token(token)
    if parts is None:
        return None
    found = Subscriber.objects.select_related("coach").filter(pk=parts[0]).first()
    if found is None or not tokens.mac_matches(
        salt=UNSUBSCRIBE_SALT, ident=found.pk, key=found.key, mac=parts[1]
    ):
        return None
    return found
