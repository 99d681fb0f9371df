"""Validators for text that reaches emails, invites and feeds: one line, and a deliverable address."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# C0 and C1 controls, line and paragraph separators, and the invisible bidi and zero-width
# marks: a line-splitting reader of an invite or a header would act on any of them.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def validate_single_line(value: str) -> None:
    """Names and headlines are one line of visible text (no line breaks or control characters)."""
    if _CONTROL.search(value):
        raise ValidationError(
            "Use letters, spaces and punctuation only: no line breaks or control characters.",
            code="control_character",
        )


def validate_mailbox(value: str) -> None:
    """An address on a named domain: IP literals (``x@[127.0.0.1]``) are refused."""
    if value.rpartition("@")[2].startswith("["):
        raise ValidationError(
            "Use an email address with a domain name, like name@example.com.", code="address_literal"
        )
