from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from coaching.selectors import coach_get_public, coach_list_public

COACHES_PER_PAGE = 24


def home(request: HttpRequest) -> HttpResponse:
    page = Paginator(coach_list_public(), COACHES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "coaching/home.html", {"page": page})


def coach_page(request: HttpRequest, coach: str) -> HttpResponse:
    found = coach_get_public(slug=coach)
    if found is None:
        raise Http404("No coach at this address.")
    return render(request, "coaching/coach_page.html", {"coach": found})
