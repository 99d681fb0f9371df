"""Calendar data over HTTP: a booking's invite download and the subscription feeds.

- ``/b/<manage token>/invite.ics``: the client's invite as it is now (REQUEST, or
  CANCEL once the booking is cancelled or declined).
- ``/feeds/coach/<token>.ics`` and ``/feeds/client/<token>.ics``: everything the coach
  (or a signed-in client) has booked, from 30 days ago on. Cancelled and declined
  bookings stay for 30 days after the change as STATUS:CANCELLED, so that calendars
  which copied them drop them.

Feed tokens work like manage tokens (booking/tokens.py): ``<id>.<mac>`` where the MAC
is an HMAC-SHA256 of the owner's id and a random per-owner ``feed_key``. Nothing
secret is stored, the comparison is constant-time, a blank key means "no feed", and
a new key revokes the old link. A bad token is a 404, like any unknown page.

Calendar apps poll feeds every few minutes, so a poll costs at most three queries
(the owner, one aggregate for the validators, the bookings) and an unchanged feed
answers 304 after two: the ETag and Last-Modified come from the count, the newest
``updated_at`` and the sum of SEQUENCEs of the bookings in the feed.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime, timedelta
from http import HTTPStatus

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import http_date, quote_etag
from django.views.decorators.http import require_safe

from accounts.models import User
from booking import invites
from booking.models import Booking
from booking.tokens import booking_for_manage_token
from coaching.models import Coach
from config.ratelimit import manage_lookup_throttle

# How far back feeds reach, and how long a cancellation stays in them.
FEED_PAST = timedelta(days=30)
_COACH_SALT = "booking.feed.coach"
_CLIENT_SALT = "booking.feed.client"
CALENDAR_TYPE = "text/calendar; charset=utf-8"


# ---------------------------------------------------------------------------
# Feed tokens
# ---------------------------------------------------------------------------
def new_feed_key() -> str:
    """128 random bits, hex."""
    return secrets.token_hex(16)


def _mac(salt: str, owner_id: int, key: str, secret: str) -> str:
    digest = salted_hmac(salt, f"{owner_id}:{key}", secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def _token(salt: str, owner_id: int, key: str) -> str:
    return f"{owner_id}.{_mac(salt, owner_id, key, settings.SECRET_KEY)}"


def _owner_id(token: str) -> tuple[int, str] | None:
    owner, sep, mac = (token or "").partition(".")
    if not sep or not owner.isdigit() or len(owner) > 18 or not mac or len(mac) > 64:
        return None
    return int(owner), mac


def _mac_matches(salt: str, owner_id: int, key: str, mac: str) -> bool:
    if not key:
        return False
    return any(
        constant_time_compare(mac, _mac(salt, owner_id, key, secret))
        for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
    )


def coach_feed_token(coach: Coach) -> str:
    """The token of the coach's feed link; "" while the coach has no feed."""
    return _token(_COACH_SALT, coach.pk, coach.feed_key) if coach.feed_key else ""


def client_feed_token(user: User) -> str:
    """The token of a client's feed link; "" while they have no feed."""
    return _token(_CLIENT_SALT, user.pk, user.feed_key) if user.feed_key else ""


def coach_for_feed_token(token: str) -> Coach | None:
    parsed = _owner_id(token)
    if parsed is None:
        return None
    coach = Coach.objects.filter(pk=parsed[0]).first()
    if coach is None or not _mac_matches(_COACH_SALT, coach.pk, coach.feed_key, parsed[1]):
        return None
    return coach


def user_for_feed_token(token: str) -> User | None:
    parsed = _owner_id(token)
    if parsed is None:
        return None
    user = User.objects.filter(pk=parsed[0], is_active=True).first()
    if user is None or not _mac_matches(_CLIENT_SALT, user.pk, user.feed_key, parsed[1]):
        return None
    return user


def coach_feed_url(coach: Coach) -> str:
    token = coach_feed_token(coach)
    return settings.SITE_URL + reverse("coach_feed", kwargs={"token": token}) if token else ""


