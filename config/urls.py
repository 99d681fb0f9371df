from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from api.api import api
from config.health import healthz
from config.views import favicon

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    path("", include("accounts.urls")),
    path("", include("booking.calendar_urls")),
    path("", include("coaching.calendar_urls")),
    path("", include("coaching.community_urls")),
    path("", include("booking.urls")),
    # Public coach pages catch /<slug>/, so they come last.
    path("", include("coaching.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns = static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT) + urlpatterns
