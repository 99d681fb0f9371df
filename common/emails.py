"""Email helpers every app uses: templates in threes, and what to do when sending fails.

Templates come in threes: ``emails/<name>-subject.txt``, ``-body.txt`` and ``-body.html``.
The retry helpers give every sender one answer to "try again?", "how long until then?"
and "what do we tell the coach?" (a description with the SMTP code, never an address).
"""

from __future__ import annotations

import random
import smtplib
from email.utils import formataddr
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from common.validators import clean_address, clean_line

# Errors worth another attempt (a permanent refusal among them is told apart by is_permanent).
RETRYABLE = (smtplib.SMTPException, OSError)


def absolute_url(path: str) -> str:
    """``/b/...`` -> ``https://coaching.example.com/b/...`` for emails and invites."""
    return f"{settings.SITE_URL}{path}"


def render_email(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """``(subject, text, html)`` of the template triple ``emails/<name>-*``."""
    # Subjects are one line of visible text whatever a name contains (no header injection,
    # no U+2028, NEL or ESC for a line-splitting reader to act on).
    subject = clean_line(render_to_string(f"emails/{name}-subject.txt", context))
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    return subject, text, html


def mailbox(address: str, name: str = "") -> str:
    """A To, From or Reply-To header value: ``Name <address>``, both cleaned of breaks and controls.

    The name may come from the database as it was before input was checked.
    """
    address, name = clean_address(address), clean_line(name)
    if not name:
        return address
    try:
        return formataddr((name, address))
    except UnicodeEncodeError:
        # An internationalised address: Django's sanitize_address encodes it when sending.
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{address}>'


def smtp_code(exc: BaseException) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return max(codes) if codes else None
    code = getattr(exc, "smtp_code", None)
    return code if isinstance(code, int) else None


def is_permanent(exc: BaseException) -> bool:
    """A 5xx refusal of the address or the message: trying again gets the same answer."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        code = smtp_code(exc)
        return code is not None and 500 <= code < 600
    return False


# The first that matches describes the failure: subclasses before the classes they extend.
_DESCRIPTIONS: tuple[tuple[type[BaseException], str], ...] = (
    (smtplib.SMTPRecipientsRefused, "The mail server refused the recipient's address"),
    (smtplib.SMTPSenderRefused, "The mail server refused our sender address"),
    (smtplib.SMTPAuthenticationError, "The mail server refused our login"),
    (smtplib.SMTPServerDisconnected, "The mail server closed the connection"),
    (smtplib.SMTPDataError, "The mail server refused the message"),
    (smtplib.SMTPException, "The mail server reported an error"),
    (TimeoutError, "The mail server did not answer in time"),
)


def describe_error(exc: BaseException) -> str:
    """What went wrong, for the coach and the log: the kind of failure and the SMTP code, no addresses."""
    code = smtp_code(exc)
    suffix = f" (SMTP {code})" if code else ""
    text = next(
        (text for kind, text in _DESCRIPTIONS if isinstance(exc, kind)), "Could not reach the mail server"
    )
    return f"{text}{suffix} [{type(exc).__name__}]"


def retry_delay(retries: int, *, base: float | None = None, maximum: float | None = None) -> float:
    """Seconds before retry number ``retries + 1``: exponential, capped, with jitter.

    ``base`` and ``maximum`` default to ``EMAIL_RETRY_BASE_SECONDS`` and
    ``EMAIL_RETRY_MAX_SECONDS``. Half the ceiling is fixed and half random ("equal
    jitter"), so retries of many emails after one outage spread out but none comes back at once.
    """
    base = settings.EMAIL_RETRY_BASE_SECONDS if base is None else base
    maximum = settings.EMAIL_RETRY_MAX_SECONDS if maximum is None else maximum
    ceiling = min(base * 2**retries, maximum)
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - timing jitter, not a secret
