"""The coach's clients in the dashboard: the list (search, sort, a page at a time) and one
client's page: their sessions with outcomes and what each did to a pass's credit, intake
answers, passes with balances, and the coach's private notes (general and per session).

Clients are practice's records (one per coach and email); their pages show bookings, so they
live here, in the booking layer. Every read goes through the coach: another coach's client
answers 404. The notes are the coach's alone: never shown to the client, in the coach's export.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from booking import selectors
from booking.credits import credit_state
from booking.models import Booking
from coaching.models import Coach
from coaching.permissions import coach_required
from common.display import CallTime
from common.markdown import render_markdown
from common.shortcuts import found_or_404
from practice import selectors as practice_selectors
from practice import services as practice_services
from practice.forms import ClientFilterForm, ClientNotesForm, SessionNoteForm, apply_error
from practice.models import Client, SessionNote
from practice.views import PassRow, pass_row

CLIENTS_PER_PAGE = 25
PAST_SESSIONS_PER_PAGE = 20


# ---------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ClientRow:
    client: Client
    last_session: CallTime | None
    passes: list[PassRow]


def _page_query(request: HttpRequest, page: int) -> str:
    params = request.GET.copy()
    params["page"] = str(page)
    return "?" + urlencode(sorted((k, v) for k, v in params.items() if v))


@require_GET
@coach_required
def client_list(request: HttpRequest, coach: Coach) -> HttpResponse:
    """The coach's clients: sessions to come and held, the last one, passes with sessions left."""
    now = timezone.now()
    filter_form = ClientFilterForm(request.GET or None)
    filters = filter_form.filters()
    rows_qs = selectors.coach_client_rows(coach=coach, now=now, q=filters["q"], sort=filters["sort"])
    page = Paginator(rows_qs, CLIENTS_PER_PAGE).get_page(request.GET.get("page"))
    selectors.client_booking_counts(clients=page.object_list, now=now)
    rows = [
        ClientRow(
            client=client,
            last_session=CallTime.of(client.last_session, None, coach.time_zone)
            if client.last_session
            else None,
            passes=[pass_row(pass_obj, coach.time_zone, now) for pass_obj in client.live_passes],
        )
        for client in page.object_list
    ]
    context = {
        "coach": coach,
        "filter_form": filter_form,
        "filters": filters,
        "searching": bool(filters["q"]),
        "page": page,
        "rows": rows,
        "prev_query": _page_query(request, page.previous_page_number()) if page.has_previous() else "",
        "next_query": _page_query(request, page.next_page_number()) if page.has_next() else "",
        "section": "clients",
    }
    return render(request, "booking/dashboard/client_list.html", context)


# ---------------------------------------------------------------------------
# One client
# ---------------------------------------------------------------------------
# What a session did to the pass that paid for it, in the coach's words.
CREDIT_LABELS = {
    "used": "Paid with a pass session",
    "returned": "Pass session given back",
    "forfeited": "Pass session used up (forfeited)",
}


@dataclass(frozen=True)
class SessionRow:
    booking: Booking
    time: CallTime
    credit: str  # "", "used", "returned", "forfeited" (booking.credits.credit_state)
    credit_label: str
    late: bool
    answers: list[tuple[str, str]]
    note: SessionNote | None
    note_html: str
    note_form: SessionNoteForm

    @property
    def note_url(self) -> str:
        return reverse(
            "dashboard_client_session_note",
            kwargs={"pk": self.booking.client_record_id, "reference": self.booking.reference},
        )


def _note_prefix(booking: Booking) -> str:
    return f"note-{booking.pk}"


def _note_of(booking: Booking) -> SessionNote | None:
    try:
        return booking.private_note
    except ObjectDoesNotExist:
        return None


def _answers(booking: Booking) -> list[tuple[str, str]]:
    # Stored as {question label: answer}; anything else (edited by hand in admin) shows nothing.
    answers = booking.answers if isinstance(booking.answers, dict) else {}
    return [(str(label), str(value)) for label, value in answers.items() if str(value).strip()]


