"""Reads of the practice: clients, packages, passes and ledgers."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from practice.models import Client, Package, Pass, PassEntry, SessionNote


def pass_entries(*, pass_obj: Pass) -> QuerySet[PassEntry]:
    return PassEntry.objects.filter(pass_obj=pass_obj).select_related("booking").order_by("at", "pk")


def client_passes_usable(*, coach_id: int, email: str, offering_id: int) -> QuerySet[Pass]:
    """A client's passes that could pay for this offering now (balance left), soonest to end first."""
    return (
        Pass.objects.filter(
            coach_id=coach_id,
            client__email=email.strip().lower(),
            remaining__gt=0,
            package__offerings__id=offering_id,
        )
        .select_related("package")
        .order_by("expires_at")
    )


# --- "Download my data" (registered with accounts in practice/apps.py) -----------------


def _ledger(pass_obj: Pass) -> dict[str, Any]:
    return {
        "reference": pass_obj.reference,
        "package": pass_obj.name,
        "sessions": pass_obj.sessions,
        "remaining": pass_obj.remaining,
        "expires_at": pass_obj.expires_at.isoformat(),
        "ledger": [
            {
                "kind": entry.kind,
                "amount": entry.amount,
                "booking": entry.booking.reference if entry.booking_id else None,
                "actor": entry.actor,
                "reason": entry.reason,
                "late": entry.late,
                "at": entry.at.isoformat(),
            }
            for entry in pass_obj.entries.all()
        ],
    }


def practice_export(user: Any, emails: list[str]) -> dict[str, Any] | None:
    """A client's own passes and ledgers; for a coach also their clients with the private notes,
    their packages and every pass they granted. None when there is nothing."""
    held = (
        Pass.objects.filter(Q(client__user=user) | Q(client__email__in=emails))
        .select_related("client")
        .prefetch_related(Prefetch("entries", queryset=PassEntry.objects.select_related("booking")))
    )
    data: dict[str, Any] = {}
    if passes := [_ledger(pass_obj) for pass_obj in held]:
        data["my_passes"] = passes
    if user.is_coach:
        coach = user.coach
        data["clients"] = [
            {
                "name": client.name,
                "email": client.email,
                "notes": client.notes,
                "session_notes": [
                    {
                        "booking": note.booking.reference,
                        "note": note.body,
                        "updated_at": note.updated_at.isoformat(),
                    }
                    for note in client.session_notes.all()
                ],
            }
            for client in Client.objects.filter(coach=coach).prefetch_related(
                Prefetch("session_notes", queryset=SessionNote.objects.select_related("booking"))
            )
        ]
        data["packages"] = [
            {
                "name": package.name,
                "sessions": package.sessions,
                "validity_days": package.validity_days,
                "valid_until": package.valid_until.isoformat() if package.valid_until else None,
            }
            for package in Package.objects.filter(coach=coach)
        ]
        data["granted_passes"] = [
            {"client": pass_obj.client.email, **_ledger(pass_obj)}
            for pass_obj in Pass.objects.filter(coach=coach)
            .select_related("client")
            .prefetch_related(Prefetch("entries", queryset=PassEntry.objects.select_related("booking")))
        ]
    return data or None
