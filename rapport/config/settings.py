"""Rapport settings: one file, every value read from the environment (see README, "Configuration")."""

import base64
import re
import secrets
import zoneinfo
from pathlib import Path
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

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
    "rapport.privacy",
    "rapport.careers",
    "rapport.portal",
    "rapport.automation",
    "rapport.surveys",
    "rapport.faq",
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

# Career site (/careers/): the welcome text above the job list, and how many applications and sign-ups one
# address may send in ten minutes (0 turns the limit off).
RAPPORT_CAREERS_INTRO = (env("RAPPORT_CAREERS_INTRO") or "").replace("\\n", "\n").strip()
RAPPORT_CAREERS_RATE_LIMIT = envint("RAPPORT_CAREERS_RATE_LIMIT", 5)
if RAPPORT_CAREERS_RATE_LIMIT < 0:
    raise ImproperlyConfigured(f"RAPPORT_CAREERS_RATE_LIMIT must be 0 or more, not {RAPPORT_CAREERS_RATE_LIMIT}")
# The privacy notice people agree to when they apply or join: how long their data is kept, and the notice itself
# (a link to the full text, and a short summary shown beside the consent box).
RAPPORT_PRIVACY_RETENTION_DAYS = envint("RAPPORT_PRIVACY_RETENTION_DAYS", 730)
if not 1 <= RAPPORT_PRIVACY_RETENTION_DAYS <= 3650:
    raise ImproperlyConfigured(
        f"RAPPORT_PRIVACY_RETENTION_DAYS must be a whole number of days from 1 to 3650, "
        f"not {RAPPORT_PRIVACY_RETENTION_DAYS}"
    )
RAPPORT_PRIVACY_NOTICE_URL = (env("RAPPORT_PRIVACY_NOTICE_URL") or "").strip()
if RAPPORT_PRIVACY_NOTICE_URL and not RAPPORT_PRIVACY_NOTICE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        f"RAPPORT_PRIVACY_NOTICE_URL must start with https://, not {RAPPORT_PRIVACY_NOTICE_URL!r}"
    )
RAPPORT_PRIVACY_NOTICE = (env("RAPPORT_PRIVACY_NOTICE") or "").replace("\\n", "\n").strip()
# Recorded with each consent, so what a person agreed to can be shown again; change it when the notice changes.
RAPPORT_PRIVACY_NOTICE_VERSION = (env("RAPPORT_PRIVACY_NOTICE_VERSION") or "1").strip()[:40]


# Email providers sent to through django-anymail: EMAIL_URL scheme -> (anymail backend module, or the dotted path of
# our own backend built on anymail's, API URL setting).
EMAIL_PROVIDERS = {
    "mailgun": ("mailgun", "MAILGUN_API_URL"),
    "postmark": ("postmark", "POSTMARK_API_URL"),
    "sendgrid": ("sendgrid", "SENDGRID_API_URL"),
    "amazonses": ("amazon_ses", None),
    "brevo": ("brevo", "BREVO_API_URL"),
    "mailjet": ("mailjet", "MAILJET_API_URL"),
    "resend": ("resend", "RESEND_API_URL"),
    "postal": ("rapport.messaging.channels.email.postal.EmailBackend", "POSTAL_API_URL"),
}
MAILGUN_REGIONS = {"us": "https://api.mailgun.net/v3/", "eu": "https://api.eu.mailgun.net/v3/"}


