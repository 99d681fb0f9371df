"""Public pages of the email community: signup, "check your inbox", confirm, unsubscribe, privacy.

Every problem a visitor can cause ends as a page that says what went wrong: a form
with messages, 404 for a tampered link, 400 for an expired one, 429 when too fast.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from coaching.models import Coach
from common.markdown import render_markdown
from common.ratelimit import community_signup_throttle, too_many_requests
from common.shortcuts import found_or_404
from community import selectors, services, tokens
from community.forms import CommunitySignupForm
from community.models import SitePage, Subscriber

TOO_MANY_MESSAGE = "Too many signups from your address. Please wait a minute and try again."


def _community_coach_or_404(slug: str) -> Coach:
    return found_or_404(selectors.community_coach_get(slug=slug), "No email community at this address.")


# ---------------------------------------------------------------------------
# Privacy policy
# ---------------------------------------------------------------------------
@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    """The site's privacy policy as staff wrote it in admin, or the default text until they do."""
    page = selectors.site_page_get(slug=SitePage.Slug.PRIVACY)
    context = {
        "page": page,
        "body_html": render_markdown(page.body_markdown) if page else "",
    }
    return render(request, "community/privacy.html", context)


# ---------------------------------------------------------------------------
# Signup, confirm, unsubscribe
# ---------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest, coach: str) -> HttpResponse:
    """GET: the signup form on its own. POST (also from the landing page): sign up, then "check your inbox"."""
    found = _community_coach_or_404(coach)
    if request.method == "GET":
        form = CommunitySignupForm(coach=found)
        return render(request, "community/signup.html", {"coach": found, "form": form})

    form = CommunitySignupForm(request.POST, coach=found)
    if not community_signup_throttle().allow_request(request):
        return too_many_requests(request, TOO_MANY_MESSAGE)
    if form.is_bot:
        # Bots get the same answer as people and nothing else: no row, no email.
        return redirect("community_check_inbox", coach=found.slug)
    if not form.is_valid():
        return render(
            request,
            "community/signup.html",
            {"coach": found, "form": form},
            status=HTTPStatus.BAD_REQUEST,
        )
    data = form.cleaned_data
    services.subscriber_subscribe(
        coach=found,
        email=data["email"],
        first_name=data["first_name"],
        source=Subscriber.Source.FORM,
        consent_text=form.fields["consent"].label,
    )
    return redirect("community_check_inbox", coach=found.slug)


@require_GET
def check_inbox(request: HttpRequest, coach: str) -> HttpResponse:
    found = _community_coach_or_404(coach)
    return render(request, "community/check_inbox.html", {"coach": found})


def _subscriber_for_confirm(request: HttpRequest, token: str) -> Subscriber | HttpResponse:
    try:
        found = tokens.subscriber_for_confirm_token(token)
    except tokens.ConfirmLinkExpired as expired:
        return render(
            request,
            "community/link_expired.html",
            {"coach": expired.coach, "days": tokens.CONFIRM_MAX_AGE.days},
            status=HTTPStatus.BAD_REQUEST,
        )
    if found is None:
        raise Http404("No subscription for this link.")
    return found


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with a "Confirm" button (mail scanners that follow links confirm nothing). POST: confirm."""
    found = _subscriber_for_confirm(request, token)
    if isinstance(found, HttpResponse):
        return found
    context: dict[str, Any] = {"coach": found.coach, "subscriber": found}
    if request.method == "POST":
        outcome = services.subscriber_confirm(subscriber=found)
        return render(request, "community/confirmed.html", {**context, "outcome": outcome})
    if found.status != Subscriber.Status.PENDING:
        outcome = "already" if found.status == Subscriber.Status.CONFIRMED else "unsubscribed"
        return render(request, "community/confirmed.html", {**context, "outcome": outcome})
    return render(request, "community/confirm.html", context)


@csrf_exempt  # RFC 8058 one-click: mail systems POST here without our cookie; the token is the secret.
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: "Unsubscribe?" with a button. POST (the button, or a mail system's one-click): unsubscribe."""
    found = tokens.subscriber_for_unsubscribe_token(token)
    if found is None:
        raise Http404("No subscription for this link.")
    context: dict[str, Any] = {"coach": found.coach, "subscriber": found, "token": token}
    if request.method == "POST":
        changed = services.subscriber_unsubscribe(subscriber=found)
        return render(request, "community/unsubscribed.html", {**context, "already": not changed})
    if found.status == Subscriber.Status.UNSUBSCRIBED:
        return render(request, "community/unsubscribed.html", {**context, "already": True})
    return render(request, "community/unsubscribe.html", context)
