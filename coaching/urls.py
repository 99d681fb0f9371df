from __future__ import annotations

from django.urls import path

from coaching import views

urlpatterns = [
    path("", views.home, name="home"),
    path("<slug:coach>/", views.coach_page, name="coach_page"),
]
