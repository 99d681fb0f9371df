from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from coaching import landing
from coaching.community_forms import CommunitySignupForm
from coaching.selectors import coach_get_public, coach_list_public

COACHES_PER_PAGE = 24


def home(request: HttpRequest) -> HttpResponse:
    page = Paginator(coach_list_public(), COACHES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "coaching/home.html", {"page": page})


def coach_page(request: HttpRequest, coach: str) -> HttpResponse:
    """The coach's landing page: intro, offerings with their next free time, community signup."""
    found = coach_get_public(slug=coach)
    if found is None:
        raise Http404("No coach at this address.")
    now = timezone.now()
    zone = landing.visitor_zone(request, found)
    cards = landing.offering_cards(found, found.listed_offerings, zone=zone, now=now)
    context = {
        "coach": found,
        "zone": zone,
        "cards": cards,
        # The call to action books the first listed offering (the shortest: listed by duration).
        "primary": cards[0] if cards else None,
        "intro_html": landing.intro_html(found),
        "meta": landing.page_meta(found, request),
        "signup_form": CommunitySignupForm(coach=found) if found.community_enabled else None,
    }
    return render(request, "coaching/coach_page.html", context)
