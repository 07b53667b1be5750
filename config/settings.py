"""Parcelle settings: one module, driven by the environment.

Embedded default (``make run``): SQLite, django-q2's ORM broker, console email.
Production: set DATABASE_URL (PostgreSQL), REDIS_URL (django-q2 on Redis),
EMAIL_URL, SECRET_KEY, ALLOWED_HOSTS and DEBUG=0.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    # Only so that a fresh clone runs (make run, make test): never used with DEBUG off.
    SECRET_KEY = "parcelle-insecure-development-key-" + "x" * 40  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# HTTPS hardening, on whenever DEBUG is off (behind a load balancer that sets X-Forwarded-Proto).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Health checks come over plain HTTP from the load balancer: never redirect them.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "django_htmx",
    "django_q",
    "core",
    "sellers",
    "tracking",
    "payouts",
    "notifications",
    "returns",
    "cs",
    "privacy",
    "anymail",
]
# devtools (the sandbox courier, the demo seed, `make run`'s devstack) is for development only:
# installed with DEBUG for its management commands (seed_demo, devstack), never in production,
# whose package does not even ship it (pyproject's packages.find leaves it out). It has no
# models, so installing it or not changes no migration.
if DEBUG:
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]
# Hardening (issue 14): NUL bytes refused before any view, NotFound from a page is a 404.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.common.CommonMiddleware"),
    "core.middleware.RejectNulMiddleware",
)
MIDDLEWARE.append("core.middleware.NotFoundMiddleware")
# The API's RateLimit / RateLimit-Policy answer headers (core/api/throttling.py).
MIDDLEWARE.append("core.api.throttling.RateLimitHeadersMiddleware")
# Hardening (issue 14, item 11): a Content-Security-Policy on every response (core/csp.py),
# set outside everything else so that error pages get one too.
MIDDLEWARE.insert(1, "core.csp.ContentSecurityPolicyMiddleware")
# The API docs' Swagger UI from our own static files (no CDN, works offline, under the CSP).
INSTALLED_APPS.insert(INSTALLED_APPS.index("drf_spectacular") + 1, "drf_spectacular_sidecar")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, qcluster, seed) share the file: wait for locks instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Seller users log in to the seller portal; staff use the admin's own login.
LOGIN_URL = "sellers:login"
LOGIN_REDIRECT_URL = "sellers:portal"

# Hardening (issue 14, item 5): every login form (seller portal, admin; the CS and finance
# consoles log in through the admin's) is throttled by django-axes, per account and per
# address: LOGIN_FAILURE_LIMIT failures on one username, or from one address, lock both out for
# LOGIN_COOLOFF_MINUTES, even with the right password. Attempts live in the database, so every
# web node sees them. The admin's path is a setting (ADMIN_URL) so it need not be /admin/.
ADMIN_URL = os.environ.get("ADMIN_URL", "admin/").strip("/") + "/"
INSTALLED_APPS.append("axes")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as django-axes asks
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before checking
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one reaching the limit locks
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/login_locked.html"
AXES_CLIENT_IP_CALLABLE = "core.clientip.client_ip"  # honours TRACKING_TRUSTED_PROXY_COUNT
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [
    ("fr", _("French")),
    ("en", _("English")),
    ("de", _("German")),
    ("es", _("Spanish")),
    ("it", _("Italian")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production serves hashed, compressed files (collectstatic); development serves sources.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "media/"


def email_settings(url: str) -> dict[str, object]:
    """Translate EMAIL_URL (console://, smtp://user:pass@host:port, smtp+tls://…) to settings."""
    parts = urlsplit(url)
    if parts.scheme in {"", "console"}:
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parts.scheme not in {"smtp", "smtp+tls", "smtps"}:
        raise ValueError(f"EMAIL_URL scheme {parts.scheme!r} is not supported")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or 25,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "smtp+tls",
        "EMAIL_USE_SSL": parts.scheme == "smtps",
    }


globals().update(email_settings(os.environ.get("EMAIL_URL", "console://")))

