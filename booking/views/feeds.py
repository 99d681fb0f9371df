"""Calendar feeds: /feeds/coach/<token>.ics and /feeds/client/<token>.ics, and "replace my feed link".

Everything the coach (or a signed-in client) booked from 30 days ago on, cancellations as
STATUS:CANCELLED for 30 days. A poll costs at most three queries, and an unchanged feed
answers 304 after two. The ETag covers everything the feed shows: the bookings (their count,
the newest change, the sum of SEQUENCEs), the offering and coach fields their events render
(``selectors.feed_stats``), the calendar's name and the site's address in the links.
Last-Modified is the newest booking change only (offerings keep no change time), so it is
sent for information but If-Modified-Since is not honoured: a new meeting link would
otherwise answer 304 to a client that sends only that. A bad token is a 404.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag
from django.views.decorators.http import require_safe

from accounts.models import User
from booking import invites, selectors, services
from booking.tokens import coach_for_feed_token, user_for_feed_token
from coaching.models import Coach
from common.shortcuts import found_or_404

NO_FEED = "No feed at this address."


def _feed_response(
    request: HttpRequest, owner: Coach | User, *, audience: invites.Audience, name: str
) -> HttpResponse:
    """The feed of the owner's bookings, or 304 when the calendar app already has it."""
    now = timezone.now()
    if audience == "coach":
        bookings = selectors.feed_bookings(coach=owner, now=now)
    else:
        bookings = selectors.feed_bookings(client=owner, now=now)
    stats = selectors.feed_stats(bookings)
    latest: datetime | None = stats["latest"]
    fingerprint = "\x1f".join(
        (
            audience,
            name,
            settings.SITE_URL,
            str(stats["count"]),
            latest.isoformat() if latest else "-",
            str(stats["sequences"]),
            stats["shown"],
        )
    )
    etag = quote_etag(hashlib.sha256(fingerprint.encode()).hexdigest()[:32])
    last_modified = int(latest.timestamp()) if latest else None
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "X-Robots-Tag": "noindex, nofollow",
    }
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)
    # The ETag alone decides (see the module docstring).
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        for header, value in headers.items():
            not_modified.headers[header] = value
        return not_modified
    body = invites.feed_bytes(selectors.feed_rows(bookings), audience=audience, name=name, now=now)
    response = HttpResponse(body, content_type=invites.CALENDAR_TYPE, headers=headers)
    response["Content-Disposition"] = 'inline; filename="bookings.ics"'
    return response


@require_safe
def coach_feed(request: HttpRequest, token: str) -> HttpResponse:
    """All of a coach's bookings, for a calendar app to subscribe to."""
    coach = found_or_404(coach_for_feed_token(token), NO_FEED)
    return _feed_response(request, coach, audience="coach", name=f"{coach.display_name}: bookings")


@require_safe
def client_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A signed-in client's bookings, with every coach, for a calendar app to subscribe to."""
    user = found_or_404(user_for_feed_token(token), NO_FEED)
    name = f"{settings.SITE_NAME}: my calls"
    return _feed_response(request, user, audience="client", name=name)


def feed_replace_page(
    request: HttpRequest,
    *,
    owner: Coach | User,
    done: str,
    what: str,
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """POST: give ``owner`` a feed link, or a new one (the old stops working). GET: confirm the replacement."""
    if request.method == "POST":
        had_feed = bool(owner.feed_key)
        services.feed_key_replace(owner=owner)
        messages.success(
            request,
            "Your feed has a new link. Subscribe to it again in your calendar app; the old link no longer works."
            if had_feed
            else f"Your feed link is ready. Add it to your calendar app to see your {what} there.",
        )
        return redirect(done)
    if not owner.feed_key:
        return redirect(done)
    return render(request, template, context)
