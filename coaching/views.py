"""The site's home page: the coaches with something to book, and how to become one."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from coaching.permissions import coach_signup_open
from coaching.selectors import coach_list_public

COACHES_PER_PAGE = 24


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    page = Paginator(coach_list_public(), COACHES_PER_PAGE).get_page(request.GET.get("page"))
    # A visitor may sign up and become a coach; a signed-in person sees ``can_become_coach``
    # (coaching/context_processors.py), which also knows whether they are verified.
    return render(request, "coaching/home.html", {"page": page, "coach_signup_open": coach_signup_open()})
