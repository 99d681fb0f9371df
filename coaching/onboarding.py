"""Becoming a coach: ``/dashboard/start/`` (one form), its live address check and "your page is ready".

Open only when ``COACH_SIGNUP=open``, to a signed-in person whose address is verified and
who is not a coach yet; everything is created in one transaction by
``coaching.services.coach_onboard``.
"""

from __future__ import annotations

from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods

from coaching import services
from coaching.models import Coach
from coaching.onboarding_forms import BecomeCoachForm
from coaching.permissions import coach_required, coach_signup_open, not_a_coach
from coaching.selectors import coach_for_user, coach_offerings, user_email_verified
from common.hour_cycle import locale_from_request
from common.ratelimit import TOO_MANY_MESSAGE, AddressRateThrottle

# The live check runs as someone types (debounced in static/js/onboarding.js): generous,
# but it must not become a way to list every coach's address quickly.
ADDRESS_CHECK_RATE = "60/m"
MAX_SLUG_INPUT = 100


def _refusal(request: HttpRequest) -> HttpResponse | None:
    """Why this person may not become a coach now, as the response to give; None when they may."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if coach_for_user(request.user) is not None:
        messages.info(request, "You're a coach already: this is your dashboard.")
        return redirect("dashboard")
    if not coach_signup_open() or not user_email_verified(request.user):
        return not_a_coach(request)  # it says which of the two is missing
    return None


def _suggested_slug(name: str) -> str:
    slug = slugify(name)[:60].strip("-")
    return slug if slug and not services.coach_slug_problem(slug) else ""


def public_url(coach: Coach) -> str:
    return f"{settings.SITE_URL}{coach.get_absolute_url()}"


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """The form; a valid POST makes the coach, their first offering and weekly hours."""
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    user = request.user
    if request.method == "POST":
        form = BecomeCoachForm(request.POST, request.FILES)
    else:
        name = getattr(user, "name", "")
        form = BecomeCoachForm(initial={"display_name": name, "slug": _suggested_slug(name)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.coach_onboard(
                user=user,  # type: ignore[arg-type]
                slug=data["slug"],
                display_name=data["display_name"],
                headline=data["headline"],
                time_zone=data["time_zone"],
                offering=form.offering(),
                windows=form.windows,
                photo=data.get("photo"),
                locale=locale_from_request(request),
            )
        except services.SetupError as exc:
            # The address was taken between the check and the save: say so on that field.
            form.add_error("slug", exc.message)
        else:
            return redirect("coach_ready")
    return render(
        request,
        "coaching/onboarding/start.html",
        {"form": form, "site_url": settings.SITE_URL, "suggest_zone": not form.is_bound},
    )


@require_GET
def address_check(request: HttpRequest) -> JsonResponse:
    """``{"ok": bool, "message": str}`` for ``?slug=``: free, or why it cannot be an address."""
    if not request.user.is_authenticated:
        return JsonResponse({"ok": False, "message": "Sign in first."}, status=HTTPStatus.FORBIDDEN)
    if not coach_signup_open():
        return JsonResponse(
            {"ok": False, "message": "New coaches are invited by the site's operator."},
            status=HTTPStatus.FORBIDDEN,
        )
    if not AddressRateThrottle("coach-address-check", ADDRESS_CHECK_RATE).allow_request(request):
        return JsonResponse({"ok": False, "message": TOO_MANY_MESSAGE}, status=HTTPStatus.TOO_MANY_REQUESTS)
    slug = request.GET.get("slug", "")[:MAX_SLUG_INPUT].strip().lower()
    if not slug:
        return JsonResponse({"ok": False, "message": "Choose an address for your page."})
    problem = services.coach_slug_problem(slug)
    if problem:
        return JsonResponse({"ok": False, "message": problem})
    return JsonResponse({"ok": True, "message": f"{settings.SITE_URL}/{slug}/ is free."})


@require_GET
@coach_required
def ready(request: HttpRequest, coach: Coach) -> HttpResponse:
    """ "Your page is ready": its link to copy and share, and where to go next."""
    # The offering made with the page: the oldest, whatever the coach added since.
    first_offering = coach_offerings(coach=coach).order_by("created_at", "pk").first()
    context = {"coach": coach, "public_url": public_url(coach), "first_offering": first_offering}
    return render(request, "coaching/onboarding/ready.html", context)
