"""Practice's addresses; config/urls.py mounts each list under its prefix."""

from __future__ import annotations

from django.urls import URLPattern

# /dashboard/...: the coach's packages and the passes they grant.
dashboard_urlpatterns: list[URLPattern] = []

# /passes/<token>/...: a client's pass (the token is the secret).
pass_urlpatterns: list[URLPattern] = []
