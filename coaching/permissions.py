"""Who may open the coach dashboard: signed-in coaches, each only over their own rows."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from typing import Any, Concatenate, ParamSpec

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from coaching.models import Coach
from coaching.selectors import coach_for_user, user_email_verified

P = ParamSpec("P")

CoachView = Callable[Concatenate[HttpRequest, Coach, P], HttpResponse]


def coach_signup_open() -> bool:
    """Whether anyone verified may become a coach here (``COACH_SIGNUP=open``)."""
    return settings.COACH_SIGNUP.strip().lower() == "open"


def not_a_coach(request: HttpRequest) -> HttpResponse:
    """The 403 page for a signed-in person without a coach profile: how they could become one."""
    context: dict[str, Any] = {
        "signup_open": coach_signup_open(),
        "email_verified": user_email_verified(request.user),
    }
    return render(request, "coaching/dashboard/not_a_coach.html", context, status=HTTPStatus.FORBIDDEN)


def coach_required(view: CoachView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Pass the signed-in user's Coach to the view as its second argument.

    Anonymous visitors go to the login page and come back; a signed-in person
    without a coach profile gets a friendly 403 page instead of a bare error.
    Views query through this one Coach, so another coach's rows are never in reach.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        coach = coach_for_user(request.user)
        if coach is None:
            return not_a_coach(request)
        return view(request, coach, *args, **kwargs)

    return wrapper
