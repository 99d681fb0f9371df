"""Reads of the practice: clients, packages, passes and ledgers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, Max, Min, OuterRef, Prefetch, Q, QuerySet

from coaching.models import Coach, Offering
from common.shortcuts import is_slug
from practice.models import Client, Package, Pass, PassEntry, SessionNote
from practice.tokens import pass_for_token

# The passes list's filters (the dashboard's "Passes" page).
PASSES_ACTIVE = "active"
PASSES_EXPIRING = "expiring"
PASSES_EXPIRED = "expired"
PASSES_USED_UP = "used"
PASS_FILTERS = (
    ("", "All passes"),
    (PASSES_ACTIVE, "Active"),
    (PASSES_EXPIRING, "Expiring soon"),
    (PASSES_EXPIRED, "Expired"),
    (PASSES_USED_UP, "Used up"),
)
# "Expiring soon": sessions left and an end within this many days.
EXPIRING_DAYS = 14
SEARCH_MAX_LENGTH = 100


def pass_status(pass_obj: Pass, now: datetime) -> str:
    """active (sessions left, not ended), used_up (none left) or expired (ended): the coach API's word."""
    if pass_obj.expires_at <= now:
        return "expired"
    return "active" if pass_obj.remaining > 0 else "used_up"


def pass_entries(*, pass_obj: Pass) -> QuerySet[PassEntry]:
    return PassEntry.objects.filter(pass_obj=pass_obj).select_related("booking").order_by("at", "pk")


def pass_forfeit_get(*, pass_obj: Pass, pk: int) -> PassEntry | None:
    """One forfeit entry of the pass's ledger (what the coach may give back)."""
    return PassEntry.objects.filter(pass_obj=pass_obj, pk=pk, kind=PassEntry.Kind.FORFEIT).first()


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


# --- The coach's side (every read takes the coach: another coach's rows are out of reach) ---


def coach_packages(*, coach: Coach) -> QuerySet[Package]:
    """The coach's packages, active ones first, with their offerings and the passes granted."""
    return (
        Package.objects.filter(coach=coach)
        .annotate(passes_granted=Count("passes"))
        .prefetch_related("offerings")
        .order_by("-is_active", "name", "pk")
    )


def coach_package_get(*, coach: Coach, pk: int) -> Package | None:
    return Package.objects.filter(coach=coach, pk=pk).prefetch_related("offerings").first()


def coach_packages_grantable(*, coach: Coach) -> QuerySet[Package]:
    """The packages the coach can grant now (a past fixed last day is refused at the grant)."""
    return Package.objects.filter(coach=coach, is_active=True).order_by("name", "pk")


def coach_passes(*, coach: Coach, now: datetime, status: str = "", q: str = "") -> QuerySet[Pass]:
    """The coach's passes, with their client: filtered by ``status`` (PASS_FILTERS) and a part of
    the client's name or email. Active and expiring ones soonest to end first, else newest first."""
    qs = Pass.objects.filter(coach=coach).select_related("client")
    live = Q(remaining__gt=0, expires_at__gt=now)
    if status == PASSES_ACTIVE:
        qs = qs.filter(live).order_by("expires_at", "pk")
    elif status == PASSES_EXPIRING:
        qs = qs.filter(live, expires_at__lte=now + timedelta(days=EXPIRING_DAYS)).order_by("expires_at", "pk")
    elif status == PASSES_EXPIRED:
        qs = qs.filter(expires_at__lte=now).order_by("-expires_at", "-pk")
    elif status == PASSES_USED_UP:
        qs = qs.filter(remaining=0, expires_at__gt=now).order_by("-created_at", "-pk")
    else:
        qs = qs.order_by("-created_at", "-pk")
    if q:
        qs = qs.filter(Q(client__name__icontains=q) | Q(client__email__icontains=q))
    return qs


def coach_pass_get(*, coach: Coach, reference: str) -> Pass | None:
    """One of the coach's passes by its reference (``PS-...``); None for anyone else's, or for
    anything that is no reference (a NUL byte never reaches the query)."""
    if not is_slug(reference):
        return None
    return (
        Pass.objects.filter(coach=coach, reference=reference[:16]).select_related("client", "package").first()
    )


