from __future__ import annotations

from django.urls import path

from accounts import views

urlpatterns = [
    path("my/data/", views.my_data, name="my_data"),
    path("my/data/export/", views.export_data, name="my_data_export"),
    path("my/data/delete/", views.delete_account, name="my_data_delete"),
]
