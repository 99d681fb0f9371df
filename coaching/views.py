"""The site's home page: the coaches with something to book."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from coaching.selectors import coach_list_public

COACHES_PER_PAGE = 24


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    page = Paginator(coach_list_public(), COACHES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "coaching/home.html", {"page": page})