def _session_row(booking: Booking, coach: Coach, form: SessionNoteForm | None) -> SessionRow:
    note = _note_of(booking)
    credit = credit_state(booking)
    late = credit == "returned" and any(e.kind == "return" and e.late for e in booking.pass_entries.all())
    label = CREDIT_LABELS.get(credit, "")
    if late:
        label += ", marked late"
    return SessionRow(
        booking=booking,
        time=CallTime.of(booking.start, booking.end, coach.time_zone),
        credit=credit,
        credit_label=label,
        late=late,
        answers=_answers(booking),
        note=note,
        note_html=render_markdown(note.body) if note else "",
        note_form=form
        or SessionNoteForm(prefix=_note_prefix(booking), initial={"body": note.body if note else ""}),
    )


def _client_or_404(coach: Coach, pk: int) -> Client:
    return found_or_404(
        practice_selectors.coach_client_get(coach=coach, pk=pk), "No client of yours with this number."
    )


def _client_page(
    request: HttpRequest,
    coach: Coach,
    client: Client,
    *,
    notes_form: ClientNotesForm | None = None,
    note_form: tuple[int, SessionNoteForm] | None = None,
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    now = timezone.now()

    def row(booking: Booking) -> SessionRow:
        form = note_form[1] if note_form and note_form[0] == booking.pk else None
        return _session_row(booking, coach, form)

    upcoming = [row(b) for b in selectors.client_sessions(client=client, now=now, upcoming=True)]
    page = Paginator(
        selectors.client_sessions(client=client, now=now, upcoming=False), PAST_SESSIONS_PER_PAGE
    ).get_page(request.GET.get("page"))
    past = [row(b) for b in page.object_list]
    # The latest answers the client gave (the page lists every session's too).
    latest_answers = next(
        (r for r in sorted(upcoming + past, key=lambda r: r.booking.start, reverse=True) if r.answers), None
    )
    context: dict[str, Any] = {
        "coach": coach,
        "client": client,
        "upcoming": upcoming,
        "past": past,
        "page": page,
        "latest_answers": latest_answers,
        "passes": [
            pass_row(pass_obj, coach.time_zone, now)
            for pass_obj in practice_selectors.client_passes(client=client)
        ],
        "notes_html": render_markdown(client.notes),
        "notes_form": notes_form or ClientNotesForm(initial={"notes": client.notes}),
        "grant_url": reverse("dashboard_pass_grant") + f"?client={client.pk}",
        "section": "clients",
    }
    return render(request, "booking/dashboard/client_detail.html", context, status=status)


@require_GET
@coach_required
def client_detail(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    return _client_page(request, coach, _client_or_404(coach, pk))


def _back(client: Client, request: HttpRequest, anchor: str) -> HttpResponseRedirect:
    url = reverse("dashboard_client", kwargs={"pk": client.pk})
    page = request.GET.get("page", "")
    if page.isascii() and page.isdigit() and len(page) < 6:
        url += f"?page={page}"
    return HttpResponseRedirect(f"{url}#{anchor}")


@require_POST
@coach_required
def client_notes(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """Save the coach's general private notes on the client (Markdown)."""
    client = _client_or_404(coach, pk)
    form = ClientNotesForm(request.POST)
    if not form.is_valid():
        return _client_page(request, coach, client, notes_form=form, status=HTTPStatus.BAD_REQUEST)
    practice_services.client_notes_update(client=client, notes=form.cleaned_data["notes"].strip())
    messages.success(request, "Your notes are saved.")
    return _back(client, request, "notes")


@require_POST
@coach_required
def session_note(request: HttpRequest, coach: Coach, pk: int, reference: str) -> HttpResponse:
    """Save (or, empty, remove) the coach's private note on one of the client's sessions."""
    client = _client_or_404(coach, pk)
    booking = found_or_404(
        selectors.client_session_get(client=client, reference=reference), "No session of this client's."
    )
    form = SessionNoteForm(request.POST, prefix=_note_prefix(booking))
    if form.is_valid():
        try:
            note = practice_services.session_note_save(
                client=client, booking=booking, body=form.cleaned_data["body"]
            )
        except practice_services.PracticeError as exc:
            apply_error(form, exc.field, exc.message)
        else:
            messages.success(request, "Note saved." if note else "Note removed.")
            return _back(client, request, f"session-{booking.reference}")
    return _client_page(request, coach, client, note_form=(booking.pk, form), status=HTTPStatus.BAD_REQUEST)
