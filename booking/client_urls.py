"""The coach's client pages' addresses (the client list and one client's file, with their
sessions): under /dashboard/, mounted by config/urls.py."""

from __future__ import annotations

from django.urls import URLPattern, path

from booking.views import clients

dashboard_urlpatterns: list[URLPattern] = [
    path("clients/", clients.client_list, name="dashboard_clients"),
    path("clients/<int:pk>/", clients.client_detail, name="dashboard_client"),
    path("clients/<int:pk>/notes/", clients.client_notes, name="dashboard_client_notes"),
    path(
        "clients/<int:pk>/sessions/<str:reference>/note/",
        clients.session_note,
        name="dashboard_client_session_note",
    ),
]
