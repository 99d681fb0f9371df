"""The base of every error whose message is written for the person who caused it."""

from __future__ import annotations


class UserFacingError(Exception):
    """``message`` is safe to show: it says what went wrong in the reader's words, with no secrets."""

    message = "This could not be done."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message
