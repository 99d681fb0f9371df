"""Text that reaches emails, invites and feeds: validators for input, cleaners for output.

Input is refused when a name holds a line break or a control character (``validate_single_line``,
``validate_mailbox``). Rows written before those checks existed still hold such text, so
everything that builds an invite, a feed or a header also passes its text through
``clean_line`` (one line), ``clean_text`` (lines kept, for formats that escape ``\n``) or
``clean_address``.
"""

from __future__ import annotations

import re
import unicodedata

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
    """An address on a named domain, with no control character: IP literals (``x@[127.0.0.1]``) are refused.

    Django's own check lets a quoted local part carry controls (``"a\x0bb"@example.com``).
    """
    if _CONTROL.search(value):
        raise ValidationError(
            "Enter an email address without line breaks or control characters.", code="control_character"
        )
    if value.rpartition("@")[2].startswith("["):
        raise ValidationError(
            "Use an email address with a domain name, like name@example.com.", code="address_literal"
        )


# Unicode categories a line-splitting reader may act on (controls, line and paragraph
# separators) or that hide what a text says (format characters: zero-width, bidi).
_PHONE = re.compile(r"\+?[0-9][0-9 ().-]{4,30}")


def validate_phone_number(value: str) -> None:
    """A number someone can dial: digits with the usual separators, an optional leading +,
    6 to 20 digits."""
    value = value.strip()
    digits = sum(ch.isdigit() for ch in value)
    if not _PHONE.fullmatch(value) or not 6 <= digits <= 20:
        raise ValidationError(
            "Enter a phone number with its country code, like +44 20 7946 0000.", code="invalid_phone"
        )


_BREAKS = frozenset({"Cc", "Zl", "Zp"})
_INVISIBLE = "Cf"


def clean_line(text: str) -> str:
    """``text`` as one line of visible text: breaks and controls become spaces, format characters go.

    For every text that reaches an invite, a feed or an email header, whatever the database
    holds: U+2028, NEL, VT, ESC, CR and LF can then never start a line of their own.
    Runs of whitespace become one space.
    """
    if not text.isprintable():
        text = "".join(
            " "
            if (category := unicodedata.category(char)) in _BREAKS
            else ""
            if category == _INVISIBLE
            else char
            for char in text
        )
    return " ".join(text.split())


def clean_text(text: str) -> str:
    """Like ``clean_line`` for each line, keeping ``\n`` (CR LF and CR become ``\n``) between them.

    Only for formats that escape ``\n`` themselves, like iCalendar's TEXT values.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(clean_line(line) for line in lines)


def clean_address(address: str) -> str:
    """An email address fit for a header or a ``mailto:``: it ends at the first break, control or space.

    ``"a@example.com\r\nBcc: b@example.com"`` is ``a@example.com``; format characters go.
    """
    words = clean_line(address).split(" ", 1)
    return words[0]
