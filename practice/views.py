"""The coach's practice pages in the dashboard: packages (list, create, edit, retire), granting
a pass, a pass's page (balance, ledger, adjust, give back a forfeited credit) and the passes list.

Every view gets the signed-in coach from ``coach_required`` and reads through that coach
(practice/selectors.py), so another coach's package or pass answers 404; every change goes
through practice/services.py, whose ``PracticeError`` re-renders the form with its message on
the field it names (400). The client pages show bookings, so they live in booking/views/clients.py
and use ``pass_row`` from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coaching.models import Coach
from coaching.permissions import coach_required
from common.display import day_label, moment_label
from common.emails import absolute_url
from common.shortcuts import found_or_404
from practice import selectors, services
from practice.forms import AdjustForm, GiveBackForm, GrantForm, PackageForm, PassFilterForm, apply_error
from practice.models import Package, Pass, PassEntry
from practice.tokens import pass_token

PACKAGES_PER_PAGE = 20
PASSES_PER_PAGE = 25
Kind = PassEntry.Kind


# ---------------------------------------------------------------------------
# What the pages show (the client pages use these too)
# ---------------------------------------------------------------------------
def price_text(amount: Decimal | None, currency: str) -> str:
    """ "Free", "480 EUR", "49.50 USD", or "" when the coach shows no price (as offerings)."""
    if amount is None:
        return ""
    if amount == 0:
        return "Free"
    return f"{f'{amount:.2f}'.removesuffix('.00')} {currency}".strip()


def validity_text(package: Package) -> str:
    """ "90 days from the grant" or "until Thursday 24 December 2026"."""
    if package.valid_until is not None:
        return f"until {day_label(package.valid_until)} {package.valid_until:%Y}"
    days = package.validity_days or 0
    return f"{days} day{'s' if days != 1 else ''} from the grant"


def expiry_text(expires_at: datetime, zone_name: str) -> str:
    """When a pass ends, in the coach's words: "the end of Wednesday 2 December 2026" for a pass
    that ends at midnight (a fixed last day), else the moment, "Thursday 31 December 2026, 07:00"."""
    local = expires_at.astimezone(ZoneInfo(zone_name))
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        last = (local - timedelta(days=1)).date()
        return f"the end of {day_label(last)} {last:%Y}"
    return moment_label(expires_at, zone_name)


def pass_link(pass_obj: Pass) -> str:
    """The client's address of the pass (its balance, its history, booking with it)."""
    token = pass_token(pass_obj)
    try:
        path = reverse("pass_page", args=[token])
    except NoReverseMatch:  # the client's page is mounted by practice/urls.py's pass_urlpatterns
        path = f"/passes/{token}/"
    return absolute_url(path)


@dataclass(frozen=True)
class PassRow:
    """One pass as the coach's pages list it."""

    pass_obj: Pass
    state: str  # active, expiring, expired, used (PASS_FILTERS' values)
    state_label: str
    ends: str
    ends_iso: str

    @property
    def url(self) -> str:
        return reverse("dashboard_pass", kwargs={"reference": self.pass_obj.reference})


def pass_row(pass_obj: Pass, zone_name: str, now: datetime) -> PassRow:
    if pass_obj.expires_at <= now:
        state, label = selectors.PASSES_EXPIRED, "Expired"
    elif pass_obj.remaining <= 0:
        state, label = selectors.PASSES_USED_UP, "Used up"
    elif pass_obj.expires_at <= now + timedelta(days=selectors.EXPIRING_DAYS):
        state, label = selectors.PASSES_EXPIRING, "Expiring soon"
    else:
        state, label = selectors.PASSES_ACTIVE, "Active"
    return PassRow(
        pass_obj=pass_obj,
        state=state,
        state_label=label,
        ends=expiry_text(pass_obj.expires_at, zone_name),
        ends_iso=pass_obj.expires_at.isoformat(),
    )