def passes_expiring(*, coach: Coach, now: datetime, days: int = EXPIRING_DAYS) -> QuerySet[Pass]:
    """The coach's passes with sessions left that end within ``days``, soonest first (one query)."""
    return (
        Pass.objects.filter(
            coach=coach, remaining__gt=0, expires_at__gt=now, expires_at__lte=now + timedelta(days=days)
        )
        .select_related("client")
        .order_by("expires_at", "pk")
    )


def coach_client_get(*, coach: Coach, pk: int) -> Client | None:
    return Client.objects.filter(coach=coach, pk=pk).first()


def coach_client_by_email(*, coach: Coach, email: str) -> Client | None:
    return Client.objects.filter(coach=coach, email=email.strip().lower()).first()


def user_passes(*, user: Any, emails: list[str]) -> QuerySet[Pass]:
    """A signed-in client's own passes (their account's client records, or their verified
    addresses'), still running first, each with its coach."""
    return (
        Pass.objects.filter(Q(client__user=user) | Q(client__email__in=[e.lower() for e in emails]))
        .select_related("coach")
        .order_by("-expires_at", "-pk")
    )


def client_passes(*, client: Client) -> QuerySet[Pass]:
    """A client's passes with this coach, newest first."""
    return Pass.objects.filter(client=client, coach_id=client.coach_id).order_by("-created_at", "-pk")


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


# --- The API's reads (api/passes.py, api/me_setup.py) ----------------------------------

# Booking statuses by value (booking.models.Booking.Status): booking sits above us in the layers.
_BOOKING_UPCOMING = ("pending", "confirmed")
# A call that took (or takes) place: neither cancelled nor declined.
_BOOKING_HELD = ("pending", "confirmed", "completed", "no_show")


def pass_for_booking(token: str, *, offering: Offering) -> Pass | None:
    """The pass a token opens, as a booking of ``offering`` needs it, in one lean query: its
    package and client, and ``covers_offering`` (whether the package pays for this offering).

    The coach is the offering's (already read) when it is the pass's: the wide coach row is
    not joined again on the booking's hot path.
    """
    covers = Package.offerings.through.objects.filter(
        package_id=OuterRef("package_id"), offering_id=offering.pk
    )
    found = pass_for_token(
        token,
        queryset=Pass.objects.select_related("package", "client").annotate(covers_offering=Exists(covers)),
    )
    if found is not None:
        found.covers_read_for = offering.pk  # which offering ``covers_offering`` answers for
        if found.coach_id == offering.coach_id:
            found.coach = offering.coach
    return found


def pass_covers(pass_obj: Pass, offering: Offering) -> bool:
    """Whether the pass's package pays for ``offering`` (the ``covers_offering`` that
    ``pass_for_booking`` read, when there is one)."""
    if getattr(pass_obj, "covers_read_for", None) == offering.pk:
        return bool(pass_obj.covers_offering)
    return pass_obj.package.offerings.filter(pk=offering.pk).exists()


def passes_with_ledger() -> QuerySet[Pass]:
    """Passes as their own page shows them (for ``practice.tokens.pass_for_token``): the coach,
    the ledger with its bookings, and the open offerings the package pays for; three queries."""
    return Pass.objects.select_related("coach", "package").prefetch_related(
        Prefetch("entries", queryset=PassEntry.objects.select_related("booking").order_by("at", "pk")),
        Prefetch(
            "package__offerings", queryset=Offering.objects.filter(is_active=True).order_by("title", "pk")
        ),
    )


def coach_clients_counted(*, coach: Coach, now: datetime) -> QuerySet[Client]:
    """The coach's clients by email, each with ``bookings_count``, ``upcoming_count`` (pending or
    confirmed, still to start), ``past_count`` (started, not cancelled or declined), ``last_call``
    and ``next_call``, in one query; their passes, newest first, in one more for the page."""
    upcoming = Q(bookings__status__in=_BOOKING_UPCOMING, bookings__start__gt=now)
    held = Q(bookings__status__in=_BOOKING_HELD, bookings__start__lte=now)
    return (
        Client.objects.filter(coach=coach)
        .annotate(
            bookings_count=Count("bookings"),
            upcoming_count=Count("bookings", filter=upcoming),
            past_count=Count("bookings", filter=held),
            last_call=Max("bookings__start", filter=held),
            next_call=Min("bookings__start", filter=upcoming),
        )
        .prefetch_related(Prefetch("passes", queryset=Pass.objects.order_by("-created_at", "-pk")))
        .order_by("email", "pk")
    )
