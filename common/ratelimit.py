"""Rate limits backed by the cache (Redis when REDIS_URL is set), and the one "too many" page.

Built on django-ninja's SimpleRateThrottle so the API and the HTML views share one
implementation. ``RATE_LIMITS=off`` turns every limit off (load tests on loopback).
"""

from __future__ import annotations

from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.throttling import SimpleRateThrottle

TOO_MANY_MESSAGE = "Too many requests from your address. Please wait a minute and try again."


class AddressRateThrottle(SimpleRateThrottle):
    """At most ``rate`` requests per client address for one ``scope``."""

    def __init__(self, scope: str, rate: str) -> None:
        self.scope = scope
        super().__init__(rate)

    def allow_request(self, request: HttpRequest) -> bool:
        if not settings.RATE_LIMITS_ENABLED:
            return True
        return super().allow_request(request)

    def get_cache_key(self, request: HttpRequest) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class KeyRateThrottle(SimpleRateThrottle):
    """At most ``rate`` requests per ``ident`` (an API token's id) for one ``scope``; ``wait()``
    then says how many seconds until the next one is allowed (``Retry-After``)."""

    def __init__(self, scope: str, rate: str, ident: str) -> None:
        self.scope = scope
        self.ident = ident
        super().__init__(rate)

    def allow_request(self, request: HttpRequest) -> bool:
        if not settings.RATE_LIMITS_ENABLED:
            return True
        return super().allow_request(request)

    def get_cache_key(self, request: HttpRequest) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


def booking_create_throttle() -> AddressRateThrottle:
    return AddressRateThrottle("booking-create", settings.BOOKING_CREATE_RATE)


def manage_lookup_throttle() -> AddressRateThrottle:
    return AddressRateThrottle("manage-lookup", settings.MANAGE_LOOKUP_RATE)


def community_signup_throttle() -> AddressRateThrottle:
    return AddressRateThrottle("community-signup", settings.COMMUNITY_SIGNUP_RATE)


def waitlist_join_throttle() -> AddressRateThrottle:
    return AddressRateThrottle("waitlist-join", settings.WAITLIST_JOIN_RATE)


def too_many_requests(request: HttpRequest, message: str = TOO_MANY_MESSAGE) -> HttpResponse:
    """The page every throttled HTML view answers with: 429 and what to do."""
    return render(
        request, "too_many_requests.html", {"message": message}, status=HTTPStatus.TOO_MANY_REQUESTS
    )