def _provider_email_settings(scheme: str, parts: SplitResult) -> dict[str, object]:
    """Anymail's backend and ANYMAIL settings for `mailgun://KEY@domain` and its siblings."""
    module, api_url_setting = EMAIL_PROVIDERS[scheme]
    query = parse_qs(parts.query, keep_blank_values=True)
    allowed = {"api_url", "timeout", "region"} if scheme in ("mailgun", "amazonses") else {"api_url", "timeout"}
    unknown = set(query) - allowed
    if unknown:
        raise ImproperlyConfigured(
            f"EMAIL_URL has unknown options for {scheme}: {', '.join(sorted(unknown))} (only {', '.join(sorted(allowed))})"
        )
    option = {name: values[-1].strip() for name, values in query.items()}
    key = unquote(parts.username or "")
    secret = unquote(parts.password or "")
    anymail: dict[str, object] = {}
    if scheme == "amazonses":
        # boto3 finds the credentials itself (environment, ~/.aws, instance role), as every AWS tool does.
        try:
            import boto3  # noqa: F401
        except ImportError:
            raise ImproperlyConfigured("EMAIL_URL amazonses:// needs boto3: install it with pip install boto3")
        client: dict[str, str] = {}
        if option.get("region"):
            client["region_name"] = option["region"]
        if option.get("api_url"):
            client["endpoint_url"] = option["api_url"]
        anymail["AMAZON_SES_CLIENT_PARAMS"] = client
    else:
        if not key:
            raise ImproperlyConfigured(
                f"EMAIL_URL needs the {scheme} API key before the @, as in {scheme}://API_KEY@"
                + {"mailgun": "mg.example.org", "postal": "postal.example.org"}.get(scheme, "")
            )
        if scheme == "mailjet":
            if not secret:
                raise ImproperlyConfigured("EMAIL_URL needs Mailjet's key and secret, as in mailjet://KEY:SECRET@")
            anymail.update(MAILJET_API_KEY=key, MAILJET_SECRET_KEY=secret)
        elif scheme == "postmark":
            anymail["POSTMARK_SERVER_TOKEN"] = key
        else:
            anymail[f"{scheme.upper()}_API_KEY"] = key
        if scheme == "mailgun":
            if parts.hostname:
                anymail["MAILGUN_SENDER_DOMAIN"] = parts.hostname
            region = option.get("region", "us").lower()
            if region not in MAILGUN_REGIONS:
                raise ImproperlyConfigured(f"EMAIL_URL's Mailgun region must be us or eu, not {region!r}")
            anymail["MAILGUN_API_URL"] = MAILGUN_REGIONS[region]
        if scheme == "postal":
            anymail["POSTAL_API_URL"] = _postal_api_url(parts)
        if option.get("api_url"):
            anymail[api_url_setting] = option["api_url"]
    if option.get("api_url") is not None and not option["api_url"].startswith(("https://", "http://")):
        raise ImproperlyConfigured(f"EMAIL_URL's api_url must start with https://, not {option['api_url']!r}")
    timeout = option.get("timeout", "10")
    if not timeout.isdigit() or int(timeout) < 1:
        raise ImproperlyConfigured(f"EMAIL_URL's timeout must be a whole number of seconds, not {timeout!r}")
    # A provider that stalls must not hold the worker, as with SMTP: the message is retried later instead.
    anymail["REQUESTS_TIMEOUT"] = int(timeout)
    backend = module if "." in module else f"anymail.backends.{module}.EmailBackend"
    return {"EMAIL_BACKEND": backend, "ANYMAIL": anymail}


def _postal_api_url(parts: SplitResult) -> str:
    """Postal is self-hosted, so its API is on the host the URL names: https://<host>[:port]/."""
    if not parts.hostname:
        raise ImproperlyConfigured(
            "EMAIL_URL needs the Postal server after the @, as in postal://API_KEY@postal.example.org"
        )
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured("EMAIL_URL has a port that is not a number from 1 to 65535")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"https://{host}{f':{port}' if port else ''}/"