# An email provider through django-anymail instead of SMTP (EMAIL_URL stays the default):
# EMAIL_PROVIDER=mailgun|sendgrid|postmark|brevo|amazon_ses|mailjet|sparkpost|resend|... picks
# anymail's backend; its settings come from the environment variables ANYMAIL_<NAME>
# (ANYMAIL_MAILGUN_API_KEY, ANYMAIL_POSTMARK_SERVER_TOKEN, ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY…).
# The provider's tracking webhooks (/anymail/<provider>/tracking/) record bounces and
# complaints; they authenticate with HTTP basic auth ANYMAIL_WEBHOOK_SECRET ("user:password",
# put in the webhook URL at the provider). Unset, a random secret nobody knows is used: every
# webhook is refused (401) rather than accepted unauthenticated.
EMAIL_PROVIDER = os.environ.get("EMAIL_PROVIDER", "").strip().lower()
if EMAIL_PROVIDER:
    if not EMAIL_PROVIDER.replace("_", "").isalnum():
        raise ValueError(f"EMAIL_PROVIDER {EMAIL_PROVIDER!r} is not an anymail provider name")
    EMAIL_BACKEND = f"anymail.backends.{EMAIL_PROVIDER}.EmailBackend"
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_") and value
}
ANYMAIL.setdefault("WEBHOOK_SECRET", secrets.token_urlsafe(32))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Parcelle <suivi@parcelle.example>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Each API view names who may call each operation; is_staff alone grants nothing.
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.OperationPermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Per token (else user, else address), counted in the shared cache: core/api/throttling.py.
    "DEFAULT_THROTTLE_CLASSES": ["core.api.throttling.ApiRateThrottle"],
}
# Each API caller's quota: this many requests per window, then 429 with Retry-After.
API_RATE_LIMIT_REQUESTS = int(os.environ.get("API_RATE_LIMIT_REQUESTS", "600"))
API_RATE_LIMIT_WINDOW_SECONDS = int(os.environ.get("API_RATE_LIMIT_WINDOW_SECONDS", "60"))
# How long a creating POST's Idempotency-Key (and the answer it got) is kept: a retry within this
# time gets the first answer; after it (and the hourly purge), the same key creates again.
API_IDEMPOTENCY_KEY_TTL_HOURS = int(os.environ.get("API_IDEMPOTENCY_KEY_TTL_HOURS", "24"))
SPECTACULAR_SETTINGS = {
    "TITLE": "Parcelle API",
    "DESCRIPTION": "Unified parcel tracking and proof of delivery for the marketplace.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Shipments and payouts both have a "status": name each enum after what it describes.
    "ENUM_NAME_OVERRIDES": {
        "ShipmentStatusEnum": "tracking.models.StatusChoices",
        "PayoutStatusEnum": "payouts.models.Payout.Status",
        # An event's "source" appears in a shipment's events and in the events feed.
        "TrackingEventSourceEnum": "tracking.models.TrackingEvent.Source",
        "ReturnStatusEnum": "returns.models.ReturnRequest.Status",
        "ReturnResolutionEnum": "returns.models.Resolution",
        # kept as it was named before returns had a "resolution" too
        "ResolutionEnum": "tracking.models.ShipmentException.Resolution",
    },
}

# django-q2: Redis when REDIS_URL is set (production, many workers), the ORM broker otherwise.
REDIS_URL = os.environ.get("REDIS_URL", "")
Q_CLUSTER = {
    "name": "parcelle",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": 120,
    "retry": 180,
    "max_attempts": 3,
    "queue_limit": 100,
    "catch_up": False,
    # Successful tasks kept for operators (0: all of them; the many-workers soak reads them).
    "save_limit": int(os.environ.get("Q_SAVE_LIMIT", "250")),
    "label": "Django Q2",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }

# Couriers. Every base URL can be pointed at the local sandbox courier with CARRIER_SANDBOX_URL
# (make run does): the same adapter code then talks to the emulator instead of the courier.
CARRIER_SANDBOX_URL = os.environ.get("CARRIER_SANDBOX_URL", "").rstrip("/")
CARRIER_HTTP_TIMEOUT_SECONDS = float(os.environ.get("CARRIER_HTTP_TIMEOUT_SECONDS", "10"))
# Each courier's request budget (per second, per day) is shared by every worker through this
# Redis (tracking/budgets.py); unset, each process keeps its own (the embedded default).
COURIER_BUDGET_REDIS_URL = os.environ.get("COURIER_BUDGET_REDIS_URL", REDIS_URL)
# A request waits inline at most this long for room in its courier's budget; a longer wait
# (the day's quota is spent) backs the courier off instead of holding a worker asleep.
COURIER_BUDGET_MAX_WAIT_SECONDS = float(os.environ.get("COURIER_BUDGET_MAX_WAIT_SECONDS", "5"))


# Each courier's base URL and credentials follow a naming rule, <SLUG>_BASE_URL and
# <SLUG>_<CREDENTIAL> (e.g. LAPOSTE_API_KEY, DHL_PUSH_TOKEN; each adapter declares its
# credentials): adding a courier needs no line here. Unset credentials get sandbox placeholders
# only with DEBUG (make run, the tests); in production they stay empty, so the courier is not
# polled or its pushes are refused, and `manage.py check --deploy` names the missing variables.
from tracking.carriers import carrier_settings_from_environ  # noqa: E402 - pure, no Django

