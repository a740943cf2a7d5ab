"""Settings come from the environment; every default is the safe production choice.

Local development sets DEBUG=1 (scripts/run.sh does); production leaves it unset.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "provisionmap.admin_config.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "schools",
    "pupils",
    "graduated_response",
    "interventions",
    "reports",
    "dashboards",
    "provisionmap",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "provisionmap.middleware.SecurityHeadersMiddleware",
    "provisionmap.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Opens the request's transaction and switches to the app database role before
    # anything (sessions, users, memberships) touches the database.
    "schools.middleware.AppDatabaseRoleMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "schools.middleware.ApiTokenMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "schools.middleware.SessionTimeoutMiddleware",
    "schools.middleware.TwoFactorRequiredMiddleware",
    # Sets the tenant scope (ORM scoping and the row-level-security settings) from the
    # active membership, inside the transaction opened above.
    "schools.middleware.TenantScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "provisionmap.urls"
# Messages live in the session, never in a cookie, so none can carry pupil details out.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
WSGI_APPLICATION = "provisionmap.wsgi.application"
ASGI_APPLICATION = "provisionmap.asgi.application"

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
                "schools.context_processors.navigation",
            ],
        },
    },
]

# PostgreSQL is the only database. DATABASE_URL names the login that owns the schema
# (migrations run as it); requests and tasks switch to DATABASE_APP_ROLE inside their
# transaction, a role that owns nothing and cannot bypass row-level security.
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://provisionmap@127.0.0.1:5432/provisionmap")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL.")
DATABASE_APP_ROLE = os.environ.get("DATABASE_APP_ROLE", "provisionmap_app")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "schools.User"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "pm",
    }
}

# --- Sign-in -------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",  # argon2id
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Common words, names, seasons, teams, the council's or school's name, with digits and
    # symbols added: the shapes leaked-password lists are full of.
    {"NAME": "schools.passwords.BreachedPatternValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout: at most LOGIN_MAX_FAILURES wrong guesses per account in LOGIN_FAILURE_WINDOW
# seconds; one password tried against LOGIN_SPRAY_ACCOUNTS accounts is blocked too.
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
LOGIN_FAILURE_WINDOW = int(os.environ.get("LOGIN_FAILURE_WINDOW", "300"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", "900"))
LOGIN_SPRAY_ACCOUNTS = int(os.environ.get("LOGIN_SPRAY_ACCOUNTS", "5"))
LOGIN_MAX_FAILURES_PER_IP = int(os.environ.get("LOGIN_MAX_FAILURES_PER_IP", "30"))
OTP_MAX_FAILURES = 5
# The admin never shows a device's secret or its QR code: nobody may copy another's factor.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
OTP_TOTP_ISSUER = "Provision Map"

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_ABSOLUTE_SECONDS", str(8 * 3600)))
SESSION_IDLE_SECONDS = int(os.environ.get("SESSION_IDLE_SECONDS", str(30 * 60)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
API_TOKEN_SECONDS = int(os.environ.get("API_TOKEN_SECONDS", str(30 * 24 * 3600)))

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Provision Map <no-reply@localhost>")

# --- Transport security and headers ----------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = 0 if DEBUG else 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# No inline script or style anywhere, so the policy needs no nonce.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)

# --- Static files -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / ".run" / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / ".run" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Pupil imports ------------------------------------------------------------------------
# The largest CSV or XLSX file a school may upload (browser, API or import_pupils). A whole
# school's MIS export is a few hundred KB; the cap keeps a hostile upload off the parser.
PUPIL_IMPORT_MAX_BYTES = int(os.environ.get("PUPIL_IMPORT_MAX_BYTES", str(5 * 1024 * 1024)))
# Any request body over this is refused before it is read: the largest upload plus room
# for the multipart wrapping and form fields.
MAX_REQUEST_BYTES = PUPIL_IMPORT_MAX_BYTES + 1024 * 1024

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- API ---------------------------------------------------------------------------------
# Reports one membership may ask for in an hour, in the browser and the API together
# (reports/services.py); the schedule's own requests are not counted.
REPORT_REQUESTS_PER_HOUR = max(1, int(os.environ.get("REPORT_REQUESTS_PER_HOUR", "30")))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "schools.api_auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["schools.api_auth.HasActiveMembership"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": os.environ.get("API_USER_RATE", "600/minute"), "token": "20/minute"},
    "EXCEPTION_HANDLER": "schools.api_errors.exception_handler",
    # How many proxies in front of the app add to X-Forwarded-For; 0 trusts only the socket.
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Provision Map API",
    "DESCRIPTION": "Scoped to the caller's active membership; send X-Membership-Id to choose one.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # The error answers every operation shares (401, 403, 404, 429…), added to each one.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "schools.api_errors.document_error_responses",
    ],
    # One name per census code list, however many fields use it.
    "ENUM_NAME_OVERRIDES": {
        "NeedEnum": "pupils.codes.Need",
        "SenStatusEnum": "pupils.codes.SenStatus",
        "PlacementKindEnum": "graduated_response.models.StepPlacement.Kind",
        "PlanKindEnum": "graduated_response.models.SupportPlan.Kind",
        "ReportKindEnum": "reports.models.ReportKind",
        "ReportScopeTypeEnum": "reports.models.ScopeType",
        "ReportStatusEnum": "reports.models.ReportRequest.Status",
    },
}

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
# A task runs for at most CELERY_TASK_TIME_LIMIT; the broker redelivers only after a
# longer visibility timeout, so a long task is never handed to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Report builds: stopped softly, then hard; a build's lease on its request outlasts the hard
# limit, and the broker's visibility timeout (above) outlasts both, so none runs twice.
REPORT_SOFT_TIME_LIMIT = int(os.environ.get("REPORT_SOFT_TIME_LIMIT", "240"))
REPORT_TIME_LIMIT = int(os.environ.get("REPORT_TIME_LIMIT", "300"))
CELERY_BEAT_SCHEDULE: dict = {
    # Requests whose message was lost or whose worker died go back on the queue.
    "sweep-reports": {"task": "reports.sweep_reports", "schedule": 300.0},
    # Termly, annual and quarterly reports, asked for the morning after a period ends
    # (reports/schedule.py reads each LA's term dates).
    "schedule-reports": {"task": "reports.schedule_reports", "schedule": crontab(hour=5, minute=30)},
    # Records past their LA's retention date go, unless on roll or on legal hold (pupils/retention.py).
    "apply-retention": {"task": "pupils.apply_retention", "schedule": crontab(hour=2, minute=15)},
}

# --- Logging: no pupil data in logs ------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "scrub": {"()": "provisionmap.logging.ScrubSensitiveFilter"},
        # An exception is logged as its type and where it was raised, never its message,
        # traceback text or locals, which may quote a pupil (SECURITY.md 13).
        "exception_type_only": {"()": "provisionmap.logging.ExceptionTypeOnlyFilter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["scrub", "exception_type_only"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {
            "handlers": ["console"],
            "level": "WARNING",
            "propagate": False,
            "filters": ["exception_type_only"],
        },
        # A worker swaps the root handlers for Celery's own, so its error records are
        # filtered where they are logged: task failures and retries, and lost pool processes.
        "celery.app.trace": {"filters": ["exception_type_only"]},
        "celery.worker.request": {"filters": ["exception_type_only"]},
        "django.db.backends": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # The development server's request lines, query strings scrubbed like every other.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # WeasyPrint narrates every step of every PDF at INFO; only its warnings matter here.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
DEFAULT_EXCEPTION_REPORTER_FILTER = "provisionmap.logging.PupilDataExceptionReporterFilter"
ADMINS: list = []

# In development and tests a tenant query without a scope raises; in production it is
# logged and answers nothing (row-level security would return nothing anyway).
TENANT_STRICT = env_bool("TENANT_STRICT", DEBUG)
