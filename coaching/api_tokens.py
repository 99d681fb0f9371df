"""The coach's personal access tokens for the coach API, in the dashboard: the list, a new
token (shown once), and revoking one after a confirmation step.

The new token is rendered straight into the POST's answer, never put in a flash message or
the session, and the answer is ``no-store`` so that the browser keeps no copy: after that one
page only its hash exists (coaching/services.py ``api_token_create``).
"""

from __future__ import annotations

from http import HTTPStatus

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from coaching import selectors, services
from coaching.models import ApiToken, Coach
from coaching.permissions import coach_required
from common.forms import Form
from common.shortcuts import found_or_404

TOKENS_PER_PAGE = 20


class ApiTokenForm(Form):
    name = forms.CharField(
        label="Name",
        max_length=80,
        help_text="What the token is for, so you recognise it later, e.g. “CRM sync”.",
    )
    scope = forms.ChoiceField(
        label="Access",
        choices=[
            (ApiToken.Scope.READ, "Read only: list and read your bookings and setup"),
            (
                ApiToken.Scope.WRITE,
                "Read and write: also approve, cancel, move bookings and change your setup",
            ),
        ],
        initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
    )


@require_http_methods(["GET"])
@coach_required
def token_list(request: HttpRequest, coach: Coach) -> HttpResponse:
    """The coach's tokens, newest first, revoked ones included (their last use still shows)."""
    page = Paginator(selectors.coach_api_tokens(coach=coach), TOKENS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request, "coaching/dashboard/api_tokens.html", {"coach": coach, "page": page, "section": "api-tokens"}
    )


@never_cache
@require_http_methods(["GET", "POST"])
@coach_required
def token_create(request: HttpRequest, coach: Coach) -> HttpResponse:
    """GET: the form. POST: create the token and show it, this once."""
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    status = HTTPStatus.OK
    if request.method == "POST":
        if form.is_valid():
            try:
                token, key = services.api_token_create(
                    coach=coach, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"]
                )
            except services.SetupError as exc:
                form.add_error("scope", exc.message)
            else:
                context = {"coach": coach, "token": token, "key": key, "section": "api-tokens"}
                return render(request, "coaching/dashboard/api_token_created.html", context)
        status = HTTPStatus.BAD_REQUEST
    return render(
        request,
        "coaching/dashboard/api_token_form.html",
        {"coach": coach, "form": form, "section": "api-tokens"},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@coach_required
def token_revoke(request: HttpRequest, coach: Coach, pk: int) -> HttpResponse:
    """GET: what revoking does, with a button. POST: revoke (again is harmless)."""
    token = found_or_404(selectors.coach_api_token_get(coach=coach, pk=pk), "No such token of yours.")
    if request.method == "POST":
        services.api_token_revoke(token=token)
        messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
        return redirect("dashboard_api_tokens")
    return render(
        request,
        "coaching/dashboard/api_token_revoke.html",
        {"coach": coach, "token": token, "section": "api-tokens"},
    )