CARRIERS = carrier_settings_from_environ(
    os.environ, sandbox_url=CARRIER_SANDBOX_URL, placeholders=DEBUG
)

# Pushes whose own timestamp is further than this from our clock are refused (replays).
CARRIER_PUSH_TOLERANCE_SECONDS = int(os.environ.get("CARRIER_PUSH_TOLERANCE_SECONDS", "300"))
# Raw courier answers and pushes are kept (compressed) this long, for operators to audit.
# 90 days: longer than the couriers' claim windows for a lost or damaged parcel (La Poste /
# Colissimo, DHL, UPS: 21 to 60 days after dispatch), so the courier's own words are at hand
# for any dispute, and no longer (they carry the buyer's name and address).
RAW_PAYLOAD_RETENTION_DAYS = int(os.environ.get("RAW_PAYLOAD_RETENTION_DAYS", "90"))

# The retention policy per kind of personal data (privacy.services.retention_apply, the daily
# privacy.apply_retention schedule); each in days, each from the environment.
PRIVACY_RETENTION_DAYS = {
    # Buyer's name, email, phone on an order, from its creation: 2 years, the legal guarantee
    # of conformity (Code de la consommation L217-3, 24 months from delivery; the EU Sale of
    # Goods directive's minimum): a buyer may still claim, and be answered, until then.
    "buyer_contact": int(os.environ.get("RETENTION_BUYER_CONTACT_DAYS", "730")),
    # Delivery logs (who was sent what): 1 year, to answer "I was never told" and card
    # disputes (120 days in the card schemes' rules) with margin; then the rows stay for the
    # counts, their recipients pseudonymised.
    "delivery_log": int(os.environ.get("RETENTION_DELIVERY_LOG_DAYS", "365")),
    # Seller-uploaded POD files (a signature, a doorstep photo): 540 days, the longest card
    # scheme chargeback window counted from the transaction, the POD being the marketplace's
    # evidence in it; the POD row (date, kind, review) stays with the payout.
    "pod_file": int(os.environ.get("RETENTION_POD_FILE_DAYS", "540")),
    # Buyers' return photos: 180 days, past the buyer's claim window (PAYOUT_CLAIM_WINDOW_DAYS)
    # and the return's refund, with a chargeback's 120 days on top; the request stays.
    "return_photo": int(os.environ.get("RETENTION_RETURN_PHOTO_DAYS", "180")),
}

# Notifications (see notifications/README.md and docs/webhooks.md).
# Parcels of one order that move within this window share one email.
NOTIFICATION_CONSOLIDATION_SECONDS = int(
    os.environ.get("NOTIFICATION_CONSOLIDATION_SECONDS", "120")
)
# A notification that failed this many times is dead-lettered (replayable from the admin).
NOTIFICATION_MAX_ATTEMPTS = int(os.environ.get("NOTIFICATION_MAX_ATTEMPTS", "5"))
# SMS: the console in development; notifications.sms.TwilioSmsBackend with the Twilio account.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "notifications.sms.ConsoleSmsBackend")
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM = os.environ.get("TWILIO_FROM", "")
TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")
TWILIO_BASE_URL = os.environ.get("TWILIO_BASE_URL", "https://api.twilio.com")
# The public URL of /webhooks/sms/twilio/status/: sent as each SMS's StatusCallback, and the
# URL whose X-Twilio-Signature is checked (Twilio signs the URL it called). Unset: no callbacks
# asked, and a callback's own URL is checked.
TWILIO_STATUS_CALLBACK_URL = os.environ.get("TWILIO_STATUS_CALLBACK_URL", "")
# Hardening (issue 14, item 6): webhooks may reach loopback (and plain http) only in development
# and in the test suite, whose receivers listen on 127.0.0.1; core/checks.py refuses it in
# production. See notifications/urlguard.py.
WEBHOOK_ALLOW_LOOPBACK = env_bool("WEBHOOK_ALLOW_LOOPBACK", DEBUG)
# One webhook delivery waits this long for the receiver before it counts as a failure.
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
# After "Rotate the signing secret", the previous secret keeps signing beside the new one this
# long (a day: time for a seller to deploy the new secret without refusing requests).
WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS = int(
    os.environ.get("WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS", str(24 * 3600))
)
# An endpoint failing for this long (and 10 times in a row) is disabled and its owner told.
WEBHOOK_DISABLE_AFTER_SECONDS = int(os.environ.get("WEBHOOK_DISABLE_AFTER_SECONDS", str(3 * 86400)))
ADMINS = [("Parcelle operators", a) for a in env_list("ADMIN_EMAILS", "")]

