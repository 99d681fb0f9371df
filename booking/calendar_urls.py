"""Calendar data: invite downloads and subscription feeds (booking/calendar_views.py).

Included before booking/urls.py, whose ``b/<token>/`` pages sit next to ``invite.ics``.
"""

from __future__ import annotations

from django.urls import path

from booking import calendar_views

urlpatterns = [
    path("b/<str:token>/invite.ics", calendar_views.invite_ics, name="booking_invite_ics"),
    path("feeds/coach/<str:token>.ics", calendar_views.coach_feed, name="coach_feed"),
    path("feeds/client/<str:token>.ics", calendar_views.client_feed, name="client_feed"),
]
