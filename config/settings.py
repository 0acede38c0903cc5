"""Settings for the Ascend migration portal, read from the environment.

Every variable is listed with a one-line comment in ``.env.example``. With no
DATABASE_URL / CELERY_BROKER_URL the portal runs on embedded defaults (SQLite and a
file-system Celery transport); production sets both, plus SECRET_KEY.
"""

import base64 as _b64
import hashlib as _hashlib
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_fernet_keys, env_int, env_list, env_secret, env_step, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
DEBUG = env_bool("DEBUG", False)

# Commands that read only the code (`manage.py makemigrations --check` on a fresh checkout, in
# CI) run without the production secrets: they get random throw-away keys that sign and decrypt
# nothing anyone stored. Every other command, and the servers, still stop without them.
CODE_ONLY_COMMAND = Path(sys.argv[0]).name == "manage.py" and sys.argv[1:2] == ["makemigrations"]

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
if CODE_ONLY_COMMAND and not DEBUG and "SECRET_KEY" not in os.environ:
    SECRET_KEY = secrets.token_urlsafe(64)
elif DEBUG:
    SECRET_KEY = env_secret("SECRET_KEY", "insecure-development-key-only-used-with-DEBUG=true-0123456789")
else:
    SECRET_KEY = env_secret("SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long in production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "axes",
    "common",
    "engagements",
    "assessments",
    "tuning",
    "reports",
    "workers",
    "inbox",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "engagements.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
except ValueError as exc:
    raise ImproperlyConfigured(f"Unexpected value DATABASE_URL={DATABASE_URL!r}: {exc}") from None
if DATABASES["default"]["ENGINE"] not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
    raise ImproperlyConfigured("DATABASE_URL must be a postgres:// or sqlite:// URL.")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "engagements.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# django-axes: lock a username+IP pair out after repeated failed logins.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The password typed again at sign-off and quote decisions (``reports.reauth``): per user, this many
# wrong passwords within the window lock the re-check for the window (or until an admin unlocks).
REAUTH_MAX_FAILURES = env_int("REAUTH_MAX_FAILURES", 5, minimum=1)
REAUTH_WINDOW_SECONDS = env_int("REAUTH_WINDOW_SECONDS", 15 * 60, minimum=1)

# Internationalisation: Simplified Chinese first, English beside it.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
try:  # WhiteNoise warns on every request when STATIC_ROOT is missing (before collectstatic).
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
except OSError:
    pass
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Uploads: Django bounds memory, not file size; validators enforce these limits.
DELIVERABLE_MAX_BYTES = env_int("DELIVERABLE_MAX_BYTES", 50 * 1024 * 1024, minimum=1)
CURVE_LOG_MAX_BYTES = env_int("CURVE_LOG_MAX_BYTES", 100 * 1024 * 1024, minimum=1)
# Tuning evidence (tuning/): accuracy comparison CSVs and profiler tables can be large; a MindIE
# config.json and an ATC console output are small.
TUNING_TABLE_MAX_BYTES = env_int("TUNING_TABLE_MAX_BYTES", 512 * 1024 * 1024, minimum=1)
TUNING_TEXT_MAX_BYTES = env_int("TUNING_TEXT_MAX_BYTES", 2 * 1024 * 1024, minimum=1)
DELIVERABLE_EXTENSIONS = env_list(
    "DELIVERABLE_EXTENSIONS",
    ["pdf", "docx", "xlsx", "pptx", "md", "txt", "csv", "json", "yaml", "yml", "py", "sh", "log", "zip", "gz",
     "png", "jpg", "jpeg"],
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Work logs are kept in person-days; this is the step consultants log in. It must fit
# WorkLog.person_days (2 decimal places) and add up to exactly one day.
WORKLOG_STEP_DAYS = env_step("WORKLOG_STEP_DAYS", "0.5", places=2)

# Celery: JSON only, one message at a time, long visibility timeout (see ENGINEERING.md).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_queue_dir / "control"),
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 21600,
        "socket_keepalive": True,
        "health_check_interval": 30,
    }
else:
    raise ImproperlyConfigured("CELERY_BROKER_URL must be a redis:// URL or filesystem://.")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_TIME_LIMIT = 3600
CELERY_TASK_SOFT_TIME_LIMIT = 3300
CELERY_BROKER_POOL_ACQUIRE_TIMEOUT = 30
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ROUTES = {"workers.tasks.run_job": {"queue": "ssh"}, "reports.tasks.render_report": {"queue": "pdf"}}
CELERY_BEAT_SCHEDULE = {
    "reap-lost-jobs": {"task": "workers.tasks.reap_lost_jobs",
                       "schedule": float(env_int("JOB_REAPER_SECONDS", 60, minimum=1))},
    "expire-quotes": {"task": "reports.tasks.expire_quotes", "schedule": 3600.0},
    "fail-stale-renders": {"task": "reports.tasks.fail_stale_renders", "schedule": 60.0},
    "notify-immediately": {"task": "inbox.tasks.notify_immediately",
                           "schedule": float(env_int("NOTIFY_EVERY_SECONDS", 120, minimum=10))},
    "send-digests": {"task": "inbox.tasks.send_digests",
                     "schedule": crontab(hour=env_int("DIGEST_HOUR", 8, minimum=0, maximum=23), minute=0)},
}
# A report version still rendering after this long is marked failed (staff can render again).
REPORT_RENDER_TIMEOUT_SECONDS = env_int("REPORT_RENDER_TIMEOUT_SECONDS", 900, minimum=30)

# Jobs on hosts: a worker renews a job's lease while it supervises it; an expired lease
# means the worker is gone and the reaper re-attaches or ends the job as lost.
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 30, minimum=5)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 5, minimum=1)
JOB_REQUEUE_AFTER_SECONDS = env_int("JOB_REQUEUE_AFTER_SECONDS", 300, minimum=1)

