"""Every address of the site, top down, one prefix per audience; the public /<coach>/ tree comes last."""

from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts import urls as accounts_urls
from api.api import api
from booking import client_urls
from booking import urls as booking_urls
from coaching import urls as coaching_urls
from coaching.views import home
from common.media import serve_media
from community import urls as community_urls
from config.health import healthz
from config.views import favicon
from practice import urls as practice_urls

# Staff sign in through allauth's login, with its rate limits; Django's own admin login has none.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
    # Coach photos, with DEBUG on or off (common/media.py); a proxy may serve them first.
    path(f"{settings.MEDIA_URL.strip('/')}/<str:directory>/<str:name>", serve_media, name="media"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    # The coach's dashboard: setup (coaching), bookings, calendars and clients (booking),
    # packages and passes (practice), community.
    path(
        "dashboard/",
        include(
            booking_urls.dashboard_urlpatterns
            + client_urls.dashboard_urlpatterns
            + practice_urls.dashboard_urlpatterns
            + coaching_urls.dashboard_urlpatterns
            + community_urls.dashboard_urlpatterns
        ),
    ),
    path("community/", include(community_urls.urlpatterns)),
    path("privacy/", include(community_urls.privacy_urlpatterns)),
    path("b/", include(booking_urls.manage_urlpatterns)),
    path("s/", include(booking_urls.series_urlpatterns)),
    path("w/", include(booking_urls.waitlist_urlpatterns)),
    path("feeds/", include(booking_urls.feed_urlpatterns)),
    # A client's pass: its balance, its history and what it books (the token is the secret).
    path("passes/", include(practice_urls.pass_urlpatterns)),
    # A signed-in person's own pages: their data, their bookings, their calendar feed.
    path("my/", include(accounts_urls.my_urlpatterns + booking_urls.my_urlpatterns)),
    path("", home, name="home"),
    # Public coach pages catch /<slug>/, so they come last.
    path("", include(booking_urls.public_urlpatterns)),
]
