"""The community's addresses: public ones under /community/ and /privacy/, the coach's under /dashboard/."""

from __future__ import annotations

from django.urls import path

from community import dashboard, views

urlpatterns = [
    path("confirm/<str:token>/", views.confirm, name="community_confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="community_unsubscribe"),
    path("<slug:coach>/join/", views.signup, name="community_signup"),
    path("<slug:coach>/check-your-inbox/", views.check_inbox, name="community_check_inbox"),
]

privacy_urlpatterns = [
    path("", views.privacy, name="privacy"),
]

dashboard_urlpatterns = [
    path("landing/", dashboard.landing_edit, name="dashboard_landing"),
    path("preview-markdown/", dashboard.markdown_preview, name="dashboard_markdown_preview"),
    path("subscribers/", dashboard.subscriber_list, name="dashboard_subscribers"),
    path("subscribers/export.csv", dashboard.subscriber_export, name="dashboard_subscribers_export"),
    path("broadcasts/", dashboard.broadcast_list, name="dashboard_broadcasts"),
    path("broadcasts/new/", dashboard.broadcast_create, name="dashboard_broadcast_create"),
    path("broadcasts/<int:pk>/", dashboard.broadcast_detail, name="dashboard_broadcast"),
    path("broadcasts/<int:pk>/edit/", dashboard.broadcast_edit, name="dashboard_broadcast_edit"),
    path("broadcasts/<int:pk>/test/", dashboard.broadcast_test, name="dashboard_broadcast_test"),
    path("broadcasts/<int:pk>/send/", dashboard.broadcast_send, name="dashboard_broadcast_send"),
    path("broadcasts/<int:pk>/delete/", dashboard.broadcast_delete, name="dashboard_broadcast_delete"),
    path(
        "broadcasts/<int:pk>/progress.json", dashboard.broadcast_progress, name="dashboard_broadcast_progress"
    ),
]
