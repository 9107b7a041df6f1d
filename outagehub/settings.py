"""OutageHub settings, read from the environment.

Every variable is documented in README.md and .env.example. With none set
(besides DEBUG=1 for development) OutageHub runs on its embedded default:
SQLite in WAL mode and a filesystem Celery broker under OUTAGEHUB_DATA_DIR,
so one can check out, install and run without any server.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envnatural(name: str, default: int) -> int:
    value = envint(name, default)
    if value < 0:
        raise ImproperlyConfigured(f"{name} must be 0 or more, got {value}")
    return value


def envrate(name: str, default: str) -> str:
    """A rate as DRF's throttles read it: requests per second, minute, hour or day ("10/min")."""
    value = os.environ.get(name) or default
    # DRF reads the first letter of the period and fails on anything else at request time.
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", value.strip()):
        raise ImproperlyConfigured(
            f"{name} must be a number of requests per s, min, hour or day (10/min), got {value!r}"
        )
    return value.strip()


def envnetworks(name: str) -> list[str]:
    """CIDRs (or "unix"), checked now: a typo must stop the process, not fail every request."""
    values = envlist(name)
    for value in values:
        if value == "unix":
            continue
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {value!r} is not an address or CIDR (e.g. 10.0.0.0/8) or unix"
            ) from None
    return values


