from __future__ import annotations

from django.urls import path

from coaching import dashboard, views

urlpatterns = [
    path("", views.home, name="home"),
    # The coach dashboard comes before the public /<slug>/ pages ("dashboard" is a reserved slug).
    path("dashboard/", dashboard.home, name="dashboard"),
    path("dashboard/profile/", dashboard.profile, name="dashboard_profile"),
    path("dashboard/offerings/", dashboard.offering_list, name="dashboard_offerings"),
    path("dashboard/offerings/new/", dashboard.offering_create, name="dashboard_offering_create"),
    path("dashboard/offerings/<int:pk>/", dashboard.offering_edit, name="dashboard_offering_edit"),
    path("dashboard/offerings/<int:pk>/delete/", dashboard.offering_delete, name="dashboard_offering_delete"),
    path(
        "dashboard/offerings/<int:pk>/deactivate/",
        dashboard.offering_deactivate,
        name="dashboard_offering_deactivate",
    ),
    path("dashboard/hours/", dashboard.weekly_hours, name="dashboard_hours"),
    path("dashboard/overrides/", dashboard.override_list, name="dashboard_overrides"),
    path("dashboard/overrides/new/", dashboard.override_create, name="dashboard_override_create"),
    path("dashboard/overrides/<int:pk>/delete/", dashboard.override_delete, name="dashboard_override_delete"),
    path("dashboard/preview/", dashboard.preview, name="dashboard_preview"),
    path("<slug:coach>/", views.coach_page, name="coach_page"),
]
