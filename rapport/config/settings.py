"""Rapport settings: one file, every value read from the environment (see README, "Configuration")."""

import re
import secrets
import zoneinfo
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from rapport.common.env import env, envbool, envint, envlist

PACKAGE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env("RAPPORT_VAR_DIR", "var") or "var").resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    configured = env("RAPPORT_SECRET_KEY")
    if configured:
        return configured
    # A generated key keeps sessions valid across restarts of one installation without any set-up step.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = envbool("RAPPORT_DEBUG", False)
BASE_URL = (env("RAPPORT_BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/")
if not BASE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"RAPPORT_BASE_URL must start with http:// or https://, not {BASE_URL!r}")
ALLOWED_HOSTS = envlist("RAPPORT_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("RAPPORT_CSRF_TRUSTED_ORIGINS", [BASE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "rapport.common",
    "rapport.accounts",
    "rapport.timeline",
    "rapport.candidates",
    "rapport.jobs",
    "rapport.pipeline",
    "rapport.search",
    "rapport.messaging",
    "rapport.notifications",
    "rapport.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "rapport.common.middleware.RejectNulBytesMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "rapport.common.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "rapport.config.urls"
WSGI_APPLICATION = "rapport.config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rapport.common.context_processors.workspace",
            ],
        },
    }
]

DATABASE_URL = env("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'rapport.sqlite3'}"
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=envint("RAPPORT_DB_CONN_MAX_AGE", 60))
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL Rapport understands: {exc}")
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; IMMEDIATE transactions plus a busy timeout
    # make writers queue instead of failing with "database is locked".
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    _db["CONN_MAX_AGE"] = 0
elif _db["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must be a sqlite:// or postgres:// URL")
# Lets parallel test runs on one PostgreSQL server use separate test databases.
if env("RAPPORT_TEST_DB_NAME") and _db["ENGINE"] == "django.db.backends.postgresql":
    _db["TEST"] = {"NAME": env("RAPPORT_TEST_DB_NAME")}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = BASE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Uploads: refuse anything larger before it reaches our validators.
RAPPORT_MAX_UPLOAD_MB = envint("RAPPORT_MAX_UPLOAD_MB", 10)
RAPPORT_MAX_IMPORT_MB = envint("RAPPORT_MAX_IMPORT_MB", 50)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10000

RAPPORT_ORG_NAME = env("RAPPORT_ORG_NAME", "Rapport Demo Co.")
RAPPORT_DEFAULT_PHONE_REGION = env("RAPPORT_DEFAULT_PHONE_REGION", "US")

# Branding of outgoing email and the company.* merge fields of message templates.
RAPPORT_BRAND_COLOUR = (env("RAPPORT_BRAND_COLOUR") or "#5b5bd6").strip()
if not re.fullmatch(r"#[0-9a-fA-F]{6}", RAPPORT_BRAND_COLOUR):
    # It is written into the email's CSS, so anything but a plain colour is refused.
    raise ImproperlyConfigured(f"RAPPORT_BRAND_COLOUR must be a colour like #5b5bd6, not {RAPPORT_BRAND_COLOUR!r}")
RAPPORT_LOGO_URL = (env("RAPPORT_LOGO_URL") or "").strip()
if RAPPORT_LOGO_URL and not RAPPORT_LOGO_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"RAPPORT_LOGO_URL must start with https://, not {RAPPORT_LOGO_URL!r}")
RAPPORT_COMPANY_WEBSITE = (env("RAPPORT_COMPANY_WEBSITE") or BASE_URL).strip()
RAPPORT_COMPANY_ADDRESS = (env("RAPPORT_COMPANY_ADDRESS") or "").strip()
# "\n" in the variable starts a new line, so a multi-line signature fits in one environment value.
RAPPORT_EMAIL_SIGNATURE = (env("RAPPORT_EMAIL_SIGNATURE") or "").replace("\\n", "\n").strip()


