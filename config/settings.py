"""Settings for the whole project, in one place.

Everything that differs between a laptop and production comes from environment
variables (django-environ). The defaults serve local use: SQLite and an embedded
Celery transport under ``var/``, email printed to the console, DEBUG on. Production
sets ``DJANGO_DEBUG=false``, a secret key, ``DATABASE_URL`` and ``REDIS_URL``; see
README.md and docs/operations.md.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
# SQLite, the embedded broker, beat's schedule and uploads live here locally.
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)


def _local_secret_key() -> str:
    """A random key kept in var/ so local sessions survive restarts.

    Only used with DEBUG on: a known constant would make every local install
    share one key, and a fresh one per start would log everybody out.
    """
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off. "
            'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    SECRET_KEY = _local_secret_key()
# Old keys stay valid for sessions and signed links while a new one is rolled out.
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env.str("SITE_NAME", default="Coaching Calls")
SITE_DOMAIN = urlsplit(SITE_URL).hostname or "localhost"

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", SITE_DOMAIN])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

# ---------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------
GOOGLE_CLIENT_ID = env.str("GOOGLE_CLIENT_ID", default="")
GOOGLE_CLIENT_SECRET = env.str("GOOGLE_CLIENT_SECRET", default="")
GOOGLE_LOGIN_ENABLED = bool(GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # In INSTALLED_APPS so /api/v1/docs serves Swagger UI from our static files, not a CDN.
    "ninja",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    *(["allauth.socialaccount.providers.google"] if GOOGLE_LOGIN_ENABLED else []),
    # Our apps, bottom layer first (docs/architecture.md): each imports only from those above it here.
    "common",
    "accounts",
    "coaching",
    "community",
    "practice",
    "booking",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # 12- or 24-hour times for this request, from the visitor's Accept-Language.
    "common.hour_cycle.HourCycleMiddleware",
]
# Flash messages ("Confirmation email sent to …", "Successfully signed in as …") stay on the
# server, in the session: the default storage puts their text, addresses included, in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
                "booking.context_processors.pending_approvals",
                "coaching.context_processors.become_coach",
            ],
        },
    },
]

# ---------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; the busy timeout makes
    # a writer wait for the lock instead of failing at once; IMMEDIATE takes the
    # write lock at BEGIN so a read-then-write transaction cannot be overtaken
    # (the re-check that stands in for PostgreSQL's exclusion constraint).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests use a file, not memory: threads in race tests then get real SQLite locking
    # (WAL + busy timeout), as web and worker processes do. One file per test run.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------
# Redis: Celery broker and cache when set
# ---------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "coaching",
            # Short timeouts: a cache that is down must cost a request milliseconds, not seconds.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery reads every CELERY_* setting (config/celery.py). Time limits sit well under
# the visibility timeout so that Redis never hands a running task to a second worker.
CELERY_VISIBILITY_TIMEOUT = 3600
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
else:
    # Kombu's filesystem transport: messages are files under var/celery, so the
    # worker and beat of `make run` need no server.
    _celery_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Two queues (docs/operations.md, "Queues"): the default one for email, reminders and our
# own periodic work, and "outbound" for requests to coaches' servers (busy feeds; CalDAV
# and webhooks next), each with its own worker, so no remote can delay a client's email.
CELERY_TASK_DEFAULT_QUEUE = "celery"
OUTBOUND_QUEUE = "outbound"
CELERY_TASK_ROUTES = {
    "coaching.tasks.refresh_busy_calendar": {"queue": OUTBOUND_QUEUE},
    "booking.tasks.send_webhook": {"queue": OUTBOUND_QUEUE},
    "coaching.tasks.sync_caldav_calendar": {"queue": OUTBOUND_QUEUE},
    "booking.tasks.write_calendar_object": {"queue": OUTBOUND_QUEUE},
}
# Every outbound request (common/outbound.py) refuses loopback unless this is set: tests only.
OUTBOUND_ALLOW_LOOPBACK = env.bool("OUTBOUND_ALLOW_LOOPBACK", default=False)
# Coaches' busy-calendar feeds (coaching/busy_calendars.py): seconds per network wait, the
# whole fetch's deadline (connect, TLS, headers, redirects, body) and the size cap.
BUSY_CALENDAR_TIMEOUT = env.float("BUSY_CALENDAR_TIMEOUT", default=10.0)
BUSY_CALENDAR_DEADLINE = env.float("BUSY_CALENDAR_DEADLINE", default=30.0)
BUSY_CALENDAR_MAX_BYTES = env.int("BUSY_CALENDAR_MAX_BYTES", default=10 * 1024 * 1024)
# "Refresh now" on one calendar at most this often (seconds); beat refreshes every ten minutes.
BUSY_CALENDAR_REFRESH_NOW_SECONDS = env.int("BUSY_CALENDAR_REFRESH_NOW_SECONDS", default=60)
# Coaches' webhooks (booking/webhooks.py, docs/operations.md "Webhooks"): the whole POST's
# deadline in seconds, how much of an answer is read, the retry backoff (first wait, the
# longest wait) and for how long retries go on, and after how many failed attempts in a row
# an endpoint is paused (its coach is told once).
WEBHOOK_DEADLINE = env.float("WEBHOOK_DEADLINE", default=10.0)
WEBHOOK_RESPONSE_MAX_BYTES = env.int("WEBHOOK_RESPONSE_MAX_BYTES", default=16 * 1024)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=60.0)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=6 * 3600.0)
WEBHOOK_RETRY_FOR_HOURS = env.float("WEBHOOK_RETRY_FOR_HOURS", default=72.0)
WEBHOOK_PAUSE_AFTER = env.int("WEBHOOK_PAUSE_AFTER", default=50)

# ---------------------------------------------------------------------------
# Email
# ---------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{SITE_NAME} <noreply@{SITE_DOMAIN}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
# With the console backend (`make run`), a worker prints each email whole, links included, so a
# newcomer can follow the waitlist's or a booking's link; Celery would otherwise pass its stdout
# through the logs, which redact every token (common/logging.py). Real mail is never printed.
CELERY_WORKER_REDIRECT_STDOUTS = not EMAIL_CONFIG["EMAIL_BACKEND"].endswith("console.EmailBackend")
# The first retry of a failed email waits about this long, each next one twice as long, up
# to the maximum (common/emails.py: retry_delay). The load test shortens both.
EMAIL_RETRY_BASE_SECONDS = env.float("EMAIL_RETRY_BASE_SECONDS", default=30.0)
EMAIL_RETRY_MAX_SECONDS = env.float("EMAIL_RETRY_MAX_SECONDS", default=30 * 60.0)

# ---------------------------------------------------------------------------
# Accounts: a custom user keyed by email; allauth for every account flow
# ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# The signup also asks for a name (accounts/forms.py).
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupExtraForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = urlsplit(SITE_URL).scheme or "http"
# A social signup keeps the person's name from the provider (accounts/adapters.py).
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_PROVIDERS = {
    "google": {
        "APPS": [{"client_id": GOOGLE_CLIENT_ID, "secret": GOOGLE_CLIENT_SECRET, "key": ""}],
        "SCOPE": ["profile", "email"],
        "AUTH_PARAMS": {"access_type": "online"},
        "VERIFIED_EMAIL": True,
    }
}
# RATE_LIMITS=off switches every limiter off for load tests on loopback.
RATE_LIMITS_ENABLED = env.str("RATE_LIMITS", default="on").lower() not in {"off", "0", "false"}
if not RATE_LIMITS_ENABLED:
    ACCOUNT_RATE_LIMITS = False
# Per client address (common/ratelimit.py).
BOOKING_CREATE_RATE = env.str("BOOKING_CREATE_RATE", default="10/m")
MANAGE_LOOKUP_RATE = env.str("MANAGE_LOOKUP_RATE", default="60/m")
COMMUNITY_SIGNUP_RATE = env.str("COMMUNITY_SIGNUP_RATE", default="5/m")
WAITLIST_JOIN_RATE = env.str("WAITLIST_JOIN_RATE", default="5/m")
# Per coach API token (api/auth.py): 429 with Retry-After beyond it.
API_TOKEN_RATE = env.str("API_TOKEN_RATE", default="120/m")
# "open": any verified account may become a coach at /dashboard/start/; "closed": the
# operator invites coaches (manage.py createcoach).
COACH_SIGNUP = env.str("COACH_SIGNUP", default="closed")
# The address of a booking's own video room, for offerings "a new room for each booking":
# {room} becomes a long random name made once per booking (kept when the call moves).
MEETING_ROOM_URL_TEMPLATE = env.str("MEETING_ROOM_URL_TEMPLATE", default="https://meet.jit.si/{room}")
# A client with sessions left on a pass gets one email this many days before it ends
# (practice/tasks.py: remind_expiring_passes); passes granted for less than that get none.
PASS_EXPIRY_REMINDER_DAYS = env.int("PASS_EXPIRY_REMINDER_DAYS", default=14)
# Fernet keys for secrets kept readable (CalDAV app passwords; common/credentials.py), newest
# first; empty derives one from DJANGO_SECRET_KEY (local use). Rotate: prepend, re-encrypt, drop.
CREDENTIAL_KEYS = env.list("CREDENTIAL_KEYS", default=[])
# A freed time is kept this long for the first in line on the waitlist (booking/waitlist.py)
# before it passes to the next.
WAITLIST_HOLD_MINUTES = env.int("WAITLIST_HOLD_MINUTES", default=30)
# Which X-Forwarded-For entry is the client: only trusted behind our own proxy.
NINJA_NUM_PROXIES = 1 if env.bool("DJANGO_BEHIND_PROXY", default=False) else 0

# ---------------------------------------------------------------------------
# Internationalisation and time: every instant is aware UTC
# ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------
# Static and media files
# ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads (coach photos, re-encoded on upload by common/images.py). common/media.py serves
# MEDIA_ROOT/coaches/ under MEDIA_URL with DEBUG on or off; a proxy may serve it instead
# (docs/operations.md, "Coach photos").
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files in production; plain finders locally so that
        # `make run` needs no collectstatic.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# ---------------------------------------------------------------------------
# Security: production hardening switched on whenever DEBUG is off
# ---------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_PROXY", default=False) else None
)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# /healthz answers plain HTTP on loopback for load balancers behind the proxy.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# ---------------------------------------------------------------------------
# Logging: one line per event, no personal data (ids and references only)
# ---------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="line")  # "json" for log shippers
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logging.JsonFormatter"},
    },
    # Request paths carry manage, feed and account tokens: every handler redacts them.
    "filters": {"redact_tokens": {"()": "common.logging.RedactTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "line",
            "filters": ["redact_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Replaces Django's default handlers on "django" (a second console in DEBUG and
        # mail_admins, whose report prints the request unredacted): its records reach root's.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"level": "ERROR"},
        "django.security.DisallowedHost": {"level": "ERROR"},
        # runserver's access log: one line per request, through the redacting console.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
