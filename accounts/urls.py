"""A signed-in person's own data, under /my/ (config/urls.py mounts it)."""

from __future__ import annotations

from django.urls import path

from accounts import views

my_urlpatterns = [
    path("data/", views.my_data, name="my_data"),
    path("data/export/", views.export_data, name="my_data_export"),
    path("data/delete/", views.delete_account, name="my_data_delete"),
]