def _email_settings(url: str) -> dict[str, object]:
    """Django's email settings from EMAIL_URL; anything unexpected stops start-up with a message naming it."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme in EMAIL_PROVIDERS:
        return _provider_email_settings(scheme, parts)
    if scheme not in ("smtp", "smtps", "smtp+tls"):
        raise ImproperlyConfigured(
            "EMAIL_URL must start with smtp://, smtp+tls://, smtps://, console:// or an email provider ("
            + ", ".join(f"{name}://" for name in EMAIL_PROVIDERS)
            + f"), not {url.split('://')[0]!r}"
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


def _webhook_settings() -> dict[str, object]:
    """The secrets that prove a provider's tracking or inbound webhook really comes from the provider."""
    found: dict[str, object] = {}
    # HTTP basic auth in the webhook URL we give the provider (https://user:password@host/hooks/email/...).
    secret = (env("RAPPORT_WEBHOOK_SECRET") or "").strip()
    if secret:
        user, _, password = secret.partition(":")
        if not user or not password:
            raise ImproperlyConfigured("RAPPORT_WEBHOOK_SECRET must be user:password, both parts non-empty")
        found["WEBHOOK_SECRET"] = secret
    # Mailgun signs each webhook with this key (Mailgun's "HTTP webhook signing key"); without it the API key is used.
    signing_key = (env("MAILGUN_WEBHOOK_SIGNING_KEY") or "").strip()
    if signing_key:
        found["MAILGUN_WEBHOOK_SIGNING_KEY"] = signing_key
    # SendGrid's signed event webhook: the ECDSA verification key SendGrid shows for it.
    sendgrid_key = _public_key("SENDGRID_WEBHOOK_VERIFICATION_KEY", algorithm="ec")
    if sendgrid_key:
        found["SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY"] = sendgrid_key
    # Postal signs every webhook with its server's RSA key; anymail refuses Postal webhooks without it.
    postal_key = _public_key("POSTAL_WEBHOOK_KEY", algorithm="rsa")
    if postal_key:
        found["POSTAL_WEBHOOK_KEY"] = postal_key
    # Resend signs with one whsec_ secret per webhook endpoint: tracking and inbound may be two, so several are allowed.
    resend_secrets = envlist("RESEND_WEBHOOK_SECRET")
    for secret in resend_secrets:
        if not re.fullmatch(r"whsec_[A-Za-z0-9+/]+={0,2}", secret):
            raise ImproperlyConfigured(
                "RESEND_WEBHOOK_SECRET must be the signing secret Resend shows (whsec_ and base64), "
                "or several separated by commas"
            )
    if resend_secrets:
        found["RESEND_WEBHOOK_SECRETS"] = resend_secrets
    return found


def _public_key(name: str, *, algorithm: str) -> str:
    """A provider's public key from NAME (base64 DER, or PEM), checked now; returned as anymail reads it: bare base64."""
    raw = (env(name) or "").strip()
    if not raw:
        return ""
    body = "".join(line.strip() for line in raw.splitlines() if not line.strip().startswith("-----"))
    body = "".join(body.split())
    kind = {"ec": "an ECDSA", "rsa": "an RSA"}[algorithm]
    # Imported here so that start-up without a signed provider does not load it.
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    try:
        key = load_der_public_key(base64.b64decode(body, validate=True))
    except (ValueError, UnsupportedAlgorithm):
        raise ImproperlyConfigured(f"{name} must be the provider's public key, base64 or PEM, as the provider shows it")
    if not isinstance(key, {"ec": ec.EllipticCurvePublicKey, "rsa": rsa.RSAPublicKey}[algorithm]):
        raise ImproperlyConfigured(f"{name} must be {kind} public key, not another kind")
    return body


# django-anymail reads its provider keys and webhook secrets from here; webhooks work with SMTP relays too.
ANYMAIL = {**_email.get("ANYMAIL", {}), **_webhook_settings()}
# The address every message is sent from; each user's from-name goes in front of it and replies go to them.
RAPPORT_EMAIL_FROM = (env("RAPPORT_EMAIL_FROM") or f"noreply@{urlsplit(BASE_URL).hostname or 'localhost'}").strip()
if not re.fullmatch(r"[^@\s<>\"]+@[^@\s<>\"]+", RAPPORT_EMAIL_FROM):
    raise ImproperlyConfigured(
        f"RAPPORT_EMAIL_FROM must be a plain address like noreply@example.org, not {RAPPORT_EMAIL_FROM!r}"
    )
DEFAULT_FROM_EMAIL = RAPPORT_EMAIL_FROM
SERVER_EMAIL = RAPPORT_EMAIL_FROM