# Host secrets are encrypted with these Fernet keys, newest first (rotate_secrets re-encrypts).
FERNET_KEYS = env_fernet_keys("FERNET_KEYS")
if not FERNET_KEYS and CODE_ONLY_COMMAND:
    FERNET_KEYS = [_b64.urlsafe_b64encode(secrets.token_bytes(32)).decode()]
if not FERNET_KEYS and not DEBUG:
    raise ImproperlyConfigured("FERNET_KEYS is required in production: the keys that encrypt host secrets "
                               "(python -c 'from cryptography.fernet import Fernet; "
                               "print(Fernet.generate_key().decode())').")
if not FERNET_KEYS and DEBUG:
    FERNET_KEYS = [_b64.urlsafe_b64encode(_hashlib.sha256(SECRET_KEY.encode()).digest()).decode()]

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "portal@localhost")
# Where users reach the portal, for the links in e-mails.
PORTAL_URL = env_str("PORTAL_URL", "http://127.0.0.1:8000").rstrip("/")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.api_errors.handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ascend migration portal API",
    "DESCRIPTION": "Engagements, stages, checklists, work logs and risks of GPU-to-Ascend migrations.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "EngagementStatusEnum": "engagements.models.Engagement.Status",
        "StageStatusEnum": "engagements.models.Stage.Status",
        "RiskStatusEnum": "engagements.models.Risk.Status",
        "RiskLevelEnum": "engagements.models.Risk.Level",
        "TuningSourceEnum": "tuning.models.Source",
        "JobStatusEnum": "workers.models.Job.Status",
        "JobFailureReasonEnum": "workers.models.Job.Failure",
    },
}

# Content Security Policy (django-csp 4): everything is vendored, scripts carry a nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Production hardening (manage.py check --deploy passes with DEBUG=false).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
if env_bool("BEHIND_TLS_PROXY", not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
