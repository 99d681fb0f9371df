"""The coach's client pages' addresses (the client list and one client's file, with their
sessions): under /dashboard/, mounted by config/urls.py."""

from __future__ import annotations

from django.urls import URLPattern

dashboard_urlpatterns: list[URLPattern] = []
