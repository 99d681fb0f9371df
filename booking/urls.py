"""Booking's addresses, one list per audience; config/urls.py mounts each under its prefix."""

from __future__ import annotations

from django.urls import path

from booking.views import (
    agenda,
    calendars,
    client,
    coach,
    coach_booking,
    feeds,
    manage,
    public,
    series,
    waitlist,
    waitlist_coach,
    webhooks,
)

# /b/<token>/...: the client's manage link (the token is the secret).
manage_urlpatterns = [
    path("<str:token>/", manage.manage, name="booking_manage"),
    path("<str:token>/confirmed/", manage.confirmation, name="booking_confirmed"),
    path("<str:token>/cancel/", manage.manage_cancel, name="booking_manage_cancel"),
    path("<str:token>/reschedule/", manage.manage_reschedule, name="booking_manage_reschedule"),
    path("<str:token>/invite.ics", manage.invite_ics, name="booking_invite_ics"),
]

# /s/<token>/...: a standing series' own link (the token is the secret).
series_urlpatterns = [
    path("<str:token>/", series.series_manage, name="series_manage"),
    path("<str:token>/cancel/", series.series_cancel, name="series_cancel"),
    path("<str:token>/invite.ics", series.series_invite_ics, name="series_invite_ics"),
]

# /w/<token>/...: a waitlist entry's own link (the token is the secret).
waitlist_urlpatterns = [
    path("<str:token>/", waitlist.entry_page, name="waitlist_entry"),
    path("<str:token>/confirm/", waitlist.entry_confirm, name="waitlist_confirm"),
    path("<str:token>/take/", waitlist.entry_take, name="waitlist_take"),
    path("<str:token>/release/", waitlist.entry_release, name="waitlist_release"),
    path("<str:token>/leave/", waitlist.entry_leave, name="waitlist_leave"),
]

# /feeds/...: calendar subscriptions.
feed_urlpatterns = [
    path("coach/<str:token>.ics", feeds.coach_feed, name="coach_feed"),
    path("client/<str:token>.ics", feeds.client_feed, name="client_feed"),
]

# /my/...: a signed-in client's pages.
my_urlpatterns = [
    path("bookings/", client.my_bookings, name="my_bookings"),
    path("calendar/", client.my_calendar, name="my_calendar"),
    path("calendar/replace/", client.my_calendar_replace, name="my_calendar_replace"),
]

# /dashboard/...: the coach's pages that read bookings.
dashboard_urlpatterns = [
    path("", agenda.agenda, name="dashboard"),
    path("calendar/", agenda.week_calendar, name="dashboard_calendar"),
    path("preview/", coach.preview, name="dashboard_preview"),
    path("bookings/", coach.booking_list, name="dashboard_bookings"),
    path("bookings/new/", coach_booking.booking_new, name="dashboard_booking_new"),
    path("bookings/<str:reference>/", coach.booking_detail, name="dashboard_booking"),
    path(
        "bookings/<str:reference>/reschedule/",
        coach.booking_reschedule_view,
        name="dashboard_booking_reschedule",
    ),
    path("bookings/<str:reference>/<slug:action>/", coach.booking_action, name="dashboard_booking_action"),
    path("waitlist/", waitlist_coach.waitlist_page, name="dashboard_waitlist"),
    path(
        "waitlist/<str:reference>/remove/",
        waitlist_coach.waitlist_remove_view,
        name="dashboard_waitlist_remove",
    ),
    path(
        "waitlist/emails/<int:pk>/retry/",
        waitlist_coach.waitlist_email_retry_view,
        name="dashboard_waitlist_email_retry",
    ),
    path("calendars/", calendars.calendar_list, name="dashboard_calendars"),
    path("calendars/<int:pk>/remove/", calendars.calendar_remove, name="dashboard_calendar_remove"),
    path("calendars/<int:pk>/refresh/", calendars.calendar_refresh, name="dashboard_calendar_refresh"),
    path("calendars/feed/", calendars.coach_feed_replace, name="dashboard_feed_replace"),
    path("calendars/caldav/", calendars.caldav_connect, name="dashboard_caldav_connect"),
    path("calendars/caldav/<int:pk>/", calendars.caldav_choose, name="dashboard_caldav_choose"),
    path("calendars/caldav/<int:pk>/sync/", calendars.caldav_sync, name="dashboard_caldav_sync"),
    path("calendars/caldav/<int:pk>/remove/", calendars.caldav_remove, name="dashboard_caldav_remove"),
    path(
        "calendars/caldav/writes/<int:pk>/retry/",
        calendars.caldav_write_retry,
        name="dashboard_caldav_write_retry",
    ),
    path("emails/", calendars.email_failures, name="dashboard_emails"),
    path("emails/<int:pk>/retry/", calendars.email_retry, name="dashboard_email_retry"),
    path("webhooks/", webhooks.endpoint_list, name="dashboard_webhooks"),
    path("webhooks/new/", webhooks.endpoint_create, name="dashboard_webhook_create"),
    path("webhooks/<int:pk>/", webhooks.endpoint_detail, name="dashboard_webhook"),
    path("webhooks/<int:pk>/rotate-secret/", webhooks.endpoint_rotate, name="dashboard_webhook_rotate"),
    path("webhooks/<int:pk>/test/", webhooks.endpoint_test, name="dashboard_webhook_test"),
    path("webhooks/<int:pk>/pause/", webhooks.endpoint_pause, name="dashboard_webhook_pause"),
    path("webhooks/<int:pk>/resume/", webhooks.endpoint_resume, name="dashboard_webhook_resume"),
    path("webhooks/<int:pk>/delete/", webhooks.endpoint_delete, name="dashboard_webhook_delete"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_pk>/resend/",
        webhooks.delivery_resend,
        name="dashboard_webhook_resend",
    ),
]

# /<coach>/...: the public pages, mounted last (reserved slugs keep coaches off our prefixes).
public_urlpatterns = [
    path("<slug:coach>/", public.coach_page, name="coach_page"),
    path("<slug:coach>/<slug:offering>/", public.offering_page, name="offering_page"),
    path("<slug:coach>/<slug:offering>/book/", public.book, name="booking_form"),
    path("<slug:coach>/<slug:offering>/waitlist/", waitlist.join, name="waitlist_join"),
    path("<slug:coach>/<slug:offering>/waitlist/sent/", waitlist.sent, name="waitlist_sent"),
]