def _imap_settings(url: str) -> dict[str, object]:
    """The reply mailbox from IMAP_URL (imap://user:password@host:143/INBOX or imaps://…); refuses anything else."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("imap", "imaps"):
        raise ImproperlyConfigured(f"IMAP_URL must start with imap:// or imaps://, not {url.split('://')[0]!r}")
    if not parts.hostname:
        raise ImproperlyConfigured("IMAP_URL needs a host, as in imaps://user:password@mail.example.org/INBOX")
    if not parts.username or parts.password is None:
        raise ImproperlyConfigured("IMAP_URL needs a user and a password, as in imaps://user:password@host/INBOX")
    try:
        port = parts.port or {"imap": 143, "imaps": 993}[scheme]
    except ValueError:
        raise ImproperlyConfigured("IMAP_URL has a port that is not a number from 1 to 65535")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"timeout"}
    if unknown:
        raise ImproperlyConfigured(f"IMAP_URL has unknown options: {', '.join(sorted(unknown))} (only timeout)")
    timeout = query.get("timeout", ["30"])[-1]
    if not timeout.isdigit() or int(timeout) < 1:
        raise ImproperlyConfigured(f"IMAP_URL's timeout must be a whole number of seconds, not {timeout!r}")
    mailbox = unquote(parts.path.lstrip("/")) or "INBOX"
    if not mailbox.isascii() or any(c in mailbox for c in '"\\\r\n'):
        raise ImproperlyConfigured(f"IMAP_URL's mailbox must be a plain ASCII folder name, not {mailbox!r}")
    return {
        "host": parts.hostname,
        "port": port,
        "user": unquote(parts.username),
        "password": unquote(parts.password),
        # imaps:// is TLS from the first byte (port 993); imap:// is plain, for a server on the same machine.
        "ssl": scheme == "imaps",
        "mailbox": mailbox,
        "timeout": int(timeout),
    }


# Replies by IMAP: unset means no polling (replies can still arrive by an email provider's inbound webhook).
IMAP_URL = (env("IMAP_URL") or "").strip()
IMAP = _imap_settings(IMAP_URL) if IMAP_URL else None
IMAP_POLL_SECONDS = envint("IMAP_POLL_SECONDS", 60)
if IMAP_POLL_SECONDS < 1:
    raise ImproperlyConfigured("IMAP_POLL_SECONDS must be 1 or more")
# The mailbox replies come back to: outgoing email's Reply-To becomes replies+<token>@domain, naming the message.
RAPPORT_REPLY_ADDRESS = (env("RAPPORT_REPLY_ADDRESS") or "").strip()
if RAPPORT_REPLY_ADDRESS and not re.fullmatch(r"[^@\s<>\"+]+@[^@\s<>\"]+", RAPPORT_REPLY_ADDRESS):
    raise ImproperlyConfigured(
        f"RAPPORT_REPLY_ADDRESS must be a plain address without '+', like replies@example.org, "
        f"not {RAPPORT_REPLY_ADDRESS!r}"
    )


def _twilio_settings(raw: dict[str, str]) -> dict[str, str]:
    """SMS and WhatsApp through Twilio: all unset (the channels stay off) or complete, never half set up."""
    values = {name: (value or "").strip() for name, value in raw.items()}
    base_url = (values.get("TWILIO_BASE_URL") or "https://api.twilio.com").rstrip("/")
    if not re.fullmatch(r"https?://[^/\s?#]+", base_url):
        raise ImproperlyConfigured(f"TWILIO_BASE_URL must be a URL like https://api.twilio.com, not {base_url!r}")
    patterns = {
        "TWILIO_ACCOUNT_SID": (r"AC[0-9a-fA-F]{32}", "AC followed by 32 hexadecimal characters"),
        "TWILIO_MESSAGING_SERVICE_SID": (r"MG[0-9a-fA-F]{32}", "MG followed by 32 hexadecimal characters"),
        "TWILIO_FROM_NUMBER": (r"\+[1-9]\d{6,14}", "a phone number in E.164 form, such as +14155550100"),
        "TWILIO_WHATSAPP_FROM": (r"\+[1-9]\d{6,14}", "a phone number in E.164 form, such as +14155550100"),
    }
    for name, (pattern, shape) in patterns.items():
        if values.get(name) and not re.fullmatch(pattern, values[name]):
            raise ImproperlyConfigured(f"{name} must be {shape}, not {values[name]!r}")
    senders = ("TWILIO_FROM_NUMBER", "TWILIO_MESSAGING_SERVICE_SID", "TWILIO_WHATSAPP_FROM")
    given = [name for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", *senders) if values.get(name)]
    if given:
        missing = [name for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not values.get(name)]
        if not any(values.get(name) for name in senders):
            missing.append("TWILIO_FROM_NUMBER (or TWILIO_MESSAGING_SERVICE_SID, or TWILIO_WHATSAPP_FROM)")
        if missing:
            raise ImproperlyConfigured(
                f"Twilio is only partly set up: {', '.join(given)} given, but {', '.join(missing)} missing"
            )
    return {
        "TWILIO_ACCOUNT_SID": values.get("TWILIO_ACCOUNT_SID", ""),
        "TWILIO_AUTH_TOKEN": values.get("TWILIO_AUTH_TOKEN", ""),
        "TWILIO_FROM_NUMBER": values.get("TWILIO_FROM_NUMBER", ""),
        "TWILIO_WHATSAPP_FROM": values.get("TWILIO_WHATSAPP_FROM", ""),
        "TWILIO_MESSAGING_SERVICE_SID": values.get("TWILIO_MESSAGING_SERVICE_SID", ""),
        "TWILIO_BASE_URL": base_url,
    }


# SMS and WhatsApp (Twilio). Status and inbound webhooks are checked against RAPPORT_BASE_URL, so it must be the
# public URL Twilio calls.
_twilio = _twilio_settings(
    {
        name: env(name) or ""
        for name in (
            "TWILIO_ACCOUNT_SID",
            "TWILIO_AUTH_TOKEN",
            "TWILIO_FROM_NUMBER",
            "TWILIO_WHATSAPP_FROM",
            "TWILIO_MESSAGING_SERVICE_SID",
            "TWILIO_BASE_URL",
        )
    }
)
TWILIO_ACCOUNT_SID = _twilio["TWILIO_ACCOUNT_SID"]
TWILIO_AUTH_TOKEN = _twilio["TWILIO_AUTH_TOKEN"]
TWILIO_FROM_NUMBER = _twilio["TWILIO_FROM_NUMBER"]
TWILIO_WHATSAPP_FROM = _twilio["TWILIO_WHATSAPP_FROM"]
TWILIO_MESSAGING_SERVICE_SID = _twilio["TWILIO_MESSAGING_SERVICE_SID"]
TWILIO_BASE_URL = _twilio["TWILIO_BASE_URL"]
# Pictures and files people text us are downloaded up to this size (WhatsApp's own limit for media is 16 MB).
TWILIO_MEDIA_MAX_MB = envint("TWILIO_MEDIA_MAX_MB", 16)
if TWILIO_MEDIA_MAX_MB < 1:
    raise ImproperlyConfigured("TWILIO_MEDIA_MAX_MB must be 1 or more")
TWILIO_MEDIA_MAX_BYTES = TWILIO_MEDIA_MAX_MB * 1024 * 1024


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
# How many connections to the mail server (or SMS provider) one worker keeps busy at once while delivering.
RAPPORT_DELIVERY_CONNECTIONS = envint("RAPPORT_DELIVERY_CONNECTIONS", 4)
if not 1 <= RAPPORT_DELIVERY_CONNECTIONS <= 32:
    raise ImproperlyConfigured("RAPPORT_DELIVERY_CONNECTIONS must be a whole number from 1 to 32")
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
# Engagement points lose half their weight every this many days (rapport/candidates/engagement.py).
RAPPORT_ENGAGEMENT_HALF_LIFE_DAYS = envint("RAPPORT_ENGAGEMENT_HALF_LIFE_DAYS", 30)
if not 1 <= RAPPORT_ENGAGEMENT_HALF_LIFE_DAYS <= 3650:
    raise ImproperlyConfigured(
        f"RAPPORT_ENGAGEMENT_HALF_LIFE_DAYS must be a whole number of days from 1 to 3650, "
        f"not {RAPPORT_ENGAGEMENT_HALF_LIFE_DAYS}"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("RAPPORT_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
