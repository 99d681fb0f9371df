"""Stored CalDAV passwords are Fernet tokens: readable with the configured keys only, rotated
by putting a new key first, never the password itself."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from common.credentials import CredentialUnreadable, decrypt, encrypt, rotate


def test_a_secret_is_stored_as_a_token_and_read_back(settings) -> None:
    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode()]
    token = encrypt("app-password-1")
    assert "app-password-1" not in token and token != encrypt("app-password-1")
    assert decrypt(token) == "app-password-1"


def test_keys_rotate_newest_first(settings) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIAL_KEYS = [old]
    token = encrypt("app-password-1")
    settings.CREDENTIAL_KEYS = [new, old]
    assert decrypt(token) == "app-password-1"
    rotated = rotate(token)
    settings.CREDENTIAL_KEYS = [new]
    assert decrypt(rotated) == "app-password-1"
    with pytest.raises(CredentialUnreadable):
        decrypt(token)


def test_without_keys_one_is_derived_from_the_secret_key(settings) -> None:
    settings.CREDENTIAL_KEYS = []
    token = encrypt("app-password-1")
    assert decrypt(token) == "app-password-1"
    settings.SECRET_KEY = "another secret key, another derived key, 50 characters"
    with pytest.raises(CredentialUnreadable):
        decrypt(token)


@pytest.mark.parametrize("junk", ["", "not a token", "gAAAAA" + "x" * 80])
def test_junk_is_unreadable_not_a_crash(junk: str) -> None:
    with pytest.raises(CredentialUnreadable):
        decrypt(junk)
