"""The coach's setup pages under /dashboard/ (config/urls.py mounts them)."""

from __future__ import annotations

from django.urls import path

from coaching import api_tokens, dashboard, onboarding

dashboard_urlpatterns = [
    # Becoming a coach (COACH_SIGNUP=open): the form, its live address check, the page after.
    path("start/", onboarding.start, name="coach_start"),
    path("start/address", onboarding.address_check, name="coach_start_address"),
    path("start/ready/", onboarding.ready, name="coach_ready"),
    path("profile/", dashboard.profile, name="dashboard_profile"),
    path("offerings/", dashboard.offering_list, name="dashboard_offerings"),
    path("offerings/new/", dashboard.offering_form, name="dashboard_offering_create"),
    path("offerings/<int:pk>/", dashboard.offering_form, name="dashboard_offering_edit"),
    path("offerings/<int:pk>/delete/", dashboard.offering_delete, name="dashboard_offering_delete"),
    path(
        "offerings/<int:pk>/deactivate/", dashboard.offering_deactivate, name="dashboard_offering_deactivate"
    ),
    path("hours/", dashboard.weekly_hours, name="dashboard_hours"),
    path("overrides/", dashboard.override_list, name="dashboard_overrides"),
    path("overrides/new/", dashboard.override_create, name="dashboard_override_create"),
    path("overrides/<int:pk>/delete/", dashboard.override_delete, name="dashboard_override_delete"),
    path("api-tokens/", api_tokens.token_list, name="dashboard_api_tokens"),
    path("api-tokens/new/", api_tokens.token_create, name="dashboard_api_token_create"),
    path("api-tokens/<int:pk>/revoke/", api_tokens.token_revoke, name="dashboard_api_token_revoke"),
]
