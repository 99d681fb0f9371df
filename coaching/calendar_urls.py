"""Calendar pages (coaching/calendar_views.py): included before booking/urls.py and coaching/urls.py."""

from __future__ import annotations

from django.urls import path

from coaching import calendar_views

urlpatterns = [
    path("dashboard/calendars/", calendar_views.calendar_list, name="dashboard_calendars"),
    path(
        "dashboard/calendars/<int:pk>/remove/",
        calendar_views.calendar_remove,
        name="dashboard_calendar_remove",
    ),
    path(
        "dashboard/calendars/<int:pk>/refresh/",
        calendar_views.calendar_refresh,
        name="dashboard_calendar_refresh",
    ),
    path("dashboard/calendars/feed/", calendar_views.coach_feed_replace, name="dashboard_feed_replace"),
    path("dashboard/emails/", calendar_views.email_failures, name="dashboard_emails"),
    path("dashboard/emails/<int:pk>/retry/", calendar_views.email_retry, name="dashboard_email_retry"),
    path("my/calendar/", calendar_views.my_calendar, name="my_calendar"),
    path("my/calendar/replace/", calendar_views.my_calendar_replace, name="my_calendar_replace"),
]
