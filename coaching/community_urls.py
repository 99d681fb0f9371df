"""URLs of the email community, the privacy policy and the landing-page editor.

Included before booking/urls.py: every public address here starts with a fixed,
reserved first segment ("community", "privacy", "dashboard"; see
coaching.models.RESERVED_SLUGS), so none can shadow a coach's /<coach>/<offering>/.
"""

from __future__ import annotations

from django.urls import path

from coaching import community_views as views

urlpatterns = [
    path("privacy/", views.privacy, name="privacy"),
    # Public community pages.
    path("community/confirm/<str:token>/", views.confirm, name="community_confirm"),
    path("community/unsubscribe/<str:token>/", views.unsubscribe, name="community_unsubscribe"),
    path("community/<slug:coach>/join/", views.signup, name="community_signup"),
    path("community/<slug:coach>/check-your-inbox/", views.check_inbox, name="community_check_inbox"),
    # The coach dashboard.
    path("dashboard/landing/", views.landing_edit, name="dashboard_landing"),
    path("dashboard/preview-markdown/", views.markdown_preview, name="dashboard_markdown_preview"),
    path("dashboard/subscribers/", views.subscriber_list, name="dashboard_subscribers"),
    path("dashboard/subscribers/export.csv", views.subscriber_export, name="dashboard_subscribers_export"),
    path("dashboard/broadcasts/", views.broadcast_list, name="dashboard_broadcasts"),
    path("dashboard/broadcasts/new/", views.broadcast_create, name="dashboard_broadcast_create"),
    path("dashboard/broadcasts/<int:pk>/", views.broadcast_detail, name="dashboard_broadcast"),
    path("dashboard/broadcasts/<int:pk>/edit/", views.broadcast_edit, name="dashboard_broadcast_edit"),
    path("dashboard/broadcasts/<int:pk>/test/", views.broadcast_test, name="dashboard_broadcast_test"),
    path("dashboard/broadcasts/<int:pk>/send/", views.broadcast_send, name="dashboard_broadcast_send"),
    path("dashboard/broadcasts/<int:pk>/delete/", views.broadcast_delete, name="dashboard_broadcast_delete"),
    path(
        "dashboard/broadcasts/<int:pk>/progress.json",
        views.broadcast_progress,
        name="dashboard_broadcast_progress",
    ),
]
