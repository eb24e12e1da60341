"""Settings for nhigov, read from the environment (twelve-factor).

Every value has a safe default for the embedded mode (`make demo`, tests without env): SQLite,
Celery tasks run in-process, console email. Production (``DEBUG`` off) refuses to start without
``SECRET_KEY`` and ``ALLOWED_HOSTS``. Helpers fail loudly on malformed values instead of guessing.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
_env_file = BASE_DIR / ".env"
if _env_file.exists():  # optional, never committed
    environ.Env.read_env(str(_env_file))

DEBUG = env.bool("DEBUG", default=False)
TESTING = env.bool("NHIGOV_TESTING", default=False)

_INSECURE_DEV_KEY = "django-insecure-nhigov-development-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = _INSECURE_DEV_KEY
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. Set SECRET_KEY (or DEBUG=true for local "
            "development)."
        )
elif not DEBUG and SECRET_KEY == _INSECURE_DEV_KEY:
    raise ImproperlyConfigured(
        "Refusing to run with the development SECRET_KEY while DEBUG is off."
    )

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG or TESTING else []
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "django_celery_beat",
    "nhigov",
    "inventory",
    "reviews",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "nhigov.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "nhigov.urls"
WSGI_APPLICATION = "nhigov.wsgi.application"
AUTH_USER_MODEL = "nhigov.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inventory:identity-list"
LOGOUT_REDIRECT_URL = "login"

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
                "reviews.context_processors.pending_reviews",
            ],
        },
    }
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while a discovery writes; the timeout rides out short locks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery -----------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# The suite runs tasks in-process too; the one real-worker test switches this off itself.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL or TESTING
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="nhigov")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=3600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=3300)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# How often beat looks for sources whose discovery schedule is due.
NHIGOV_DISCOVERY_TICK_SECONDS = env.int("NHIGOV_DISCOVERY_TICK_SECONDS", default=300)
# How often the risk engine re-evaluates every identity (time-based rules, expired suppressions).
NHIGOV_RISK_PASS_SECONDS = env.int("NHIGOV_RISK_PASS_SECONDS", default=6 * 3600)
# A full pass is split into this many id-range slices, one Celery task each (set it to the
# number of worker processes that may run them at once); small estates use one slice.
NHIGOV_RISK_SLICES = env.int("NHIGOV_RISK_SLICES", default=2)
# How often the audit chain is recomputed end to end (an e-mail to security admins if broken).
NHIGOV_AUDIT_VERIFY_SECONDS = env.int("NHIGOV_AUDIT_VERIFY_SECONDS", default=86400)
# An Ed25519 private key (PEM) kept outside the database, e.g. a mounted secret: when set, every
# evidence manifest (campaign bundles, inventory snapshots) is signed with it, chain head included.
NHIGOV_EVIDENCE_SIGNING_KEY_FILE = env.str("NHIGOV_EVIDENCE_SIGNING_KEY_FILE", default="")
# How often the dashboard's snapshot of the key counts is refreshed (one row kept per day).
NHIGOV_SNAPSHOT_SECONDS = env.int("NHIGOV_SNAPSHOT_SECONDS", default=6 * 3600)

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading commits a whole domain to HTTPS in browsers for months: the operator's call.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container health checks speak plain HTTP
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Failed logins per username and per client address before a temporary lock-out.
NHIGOV_LOGIN_MAX_FAILURES = env.int("NHIGOV_LOGIN_MAX_FAILURES", default=5)
NHIGOV_LOGIN_LOCKOUT_SECONDS = env.int("NHIGOV_LOGIN_LOCKOUT_SECONDS", default=900)

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL and not TESTING
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Email ------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="nhigov@localhost")

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["nhigov.permissions.ApiRolePermission"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "nhigov.pagination.ViewOrderedCursorPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"user": "6000/hour"},
}
INSTALLED_APPS.append("rest_framework.authtoken")
SPECTACULAR_SETTINGS = {
    "TITLE": "nhigov API",
    "DESCRIPTION": "Inventory and governance of non-human identities.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- AWS discovery ----------------------------------------------------------------------------
# Credentials come from boto3's default chain only; AWS_ENDPOINT_URL (boto3's own setting) points
# every client at an AWS-compatible endpoint such as the local emulator.
NHIGOV_AWS_RETRY_MODE = env.str("NHIGOV_AWS_RETRY_MODE", default="adaptive")
if NHIGOV_AWS_RETRY_MODE not in {"adaptive", "standard", "legacy"}:
    raise ImproperlyConfigured("NHIGOV_AWS_RETRY_MODE must be adaptive, standard or legacy.")
NHIGOV_AWS_MAX_ATTEMPTS = env.int("NHIGOV_AWS_MAX_ATTEMPTS", default=10)
NHIGOV_AWS_DEFAULT_REGION = env.str("NHIGOV_AWS_DEFAULT_REGION", default="us-east-1")
NHIGOV_AWS_DEFAULT_ROLE_NAME = env.str(
    "NHIGOV_AWS_DEFAULT_ROLE_NAME", default="OrganizationAccountAccessRole"
)
NHIGOV_CREDENTIAL_REPORT_TIMEOUT_SECONDS = env.int(
    "NHIGOV_CREDENTIAL_REPORT_TIMEOUT_SECONDS", default=300
)
# A run still marked running after this long is considered dead and its lock is released.
NHIGOV_DISCOVERY_LOCK_TIMEOUT = timedelta(
    seconds=env.int("NHIGOV_DISCOVERY_LOCK_TIMEOUT_SECONDS", default=6 * 3600)
)

# --- Ownership --------------------------------------------------------------------------------
# Tag keys read for the owner, in priority order. Keys in NHIGOV_TEAM_TAG_KEYS name a team.
NHIGOV_OWNER_TAG_KEYS: list[str] = env.list(
    "NHIGOV_OWNER_TAG_KEYS",
    default=[
        "owner",
        "Owner",
        "OWNER",
        "owner-email",
        "contact",
        "Contact",
        "team",
        "Team",
        "created-by",
        "CreatedBy",
        "creator",
    ],
)
NHIGOV_TEAM_TAG_KEYS: list[str] = env.list("NHIGOV_TEAM_TAG_KEYS", default=["team", "Team"])
NHIGOV_CREATOR_TAG_KEYS: list[str] = env.list(
    "NHIGOV_CREATOR_TAG_KEYS", default=["created-by", "CreatedBy", "creator"]
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "werkzeug": {"level": "WARNING"},
    },
}

# --- Flags ------------------------------------------------------------------------------------
# A machine identity not used for this many days (or never used and this old) is stale.
NHIGOV_STALE_DAYS = env.int("NHIGOV_STALE_DAYS", default=90)

# --- Access reviews ---------------------------------------------------------------------------
_REVIEW_TIERS = ("critical", "high", "medium", "low")


def _review_cadence(raw: str) -> dict[str, int]:
    """``90`` (every tier quarterly) or ``critical=30,high=90,medium=180,low=180``."""
    raw = raw.strip()
    if raw.isdigit():
        days = {tier: int(raw) for tier in _REVIEW_TIERS}
    else:
        days = {}
        for part in filter(None, (p.strip() for p in raw.split(","))):
            tier, _, value = part.partition("=")
            if tier.strip() not in _REVIEW_TIERS or not value.strip().isdigit():
                raise ImproperlyConfigured(
                    f"NHIGOV_REVIEW_CADENCE_DAYS: {part!r} is not TIER=DAYS with a tier among "
                    f"{', '.join(_REVIEW_TIERS)}."
                )
            days[tier.strip()] = int(value)
        missing = [t for t in _REVIEW_TIERS if t not in days]
        if missing:
            raise ImproperlyConfigured(
                f"NHIGOV_REVIEW_CADENCE_DAYS must give every tier; missing {', '.join(missing)}."
            )
    if not all(7 <= d <= 366 for d in days.values()):
        raise ImproperlyConfigured("NHIGOV_REVIEW_CADENCE_DAYS: each cadence is 7-366 days.")
    return days


def _positive_days(name: str, default: str) -> list[int]:
    values = env.list(name, default=default.split(","))
    try:
        days = sorted({int(v) for v in values}, reverse=True)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be whole numbers of days, e.g. 7,3,1.") from None
    if any(d < 1 for d in days):
        raise ImproperlyConfigured(f"{name}: every value must be at least 1 day.")
    return days


# How often each risk tier is reviewed by the scheduled campaigns (quarterly by default;
# inventory.risk.tiers.REVIEW_CADENCE_DAYS is the risk-based alternative).
NHIGOV_REVIEW_CADENCE_DAYS = _review_cadence(env.str("NHIGOV_REVIEW_CADENCE_DAYS", default="90"))
NHIGOV_REVIEW_DUE_DAYS = env.int("NHIGOV_REVIEW_DUE_DAYS", default=14)
# Days after the deadline before the no-response policy applies (escalation happens in them).
NHIGOV_REVIEW_GRACE_DAYS = env.int("NHIGOV_REVIEW_GRACE_DAYS", default=7)
NHIGOV_REVIEW_REMINDER_DAYS = _positive_days("NHIGOV_REVIEW_REMINDER_DAYS", "7,3,1")
# Overdue this many days: to the team manager; twice as many: to security.
NHIGOV_REVIEW_ESCALATE_AFTER_DAYS = env.int("NHIGOV_REVIEW_ESCALATE_AFTER_DAYS", default=2)
NHIGOV_REVIEW_NO_RESPONSE_POLICY = env.str(
    "NHIGOV_REVIEW_NO_RESPONSE_POLICY", default="recommendation"
)
if NHIGOV_REVIEW_NO_RESPONSE_POLICY not in {"keep", "deprovision", "recommendation"}:
    raise ImproperlyConfigured(
        "NHIGOV_REVIEW_NO_RESPONSE_POLICY must be keep, deprovision or recommendation."
    )
NHIGOV_REVIEW_JUSTIFICATION_MIN_CHARS = env.int("NHIGOV_REVIEW_JUSTIFICATION_MIN_CHARS", default=10)
# An owner keeping an identity they use themselves: a reason this long, or a second reviewer.
NHIGOV_REVIEW_SELF_REVIEW_MIN_CHARS = env.int("NHIGOV_REVIEW_SELF_REVIEW_MIN_CHARS", default=40)
NHIGOV_REVIEW_BULK_KEEP_MAX_IDLE_DAYS = env.int("NHIGOV_REVIEW_BULK_KEEP_MAX_IDLE_DAYS", default=30)
NHIGOV_REVIEW_EVENT_DUE_DAYS = env.int("NHIGOV_REVIEW_EVENT_DUE_DAYS", default=7)
NHIGOV_REVIEW_EVENT_TRIGGERS = env.bool("NHIGOV_REVIEW_EVENT_TRIGGERS", default=True)
NHIGOV_REVIEW_REMEDIATION_DAYS = env.int("NHIGOV_REVIEW_REMEDIATION_DAYS", default=14)
NHIGOV_REVIEW_TICK_SECONDS = env.int("NHIGOV_REVIEW_TICK_SECONDS", default=3600)
# Absolute links in e-mails.
NHIGOV_BASE_URL = env.str("NHIGOV_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
for _name in ("NHIGOV_REVIEW_DUE_DAYS", "NHIGOV_REVIEW_ESCALATE_AFTER_DAYS"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1.")

if TESTING:
    # Fast hashing for the suite only; production keeps Django's default (PBKDF2).
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
