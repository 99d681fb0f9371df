"""Practice's addresses; config/urls.py mounts each list under its prefix."""

from __future__ import annotations

from django.urls import URLPattern, path

from practice import client_views, views

# /dashboard/...: the coach's packages and the passes they grant.
dashboard_urlpatterns: list[URLPattern] = [
    path("packages/", views.package_list, name="dashboard_packages"),
    path("packages/new/", views.package_form, name="dashboard_package_create"),
    path("packages/<int:pk>/", views.package_form, name="dashboard_package_edit"),
    path(
        "packages/<int:pk>/retire/",
        views.package_status,
        {"action": "retire"},
        name="dashboard_package_retire",
    ),
    path(
        "packages/<int:pk>/reactivate/",
        views.package_status,
        {"action": "reactivate"},
        name="dashboard_package_reactivate",
    ),
    path("passes/", views.pass_list, name="dashboard_passes"),
    # Before <reference>/: "new" is no pass reference (they all start "PS-").
    path("passes/new/", views.pass_grant, name="dashboard_pass_grant"),
    path("passes/<str:reference>/", views.pass_detail, name="dashboard_pass"),
    path("passes/<str:reference>/adjust/", views.pass_adjust, name="dashboard_pass_adjust"),
    path(
        "passes/<str:reference>/forfeits/<int:entry_pk>/give-back/",
        views.pass_give_back,
        name="dashboard_pass_give_back",
    ),
]

# /passes/<token>/...: a client's pass (the token is the secret).
pass_urlpatterns: list[URLPattern] = [
    path("<str:token>/", client_views.pass_page, name="pass_page"),
]
