from __future__ import annotations

from django.urls import path, register_converter

from booking import coach_views, views
from coaching.models import RESERVED_SLUGS


class PublicSlugConverter:
    """A coach slug that is not one of ours: /dashboard/offerings/ must stay the dashboard's.

    These URLs are included before coaching/urls.py, so a two-segment pattern would
    otherwise swallow every two-segment page that comes after it. A reserved first
    segment makes the pattern not match, and resolution moves on.
    """

    regex = "[-a-zA-Z0-9_]+"

    def to_python(self, value: str) -> str:
        if value.lower() in RESERVED_SLUGS:
            raise ValueError(value)
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PublicSlugConverter, "public_slug")

urlpatterns = [
    # Manage links: the token is the secret (booking/tokens.py).
    path("b/<str:token>/", views.manage, name="booking_manage"),
    path("b/<str:token>/confirmed/", views.confirmation, name="booking_confirmed"),
    path("b/<str:token>/cancel/", views.manage_cancel, name="booking_manage_cancel"),
    path("b/<str:token>/reschedule/", views.manage_reschedule, name="booking_manage_reschedule"),
    path("my/bookings/", views.my_bookings, name="my_bookings"),
    # The coach's bookings in the dashboard.
    path("dashboard/bookings/", coach_views.booking_list, name="dashboard_bookings"),
    path("dashboard/bookings/<str:reference>/", coach_views.booking_detail, name="dashboard_booking"),
    path(
        "dashboard/bookings/<str:reference>/reschedule/",
        coach_views.booking_reschedule_view,
        name="dashboard_booking_reschedule",
    ),
    path(
        "dashboard/bookings/<str:reference>/<slug:action>/",
        coach_views.booking_action,
        name="dashboard_booking_action",
    ),
    # An offering's page and its booking form, under the coach's public address.
    path("<public_slug:coach>/<slug:offering>/", views.offering_page, name="offering_page"),
    path("<public_slug:coach>/<slug:offering>/book/", views.book, name="booking_form"),
]