def _page_query(request: HttpRequest, page: int) -> str:
    params = request.GET.copy()
    params["page"] = str(page)
    return "?" + urlencode(sorted((k, v) for k, v in params.items() if v))


def _today(coach: Coach) -> date:
    return timezone.now().astimezone(coach.zone).date()


# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PackageRow:
    package: Package
    validity: str
    price: str
    offerings: list[str]


@require_GET
@coach_required
def package_list(request: HttpRequest, coach: Coach) -> HttpResponse:
    """The coach's packages: what each covers, for how long, its price, passes granted."""
    page = Paginator(selectors.coach_packages(coach=coach), PACKAGES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [
        PackageRow(
            package=package,
            validity=validity_text(package),
            price=price_text(package.price_amount, package.price_currency),
            offerings=[offering.title for offering in package.offerings.all()],
        )
        for package in page.object_list
    ]
    context = {"coach": coach, "page": page, "rows": rows, "section": "packages"}
    return render(request, "practice/dashboard/package_list.html", context)


def _package_or_404(coach: Coach, pk: int) -> Package:
    return found_or_404(
        selectors.coach_package_get(coach=coach, pk=pk), "No package of yours with this number."
    )


@require_http_methods(["GET", "POST"])
@coach_required
def package_form(request: HttpRequest, coach: Coach, pk: int | None = None) -> HttpResponse:
    """A new package, or the coach's package ``pk``. Passes already granted keep their terms."""
    package = _package_or_404(coach, pk) if pk is not None else None
    form = PackageForm(
        request.POST if request.method == "POST" else None, coach=coach, today=_today(coach), package=package
    )
    status = HTTPStatus.OK
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.package_save(
                    coach=coach,
                    package=package,
                    is_active=package.is_active if package else True,
                    **form.package_fields(),
                )
            except services.PracticeError as exc:
                apply_error(form, exc.field, exc.message)
            else:
                messages.success(request, f"Package “{saved.name}” saved.")
                return redirect("dashboard_packages")
        status = HTTPStatus.BAD_REQUEST
    context = {
        "coach": coach,
        "package": package,
        "form": form,
        "has_offerings": form.fields["offerings"].queryset.exists(),
        "section": "packages",
    }
    return render(request, "practice/dashboard/package_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@coach_required
def package_status(request: HttpRequest, coach: Coach, pk: int, action: str) -> HttpResponse:
    """Retire (or reactivate) a package: GET asks, POST does it. Passes already granted stay."""
    package = _package_or_404(coach, pk)
    active = action == "reactivate"
    if request.method == "POST":
        services.package_set_active(package=package, active=active)
        if active:
            messages.success(request, f"“{package.name}” is active again: you can grant it.")
        else:
            messages.success(
                request, f"“{package.name}” retired: it can no longer be granted. Passes stay valid."
            )
        return redirect("dashboard_packages")
    context = {
        "coach": coach,
        "package": package,
        "action": action,
        "already": package.is_active == active,
        "section": "packages",
    }
    return render(request, "practice/dashboard/package_status.html", context)


# ---------------------------------------------------------------------------
# Granting a pass
# ---------------------------------------------------------------------------
def _int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


@require_http_methods(["GET", "POST"])
@coach_required
def pass_grant(request: HttpRequest, coach: Coach) -> HttpResponse:
    """Give a client a pass: the form (``?package=`` and ``?client=`` fill it in), then what the
    client receives with a button, then the grant and the pass's page with its link."""
    now = timezone.now()
    initial: dict[str, Any] = {}
    if (package_id := _int_param(request, "package")) is not None:
        initial["package"] = package_id
    if (client_id := _int_param(request, "client")) is not None:
        client = selectors.coach_client_get(coach=coach, pk=client_id)
        if client is not None:
            initial |= {"client_email": client.email, "client_name": client.name}
    form = GrantForm(request.POST if request.method == "POST" else None, coach=coach, initial=initial)
    context: dict[str, Any] = {"coach": coach, "form": form, "section": "passes"}
    status = HTTPStatus.OK
    if request.method == "POST" and "edit" not in request.POST:
        if form.is_valid():
            package: Package = form.cleaned_data["package"]
            if "confirm" in request.POST:
                try:
                    granted = services.pass_grant(
                        package=package,
                        client_email=form.cleaned_data["client_email"],
                        client_name=form.cleaned_data["client_name"],
                        now=now,
                    )
                except services.PracticeError as exc:
                    apply_error(form, exc.field, exc.message)
                else:
                    messages.success(
                        request,
                        f"Pass granted: {granted.client.name} has {granted.sessions} "
                        f"session{'s' if granted.sessions != 1 else ''} of “{granted.name}”. "
                        "They get an email with its link; the link is below too.",
                    )
                    return redirect("dashboard_pass", reference=granted.reference)
            else:
                expires_at = services.pass_expiry(package=package, coach=coach, now=now)
                if expires_at <= now:
                    form.add_error("package", "This package's last day has passed.")
                else:
                    context |= {
                        "package": package,
                        "offerings": [offering.title for offering in package.offerings.all()],
                        "ends": expiry_text(expires_at, coach.time_zone),
                        "price": price_text(package.price_amount, package.price_currency),
                        "known_client": selectors.coach_client_by_email(
                            coach=coach, email=form.cleaned_data["client_email"]
                        ),
                    }
                    return render(request, "practice/dashboard/pass_grant_confirm.html", context)
        status = HTTPStatus.BAD_REQUEST
    context["has_packages"] = form.fields["package"].queryset.exists()
    return render(request, "practice/dashboard/pass_grant.html", context, status=status)


# ---------------------------------------------------------------------------
# A pass's page
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerRow:
    entry: PassEntry
    at: str
    at_iso: str
    amount: str
    booking_url: str
    # A forfeited credit the coach may still give back (no return for its booking yet).
    can_give_back: bool


def _pass_or_404(coach: Coach, reference: str) -> Pass:
    return found_or_404(
        selectors.coach_pass_get(coach=coach, reference=reference), "No pass of yours with this reference."
    )


def _ledger(pass_obj: Pass, zone_name: str) -> list[LedgerRow]:
    entries = list(selectors.pass_entries(pass_obj=pass_obj))
    returned = {entry.booking_id for entry in entries if entry.kind == Kind.RETURN}
    rows = []
    for entry in entries:
        booking = entry.booking if entry.booking_id else None
        rows.append(
            LedgerRow(
                entry=entry,
                at=moment_label(entry.at, zone_name),
                at_iso=entry.at.isoformat(),
                amount=f"{entry.amount:+d}" if entry.amount else "0",
                booking_url=reverse("dashboard_booking", kwargs={"reference": booking.reference})
                if booking
                else "",
                can_give_back=entry.kind == Kind.FORFEIT and entry.booking_id not in returned,
            )
        )
    return rows


def _pass_page(
    request: HttpRequest,
    coach: Coach,
    pass_obj: Pass,
    *,
    adjust_form: AdjustForm | None = None,
    give_back: tuple[int, GiveBackForm] | None = None,
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    now = timezone.now()
    ledger = _ledger(pass_obj, coach.time_zone)
    # A give-back that failed shows its form again (with why), even once the credit is back.
    give_back_forms = {
        row.entry.pk: (
            give_back[1]
            if give_back and give_back[0] == row.entry.pk
            else GiveBackForm(prefix=f"entry{row.entry.pk}")
        )
        for row in ledger
        if row.can_give_back or (give_back and give_back[0] == row.entry.pk)
    }
    context = {
        "coach": coach,
        "pass_obj": pass_obj,
        "row": pass_row(pass_obj, coach.time_zone, now),
        "link": pass_link(pass_obj),
        "ledger": [(row, give_back_forms.get(row.entry.pk)) for row in ledger],
        "adjust_form": adjust_form or AdjustForm(),
        "section": "passes",
    }
    return render(request, "practice/dashboard/pass_detail.html", context, status=status)


@require_GET
@coach_required
def pass_detail(request: HttpRequest, coach: Coach, reference: str) -> HttpResponse:
    """A pass: who holds it, its balance and end, its link, its ledger, and the coach's changes."""
    return _pass_page(request, coach, _pass_or_404(coach, reference))


@require_POST
@coach_required
def pass_adjust(request: HttpRequest, coach: Coach, reference: str) -> HttpResponse:
    """Add or take away sessions, with a reason (never below zero)."""
    pass_obj = _pass_or_404(coach, reference)
    form = AdjustForm(request.POST)
    if form.is_valid():
        amount = form.cleaned_data["amount"]
        try:
            services.pass_adjust(pass_obj=pass_obj, amount=amount, reason=form.cleaned_data["reason"])
        except services.PassExhausted:  # a booking took the last credits meanwhile
            form.add_error("amount", "The pass doesn't have that many sessions left.")
        except services.PracticeError as exc:
            apply_error(form, exc.field, exc.message)
        else:
            change = f"{abs(amount)} session{'s' if abs(amount) != 1 else ''}"
            messages.success(request, f"{'Added' if amount > 0 else 'Took away'} {change}.")
            return redirect("dashboard_pass", reference=pass_obj.reference)
    pass_obj.refresh_from_db(fields=["remaining"])
    return _pass_page(request, coach, pass_obj, adjust_form=form, status=HTTPStatus.BAD_REQUEST)


@require_POST
@coach_required
def pass_give_back(request: HttpRequest, coach: Coach, reference: str, entry_pk: int) -> HttpResponse:
    """Give back the credit that the forfeit entry ``entry_pk`` of this pass recorded, with a reason."""
    pass_obj = _pass_or_404(coach, reference)
    entry = found_or_404(
        selectors.pass_forfeit_get(pass_obj=pass_obj, pk=entry_pk),
        "No forfeited session with this number on this pass.",
    )
    form = GiveBackForm(request.POST, prefix=f"entry{entry.pk}")
    if form.is_valid():
        try:
            services.credit_return_forfeited(
                pass_id=pass_obj.pk, booking_id=entry.booking_id, reason=form.cleaned_data["reason"]
            )
        except services.PracticeError as exc:
            apply_error(form, exc.field, exc.message)
        else:
            messages.success(request, "The session is back on the pass.")
            return redirect("dashboard_pass", reference=pass_obj.reference)
    return _pass_page(request, coach, pass_obj, give_back=(entry.pk, form), status=HTTPStatus.BAD_REQUEST)


# ---------------------------------------------------------------------------
# The passes list
# ---------------------------------------------------------------------------
@require_GET
@coach_required
def pass_list(request: HttpRequest, coach: Coach) -> HttpResponse:
    """Every pass the coach granted: filter by state, search by client, a page at a time."""
    now = timezone.now()
    filter_form = PassFilterForm(request.GET or None)
    filters = filter_form.filters()
    page = Paginator(selectors.coach_passes(coach=coach, now=now, **filters), PASSES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "coach": coach,
        "filter_form": filter_form,
        "filters": filters,
        "filtered": bool(filters["q"] or filters["status"]),
        "page": page,
        "rows": [pass_row(pass_obj, coach.time_zone, now) for pass_obj in page.object_list],
        "prev_query": _page_query(request, page.previous_page_number()) if page.has_previous() else "",
        "next_query": _page_query(request, page.next_page_number()) if page.has_next() else "",
        "expiring_days": selectors.EXPIRING_DAYS,
        "section": "passes",
    }
    return render(request, "practice/dashboard/pass_list.html", context)