def envpath(name: str, default: str) -> str:
    """A URL path prefix such as "admin/" or "ops/admin-7f3a/": segments of letters, digits, - and _."""
    value = (os.environ.get(name) or default).strip().strip("/")
    if not re.fullmatch(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*", value):
        raise ImproperlyConfigured(
            f"{name} must be a URL path such as admin/ (letters, digits, - and _), got {value!r}"
        )
    return value + "/"


DEBUG = envbool("DEBUG", False)

# The development key is public (it is in this file); production settings
# (DEBUG off) refuse to start with it or without a key.
DEV_SECRET_KEY = "dev-insecure-outagehub-key-do-not-use-in-production"  # noqa: S105 - public by design
SECRET_KEY = os.environ.get("SECRET_KEY") or (DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and SECRET_KEY in {"", DEV_SECRET_KEY}:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a private random value when DEBUG is off "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

DATA_DIR = Path(os.environ.get("OUTAGEHUB_DATA_DIR") or BASE_DIR / "data")

INSTALLED_APPS = [
    # django.contrib.admin, with a site that limits failed logins (reports/admin_site.py).
    "reports.apps.OutageHubAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "corsheaders",
    "drf_spectacular",
    # Swagger UI's files, served from /static/ like ours: the API docs load nothing from a CDN.
    "drf_spectacular_sidecar",
    "catalog",
    "reports",
    "probes",
    "statuspages",
]

MIDDLEWARE = [
    # First: answers /healthz before the Host header is checked (see outagehub/health.py).
    "outagehub.health.HealthCheckMiddleware",
    # GET and HEAD read from the replica when there is one (OUTAGEHUB_READ_REPLICA_URL; else not loaded).
    "outagehub.dbrouter.ReadOnlyRequestMiddleware",
    # Counts and times the report endpoints' answers, whatever gave them (outagehub/metrics.py).
    "outagehub.metrics.IntakeMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A client refused moments ago for too many reports is refused again here, before anything else runs.
    "reports.intake.gate.ReportFloodGateMiddleware",
    # Content-Security-Policy (CSP_DIRECTIVES below) on every response, static files and errors included.
    "outagehub.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # /api/ only: CORS (django-cors-headers, reads only) outside the conditional GET, so that
    # 304s and errors of reads carry it too, and before CommonMiddleware, so its redirects do.
    "outagehub.api.http.ApiCorsMiddleware",
    "outagehub.api.http.ApiConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees a view's exceptions first: a lost database connection is a 503, not a 500.
    "outagehub.unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "outagehub.urls"
WSGI_APPLICATION = "outagehub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# A streaming replica of DATABASE_URL: the reads of GET and HEAD requests go there (outagehub/dbrouter.py).
READ_REPLICA_URL = os.environ.get("OUTAGEHUB_READ_REPLICA_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "outagehub.sqlite3"),
            "OPTIONS": {
                # WAL lets the web server read while the worker writes; IMMEDIATE
                # takes the write lock at BEGIN so concurrent writers queue on the
                # busy timeout instead of failing with "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
if READ_REPLICA_URL:
    if not DATABASE_URL:
        raise ImproperlyConfigured("OUTAGEHUB_READ_REPLICA_URL needs DATABASE_URL (the primary)")
    DATABASES["replica"] = dj_database_url.parse(READ_REPLICA_URL, conn_max_age=60, conn_health_checks=True)
    DATABASE_ROUTERS = ["outagehub.dbrouter.ReadReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker ---------------------------------------
# REDIS_URL is the Celery broker. The cache (rate limits, Last-Modified of API reads) may share
# it, under key prefixes it alone clears (outagehub/cache.py), or take a database of its own with
# OUTAGEHUB_REDIS_CACHE_URL (docker-compose.yml: broker db 0, cache db 1). Celery keeps no
# results (CELERY_TASK_IGNORE_RESULT) and there are no Redis locks: detection and the schedulers
# claim rows in the database. See README, "Redis layout".
REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_CACHE_URL = os.environ.get("OUTAGEHUB_REDIS_CACHE_URL") or REDIS_URL
if REDIS_CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "outagehub.cache.RedisCache",  # one client per pool, clear() by prefix (outagehub/cache.py)
            "LOCATION": REDIS_CACHE_URL,
            "KEY_PREFIX": "cache",
            # A dead Redis must not hang a request: fail fast, and the rate
            # limiter fails open (see reports/intake/throttles.py).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # Shared between processes on one machine (web, worker), unlike locmem.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# Last-Modified of API reads (outagehub/api/http.py): one small entry per URL read, in a cache
# of its own so that many distinct URLs cannot crowd out the rate limiter's entries.
CACHES["conditional"] = (
    {**CACHES["default"], "KEY_PREFIX": "conditional"}
    if REDIS_CACHE_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache-conditional"),
        "OPTIONS": {"MAX_ENTRIES": 1000},
    }
)

# Memoized reads (outagehub/memo.py): parts of pages computed from rollups and outages, under keys
# that name their inputs. A cache of their own too: a busy page must not crowd out the rate
# limiter's entries (the file cache culls a third of its entries at random when full).
CACHES["memo"] = (
    {**CACHES["default"], "KEY_PREFIX": "memo"}
    if REDIS_CACHE_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache-memo"),
        "OPTIONS": {"MAX_ENTRIES": 2000},
    }
)

CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    # Kombu's filesystem transport: messages are files in one folder shared by
    # web, worker and beat on this machine. No server, nothing to install.
    _broker_dir = DATA_DIR / "broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        # Exchange tables; Kombu's default is ./control, wherever the process starts.
        "control_folder": str(DATA_DIR / "broker-control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# A task is acknowledged after it ran, so a worker killed mid-task does not
# lose it; tasks are idempotent so a second run is harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULER = "outagehub.celery:HeartbeatScheduler"
# Touched every few seconds by a live worker / beat (outagehub/celery.py); health checks read their age.
OUTAGEHUB_WORKER_HEARTBEAT_FILE = os.environ.get("OUTAGEHUB_WORKER_HEARTBEAT_FILE") or str(
    DATA_DIR / "worker-heartbeat"
)
OUTAGEHUB_BEAT_HEARTBEAT_FILE = os.environ.get("OUTAGEHUB_BEAT_HEARTBEAT_FILE") or str(DATA_DIR / "beat-heartbeat")

# --- Passwords, i18n, static ------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("OUTAGEHUB_STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security (production: DEBUG off) --------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = envbool("OUTAGEHUB_SECURE_SSL_REDIRECT", not DEBUG)
# Health checks come over plain HTTP from inside the host or cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = envint("OUTAGEHUB_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = envbool("OUTAGEHUB_HSTS_PRELOAD", False)
if envbool("OUTAGEHUB_BEHIND_TLS_PROXY", False):
    # Only when a proxy that we control sets this header (see README).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"  # other sites learn nothing of which page linked to them
# The admin's URL path (OUTAGEHUB_ADMIN_PATH, "admin/" by default): moving it off the well-known
# path keeps drive-by login attempts away; failed logins are limited per address either way.
OUTAGEHUB_ADMIN_PATH = envpath("OUTAGEHUB_ADMIN_PATH", "admin/")
OUTAGEHUB_ADMIN_LOGIN_RATE_LIMIT = envrate("OUTAGEHUB_ADMIN_LOGIN_RATE_LIMIT", "10/hour")
# Bodies larger than this are refused with 413 before they are parsed (forms and JSON alike);
# report intake allows less (reports/api/reports.py). Chunked bodies are held to it too (outagehub/bodies.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = envnatural("OUTAGEHUB_MAX_BODY_BYTES", 64 * 1024)
# HSTS preloading is a one-way commitment for a whole domain: the operator
# opts in with OUTAGEHUB_HSTS_PRELOAD, so its absence is not a warning.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# --- Content Security Policy (outagehub/csp.py) ----------------------------------
# Everything from this origin, nothing inline: no inline script or style, no style or
# on* attributes, no other host (no CDN, no font service, no tracker). 'none' where
# the pages need nothing. Other security headers live in the Security block above.
CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    # data: images never leave the page (Swagger UI's stylesheet draws its icons with them).
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
}

# --- Logging: never the client address --------------------------------------
# Production (DEBUG off) logs one JSON object per line; OUTAGEHUB_LOG_FORMAT=plain|json overrides.
# Every line goes through outagehub.logs.RedactingFilter: addresses and secret values are masked.
LOG_FORMAT = os.environ.get("OUTAGEHUB_LOG_FORMAT") or ("plain" if DEBUG else "json")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"OUTAGEHUB_LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "outagehub.logs.RedactingFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "outagehub.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("OUTAGEHUB_LOG_LEVEL", "INFO")},
    "loggers": {
        # runserver's access log prints the client address; keep it to warnings.
        "django.server": {"level": "WARNING"},
        # Every probe request would be an INFO line.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# --- CORS (django-cors-headers) ---------------------------------------------------
# Reads under /api/ from any origin; outagehub.api.http.ApiCorsMiddleware gives CORS headers only to
# the methods below (and preflights for them), so cross-site writes stay refused by the browser.
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOW_ALL_ORIGINS = True  # "*", without credentials: the API reads no cookies
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
# Request headers a cross-origin read may send: API keys and revalidation.
CORS_ALLOW_HEADERS = ["Authorization", "X-Api-Key", "If-None-Match", "If-Modified-Since"]
# Response headers a cross-origin script may read besides the CORS-safelisted ones.
CORS_EXPOSE_HEADERS = ["ETag", "Retry-After"]
CORS_PREFLIGHT_MAX_AGE = 86400  # seconds; browsers cap it lower (Chromium: 2 hours)

# --- REST framework ---------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    # API keys only (reports.api.auth): no header is anonymous, a bad key is a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": ["reports.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PARSER_CLASSES": ["outagehub.api.parsing.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "outagehub.api.pagination.PageNumberPagination",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "outagehub.api.parsing.ContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "outagehub.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "outagehub.api.errors.exception_handler",
    # Anonymous reads, per address (OUTAGEHUB_READ_RATE_LIMIT); writes keep their own throttles.
    "DEFAULT_THROTTLE_CLASSES": ["reports.intake.throttles.ReadRateThrottle"],
    "UNAUTHENTICATED_USER": None,
}
API_DESCRIPTION = """Crowdsourced outage reports, probes and outages.

Reads need no key. JSON only; times are ISO 8601 UTC.

**Errors.** Every error has one body: `message` (a sentence), `code` (for programs) and `errors`
(messages by field). Each operation lists the statuses it can answer with; a method a path does
not list answers 405 with the same body and an `Allow` header.

**Caching.** Reads carry an `ETag` (and a `Last-Modified` once their content has been the same
for a second): send them back in `If-None-Match` / `If-Modified-Since` to get a bodiless 304
while nothing changed. Anonymous reads are `Cache-Control: public` with a short `max-age`;
errors and writes are `no-store`.

**CORS.** Reads (GET, HEAD) are open to every origin; writes are not.
"""
SPECTACULAR_SETTINGS = {
    "TITLE": "OutageHub API",
    "DESCRIPTION": API_DESCRIPTION,
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Tags and operation ids from the path after this (services, probes...), not from /api/.
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # /api/docs/ serves Swagger UI from our own /static/ (drf-spectacular-sidecar), no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would otherwise send the schema's address to validator.swagger.io for a badge.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # One name for a choice set that several fields use (a service's status, an outage's level).
    "ENUM_NAME_OVERRIDES": {
        "Level": "reports.models.Level",
        "OfficialLevel": "statuspages.kinds.OfficialLevel",
        "IncidentStatus": "statuspages.kinds.IncidentStatus",
    },
}

# --- OutageHub ----------------------------------------------------------------
# CIDRs of reverse proxies whose X-Forwarded-For we believe. Empty: trust none,
# the client is the socket peer. The entry "unix" trusts a proxy connected over
# a unix socket (REMOTE_ADDR empty or "unix:..."); without it such requests have
# no client address and share one reporter identity and rate-limit bucket.
OUTAGEHUB_TRUSTED_PROXIES = envnetworks("OUTAGEHUB_TRUSTED_PROXIES")
# Reports one client address may file, e.g. "10/min", "100/hour".
OUTAGEHUB_REPORT_RATE_LIMIT = envrate("OUTAGEHUB_REPORT_RATE_LIMIT", "10/min")
# API reads (GET, HEAD, OPTIONS) per client address; high enough for a dashboard polling many services.
OUTAGEHUB_READ_RATE_LIMIT = envrate("OUTAGEHUB_READ_RATE_LIMIT", "600/min")
# A reporter is counted once per service within this many seconds.
OUTAGEHUB_REPORT_COOLDOWN_SECONDS = envnatural("OUTAGEHUB_REPORT_COOLDOWN_SECONDS", 15 * 60)
# Reports one network (an IPv4 /24, an IPv6 /48) may file, all its addresses together: high, since
# a carrier-grade NAT puts many people behind few addresses; it stops one network flooding.
OUTAGEHUB_NETWORK_REPORT_RATE_LIMIT = envrate("OUTAGEHUB_NETWORK_REPORT_RATE_LIMIT", "300/min")
# Reporters one network (an IPv4 /24, an IPv6 /48) counts as per service per cooldown; further
# reporters from it are stored, flagged (Report.network_flagged) and not counted, so many
# addresses of one network reporting in lockstep cannot open an outage on their own. 0: no cap.
OUTAGEHUB_REPORTERS_PER_NETWORK = envnatural("OUTAGEHUB_REPORTERS_PER_NETWORK", 3)
# Reporters one client address (an IPv4 address, an IPv6 /64) counts as per service per
# cooldown, whatever user agents it sends: a household or office behind one address
# counts several people, one machine faking user agents no more. 0: no cap.
OUTAGEHUB_REPORTERS_PER_ADDRESS = envnatural("OUTAGEHUB_REPORTERS_PER_ADDRESS", 3)
# Secret from which the daily reporter-hash salt is derived; rotating it
# unlinks all reporter hashes at once.
OUTAGEHUB_REPORTER_SALT_SECRET = os.environ.get("OUTAGEHUB_REPORTER_SALT_SECRET") or SECRET_KEY
# Write-behind intake (reports/intake/writebehind.py): a report is decided and queued durably in
# Redis in one round trip and written to PostgreSQL in batches by `reports_drain` within seconds.
# On by default on PostgreSQL with Redis; the embedded default (SQLite) always writes directly.
OUTAGEHUB_INTAKE_WRITE_BEHIND = envbool(
    "OUTAGEHUB_INTAKE_WRITE_BEHIND", bool(REDIS_URL) and DATABASES["default"]["ENGINE"].endswith("postgresql")
) and bool(REDIS_URL)
OUTAGEHUB_INTAKE_REDIS_URL = os.environ.get("OUTAGEHUB_INTAKE_REDIS_URL") or REDIS_URL
# Raw reports older than this many days are deleted (hourly); rollups and outages are kept for good.
# 0: keep every report.
OUTAGEHUB_REPORT_RETENTION_DAYS = envnatural("OUTAGEHUB_REPORT_RETENTION_DAYS", 90)
if 0 < OUTAGEHUB_REPORT_RETENTION_DAYS < 15:
    # A detector that is reset relearns (and re-rolls up) the last 14 days from raw reports.
    raise ImproperlyConfigured("OUTAGEHUB_REPORT_RETENTION_DAYS must be 0 (keep all) or at least 15")
# How long anonymous API reads may be reused by browsers and proxies (Cache-Control max-age).
OUTAGEHUB_API_CACHE_SECONDS = envint("OUTAGEHUB_API_CACHE_SECONDS", 30)
# Generate demo traffic every minute from Celery beat (make run sets it). Off, beat still
# generates the traffic of outages injected with `manage.py simulate --outage`.
OUTAGEHUB_SIMULATOR = envbool("OUTAGEHUB_SIMULATOR", False)
# The simulator fills each minute once it has closed; detection reads a minute 20 s after it
# closed (reports.detection.tick.SETTLE), so the simulator must run well within that.
OUTAGEHUB_SIMULATOR_INTERVAL_SECONDS = envint("OUTAGEHUB_SIMULATOR_INTERVAL_SECONDS", 10)

# /metrics (outagehub/metrics.py): answered to `Authorization: Bearer <token>` when a token is
# set, or to a socket peer in these networks (default loopback; e.g. your Prometheus' subnet).
OUTAGEHUB_METRICS_TOKEN = os.environ.get("OUTAGEHUB_METRICS_TOKEN", "")
OUTAGEHUB_METRICS_NETWORKS = [
    net for net in envnetworks("OUTAGEHUB_METRICS_NETWORKS") or ["127.0.0.0/8", "::1/128"] if net != "unix"
]

# --- Probes -------------------------------------------------------------------
# Probes refuse private, loopback, link-local and reserved addresses (checked
# after DNS resolution, at connect time) unless the operator allows them.
PROBES_ALLOW_PRIVATE = envbool("OUTAGEHUB_PROBES_ALLOW_PRIVATE", False)
# Regions a probe runs in when its definition names none; each region is the
# Celery queue probes.<region>, served by workers running there.
PROBES_DEFAULT_REGIONS = envlist("OUTAGEHUB_PROBES_DEFAULT_REGIONS", "local")
# Canaries (HTTP(S) URLs that must answer, or host:port that must accept TCP)
# that must all fail before we call ourselves offline; then failed checks
# are inconclusive and never mark a probe down.
PROBES_CANARIES = envlist(
    "OUTAGEHUB_PROBES_CANARIES",
    ",".join(
        [
            "https://www.google.com/generate_204",
            "https://cp.cloudflare.com/generate_204",
            "https://www.msftconnecttest.com/connecttest.txt",
        ]
    ),
)
PROBES_RESULT_RETENTION_DAYS = envint("OUTAGEHUB_PROBES_RESULT_RETENTION_DAYS", 7)
PROBES_SCHEDULER_INTERVAL_SECONDS = envint("OUTAGEHUB_PROBES_SCHEDULER_INTERVAL_SECONDS", 10)
# Extra CA bundle (PEM) trusted by HTTPS and TLS checks besides the system's.
PROBES_CA_FILE = os.environ.get("OUTAGEHUB_PROBES_CA_FILE", "")
# Resolvers for DNS checks ("ip" or "ip:port", comma-separated); empty: the system's.
PROBES_DNS_NAMESERVERS = envlist("OUTAGEHUB_PROBES_DNS_NAMESERVERS")

# --- Official status pages ------------------------------------------------------
# Same guard as probes: private, loopback and reserved addresses are refused unless allowed.
STATUSPAGES_ALLOW_PRIVATE = envbool("OUTAGEHUB_STATUSPAGES_ALLOW_PRIVATE", PROBES_ALLOW_PRIVATE)
# address:port pairs allowed although private (the demo's fixture server), checked at start.
STATUSPAGES_ALLOWED_ADDRESSES = envlist("OUTAGEHUB_STATUSPAGES_ALLOWED_ADDRESSES")
STATUSPAGES_INTERVAL_SECONDS = envint("OUTAGEHUB_STATUSPAGES_INTERVAL_SECONDS", 120)
if not 60 <= STATUSPAGES_INTERVAL_SECONDS <= 300:
    raise ImproperlyConfigured("OUTAGEHUB_STATUSPAGES_INTERVAL_SECONDS must be from 60 to 300")
STATUSPAGES_JITTER_SECONDS = envnatural("OUTAGEHUB_STATUSPAGES_JITTER_SECONDS", 30)
STATUSPAGES_TIMEOUT_SECONDS = max(envint("OUTAGEHUB_STATUSPAGES_TIMEOUT_SECONDS", 10), 1)
STATUSPAGES_MAX_BYTES = max(envint("OUTAGEHUB_STATUSPAGES_MAX_BYTES", 8 * 1024 * 1024), 1024)
STATUSPAGES_STALE_SECONDS = envnatural("OUTAGEHUB_STATUSPAGES_STALE_SECONDS", 900)

CELERY_BEAT_SCHEDULE = {
    # Often: a cooldown row holds a reporter hash, which should not outlive the cooldown by much.
    "prune-cooldowns": {"task": "reports.tasks.reports_prune_cooldowns", "schedule": 300.0},
    "prune-rollup-ledger": {"task": "reports.tasks.reports_prune_rollups", "schedule": 3600.0},
    "prune-reports": {"task": "reports.tasks.reports_prune_old", "schedule": 3600.0},
    "probes-enqueue-due": {
        "task": "probes.tasks.probes_enqueue_due",
        "schedule": float(PROBES_SCHEDULER_INTERVAL_SECONDS),
    },
    "detection-tick": {
        "task": "reports.tasks.detection_tick_all",
        "schedule": float(envint("OUTAGEHUB_DETECTION_INTERVAL_SECONDS", 30)),
    },
    "webhooks-resend-stale": {"task": "reports.tasks.webhooks_resend_stale", "schedule": 300.0},
    # Likely upstream causes of recent outages (reports/outages/attribution.py).
    "attribution-tick": {
        "task": "reports.tasks.attribution_tick",
        "schedule": float(envint("OUTAGEHUB_ATTRIBUTION_INTERVAL_SECONDS", 60)),
    },
    "probes-rollup-and-prune": {"task": "probes.tasks.probes_rollup_and_prune", "schedule": 900.0},
    "statuspages-poll-due": {"task": "statuspages.tasks.statuspages_poll_due", "schedule": 60.0},
    # Always scheduled: with OUTAGEHUB_SIMULATOR off it only plays outages injected by hand.
    "simulate-traffic": {
        "task": "reports.tasks.reports_simulate_traffic",
        "schedule": float(OUTAGEHUB_SIMULATOR_INTERVAL_SECONDS),
    },
}
if OUTAGEHUB_INTAKE_REDIS_URL:
    # Write-behind intake: queued reports reach PostgreSQL within a couple of seconds. A drain
    # not started within a few intervals is dropped (`expires`): a later one does its work.
    CELERY_BEAT_SCHEDULE["drain-reports"] = {
        "task": "reports.tasks.reports_drain",
        "schedule": 1.0,
        "options": {"expires": 5.0},
    }