# Payouts: how long a buyer may claim after the last delivery, and the marketplace commission
# (a per-seller override lives in payouts.SellerCommission).
PAYOUT_CLAIM_WINDOW_DAYS = int(os.environ.get("PAYOUT_CLAIM_WINDOW_DAYS", "14"))
PAYOUT_COMMISSION_RATE = os.environ.get("PAYOUT_COMMISSION_RATE", "0.12")

# The buyer tracking page (tracking/buyer/views.py).
TRACKING_PAGE_RATE_LIMIT = int(os.environ.get("TRACKING_PAGE_RATE_LIMIT", "120"))  # per minute
TRACKING_LOOKUP_RATE_LIMIT = int(os.environ.get("TRACKING_LOOKUP_RATE_LIMIT", "10"))  # per 15 min
# Hardening (issue 14, item 10): one order reference, whatever the caller's address.
TRACKING_LOOKUP_REFERENCE_RATE_LIMIT = int(
    os.environ.get("TRACKING_LOOKUP_REFERENCE_RATE_LIMIT", "10")
)  # per 15 min
# A page is cached per parcel state this long; an open page asks for news every POLL seconds.
TRACKING_PAGE_CACHE_SECONDS = int(os.environ.get("TRACKING_PAGE_CACHE_SECONDS", "300"))
TRACKING_PAGE_POLL_SECONDS = int(os.environ.get("TRACKING_PAGE_POLL_SECONDS", "60"))
# Proxies in front of the app, so the rate limiter sees the buyer's address, not the balancer's.
TRACKING_TRUSTED_PROXY_COUNT = int(os.environ.get("TRACKING_TRUSTED_PROXY_COUNT", "0"))

# Tracking rules that operators tune.
TRACKING_EXPIRE_AFTER_DAYS = int(os.environ.get("TRACKING_EXPIRE_AFTER_DAYS", "30"))
# Divides every sync interval: the demo (make run) sets 120 so that journeys move in minutes.
TRACKING_SYNC_INTERVAL_DIVISOR = int(os.environ.get("TRACKING_SYNC_INTERVAL_DIVISOR", "1"))
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# JSON lines in production (one object per record, for the log pipeline), text in development.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Seller portal: the marketplace's SLA targets (rates as fractions) and courier recommendations.
SELLER_SLA_TARGETS = {
    "valid_tracking_rate": float(os.environ.get("SLA_VALID_TRACKING_MIN", "0.95")),
    "on_time_delivery_rate": float(os.environ.get("SLA_ON_TIME_MIN", "0.97")),
    "late_shipment_rate": float(os.environ.get("SLA_LATE_SHIPMENT_MAX", "0.04")),
    "delivery_rate": float(os.environ.get("SLA_DELIVERY_RATE_MIN", "0.95")),
}
# Business days a seller has to hand an order to the courier (the order's expected ship date).
SELLER_HANDLING_DAYS = int(os.environ.get("SELLER_HANDLING_DAYS", "2"))
# Delivery performance protection (issue 21, README "SLA"): the marketplace's thresholds and
# which effects apply. An order is protected when every parcel was confirmed in time, scanned by
# the courier, named the right courier and was handed over by the expected ship date.
SELLER_PROTECTION = {
    # Tracking confirmed at most this long after the courier's first scan (or by the ship date).
    "confirm_within_hours": int(os.environ.get("PROTECTION_CONFIRM_WITHIN_HOURS", "24")),
    # Protected late parcels are the courier's lateness in the on-time rate the ranking uses.
    "on_time_excludes_protected": env_bool("PROTECTION_ON_TIME", True),
    # "Not received" claims on protected orders with courier POD go to the courier-claim queue.
    "claims_to_courier": env_bool("PROTECTION_CLAIMS_TO_COURIER", True),
}
# Below this many delivered parcels on a lane a courier is "not enough data", never ranked.
RECOMMENDATION_MIN_SAMPLE = int(os.environ.get("RECOMMENDATION_MIN_SAMPLE", "30"))
RECOMMENDATION_WINDOW_DAYS = int(os.environ.get("RECOMMENDATION_WINDOW_DAYS", "90"))
# CSV tracking uploads: larger files are refused before anything is read.
TRACKING_UPLOAD_MAX_BYTES = int(os.environ.get("TRACKING_UPLOAD_MAX_BYTES", str(5 * 1024 * 1024)))
TRACKING_UPLOAD_MAX_ROWS = int(os.environ.get("TRACKING_UPLOAD_MAX_ROWS", "20000"))