def client_feed_url(user: User) -> str:
    token = client_feed_token(user)
    return settings.SITE_URL + reverse("client_feed", kwargs={"token": token}) if token else ""


def webcal_url(url: str) -> str:
    """The same address as a ``webcal://`` link, which calendar apps open as "subscribe"."""
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            return "webcal://" + url[len(scheme) :]
    return url


def replace_feed_key(owner: Coach | User) -> None:
    """Give ``owner`` a new feed link; the old one stops working at once."""
    owner.feed_key = new_feed_key()
    owner.save(update_fields=["feed_key"])


# ---------------------------------------------------------------------------
# Feeds
# ---------------------------------------------------------------------------
def feed_bookings(bookings: QuerySet[Booking], *, now: datetime) -> QuerySet[Booking]:
    """The bookings a feed shows: not over for more than 30 days, or cancelled in the last 30 days."""
    since = now - FEED_PAST
    cancelled = invites.CANCELLED_STATUSES
    return bookings.filter(
        (Q(end__gte=since) & ~Q(status__in=cancelled)) | Q(status__in=cancelled, updated_at__gte=since)
    )


def _feed_response(
    request: HttpRequest,
    bookings: QuerySet[Booking],
    *,
    audience: invites.Audience,
    name: str,
    version: str,
    now: datetime,
) -> HttpResponse:
    stats = bookings.order_by().aggregate(
        count=Count("pk"), latest=Max("updated_at"), sequences=Sum("sequence")
    )
    latest: datetime | None = stats["latest"]
    fingerprint = (
        f"{audience}:{version}:{stats['count']}:{latest.isoformat() if latest else '-'}:{stats['sequences']}"
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
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        for header, value in headers.items():
            not_modified.headers[header] = value
        return not_modified
    rows = bookings.select_related("offering", "coach").order_by("start", "pk")
    body = invites.feed_bytes(rows, audience=audience, name=name, now=now)
    response = HttpResponse(body, content_type=CALENDAR_TYPE, headers=headers)
    response["Content-Disposition"] = 'inline; filename="bookings.ics"'
    return response


@require_safe
def coach_feed(request: HttpRequest, token: str) -> HttpResponse:
    """All of a coach's bookings, for a calendar app to subscribe to."""
    coach = coach_for_feed_token(token)
    if coach is None:
        raise Http404("No feed at this address.")
    now = timezone.now()
    bookings = feed_bookings(Booking.objects.filter(coach=coach), now=now)
    return _feed_response(
        request,
        bookings,
        audience="coach",
        name=f"{coach.display_name}: bookings",
        # Names and links that appear in every event, so renaming the coach refreshes the feed.
        version=f"{coach.display_name}|{coach.default_meeting_url}",
        now=now,
    )


@require_safe
def client_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A signed-in client's bookings, with every coach, for a calendar app to subscribe to."""
    user = user_for_feed_token(token)
    if user is None:
        raise Http404("No feed at this address.")
    now = timezone.now()
    bookings = feed_bookings(Booking.objects.filter(client=user), now=now)
    return _feed_response(
        request, bookings, audience="client", name=f"{settings.SITE_NAME}: my calls", version="", now=now
    )


# ---------------------------------------------------------------------------
# The invite download
# ---------------------------------------------------------------------------
@require_safe
def invite_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The client's invite for the booking behind a manage link, as it is now."""
    if not manage_lookup_throttle().allow_request(request):
        return render(
            request,
            "booking/too_many_requests.html",
            {"message": "Too many requests from your address. Please wait a minute and try again."},
            status=HTTPStatus.TOO_MANY_REQUESTS,
        )
    booking = booking_for_manage_token(
        token, queryset=Booking.objects.select_related("coach__user", "offering")
    )
    if booking is None:
        raise Http404("No booking for this link.")
    method = invites.current_method(booking)
    body = invites.invite_bytes(booking, method=method, now=timezone.now())
    response = HttpResponse(body, content_type=f"{CALENDAR_TYPE}; method={method}")
    response["Content-Disposition"] = 'attachment; filename="invite.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