def _email_settings(url: str) -> dict[str, object]:
    """Django's email settings from EMAIL_URL; anything unexpected stops start-up with a message naming it."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme not in ("smtp", "smtps", "smtp+tls"):
        raise ImproperlyConfigured(
            f"EMAIL_URL must start with smtp://, smtp+tls://, smtps:// or console://, not {url.split('://')[0]!r}"
        )
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL needs a host, as in smtp://user:password@mail.example.org:587")
    try:
        port = parts.port or {"smtp": 25, "smtp+tls": 587, "smtps": 465}[scheme]
    except ValueError:
        raise ImproperlyConfigured("EMAIL_URL has a port that is not a number from 1 to 65535")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"timeout"}
    if unknown:
        raise ImproperlyConfigured(f"EMAIL_URL has unknown options: {', '.join(sorted(unknown))} (only timeout)")
    timeout = query.get("timeout", ["10"])[-1]
    if not timeout.isdigit() or int(timeout) < 1:
        raise ImproperlyConfigured(f"EMAIL_URL's timeout must be a whole number of seconds, not {timeout!r}")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        # smtps:// is TLS from the first byte (port 465); smtp+tls:// upgrades with STARTTLS (port 587).
        "EMAIL_USE_SSL": scheme == "smtps",
        "EMAIL_USE_TLS": scheme == "smtp+tls",
        # A stalled server must not hold the worker: the message is retried later instead.
        "EMAIL_TIMEOUT": int(timeout),
    }


# Outgoing email. The default prints each message to the log, so a fresh installation never mails anyone.
EMAIL_URL = (env("EMAIL_URL") or "console://").strip()
_email = _email_settings(EMAIL_URL)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = _email.get("EMAIL_TIMEOUT", 10)
# The address every message is sent from; each user's from-name goes in front of it and replies go to them.
RAPPORT_EMAIL_FROM = (env("RAPPORT_EMAIL_FROM") or f"noreply@{urlsplit(BASE_URL).hostname or 'localhost'}").strip()
if not re.fullmatch(r"[^@\s<>\"]+@[^@\s<>\"]+", RAPPORT_EMAIL_FROM):
    raise ImproperlyConfigured(
        f"RAPPORT_EMAIL_FROM must be a plain address like noreply@example.org, not {RAPPORT_EMAIL_FROM!r}"
    )
DEFAULT_FROM_EMAIL = RAPPORT_EMAIL_FROM
SERVER_EMAIL = RAPPORT_EMAIL_FROM


def _quiet_hours(value: str) -> tuple[int, int] | None:
    """`21-8` or `21:30-7:45` as minutes after midnight (start, end); `off` turns quiet hours off."""
    if value.lower() in ("off", "none", "0"):
        return None
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?-(\d{1,2})(?::(\d{2}))?", value)
    if match:
        start = int(match[1]) * 60 + int(match[2] or 0)
        end = int(match[3]) * 60 + int(match[4] or 0)
        if start != end and max(start, end) < 24 * 60 and int(match[2] or 0) < 60 and int(match[4] or 0) < 60:
            return start, end
    raise ImproperlyConfigured(f"RAPPORT_QUIET_HOURS must look like 21-8 or 21:30-7:45, or be off, not {value!r}")


# Respecting the person at send time: no bulk or automated messages in their local night (deferred, not dropped),
# and at most RAPPORT_FREQUENCY_CAP of them per person per rolling 7 days (0 means no cap).
RAPPORT_QUIET_HOURS = _quiet_hours((env("RAPPORT_QUIET_HOURS") or "21-8").strip())
RAPPORT_FREQUENCY_CAP = envint("RAPPORT_FREQUENCY_CAP", 3)
if RAPPORT_FREQUENCY_CAP < 0:
    raise ImproperlyConfigured("RAPPORT_FREQUENCY_CAP must be 0 (no cap) or more")
# The time zone of people whose own is unknown, for quiet hours.
RAPPORT_DEFAULT_TIMEZONE = (env("RAPPORT_DEFAULT_TIMEZONE") or "UTC").strip()
try:
    zoneinfo.ZoneInfo(RAPPORT_DEFAULT_TIMEZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"RAPPORT_DEFAULT_TIMEZONE must be a time zone name like Europe/Paris, not {RAPPORT_DEFAULT_TIMEZONE!r}"
    ) from None
# Counters every web worker must share (API rate limits, sign-in throttling): in Redis when there is one, else in
# files under var/, which all the processes of one machine see (an in-process cache would let each worker count
# alone, multiplying every limit by the number of workers).
REDIS_URL = (env("REDIS_URL") or "").strip()
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL must start with redis://, rediss:// or unix://, not {REDIS_URL!r}")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "rapport",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
# API requests per minute per token (per address when unauthenticated); 0 turns the limit off.
RAPPORT_API_RATE_LIMIT = envint("RAPPORT_API_RATE_LIMIT", 600)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("RAPPORT_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
