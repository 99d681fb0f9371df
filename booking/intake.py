"""Intake questions: the answers a client gives when booking.

An offering's ``intake_questions`` is a list of ``{"label", "type", "required"}``;
question *n* (from 1) is answered under the key ``q<n>``. Answers are stored under the
question's label, so the booking keeps what was asked even if the coach edits it later.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError

from coaching.models import Offering

MAX_ANSWER_LENGTH = 2000
TYPES = ("text", "long_text", "yes_no")


def questions(offering: Offering) -> list[dict[str, Any]]:
    """The offering's questions with their answer keys, skipping malformed entries."""
    result = []
    for index, raw in enumerate(offering.intake_questions or [], start=1):
        if not isinstance(raw, dict) or not str(raw.get("label", "")).strip():
            continue
        kind = raw.get("type") if raw.get("type") in TYPES else "text"
        result.append(
            {
                "key": f"q{index}",
                "label": str(raw["label"]).strip(),
                "type": kind,
                "required": bool(raw.get("required")),
            }
        )
    return result


def clean_answers(offering: Offering, raw: Mapping[str, Any] | None) -> dict[str, str]:
    """Validated answers keyed by question label; ValidationError maps each key to its problem."""
    raw = raw or {}
    known = questions(offering)
    errors: dict[str, str] = {}
    unknown = sorted(set(map(str, raw)) - {q["key"] for q in known})
    if unknown:
        errors[unknown[0]] = f"Unknown question “{unknown[0][:40]}”."
    cleaned: dict[str, str] = {}
    for question in known:
        value = raw.get(question["key"])
        if isinstance(value, bool) and question["type"] == "yes_no":
            value = "yes" if value else "no"
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[question["key"]] = "Answer with text."
            continue
        value = value.strip()
        if "\x00" in value:
            errors[question["key"]] = "Remove the NUL character (\\u0000) from this answer."
        elif question["type"] == "yes_no" and value not in ("", "yes", "no"):
            errors[question["key"]] = "Answer yes or no."
        elif len(value) > MAX_ANSWER_LENGTH:
            errors[question["key"]] = f"Keep the answer under {MAX_ANSWER_LENGTH} characters."
        elif question["required"] and not value:
            errors[question["key"]] = "This question needs an answer."
        else:
            cleaned[question["label"]] = value
    if errors:
        raise ValidationError(errors)
    return cleaned
