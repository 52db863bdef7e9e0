"""All settings, read from the environment; the defaults serve `make run` (SQLite, no Redis)."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("MORTAR_DEBUG", False)
SECRET_KEY = os.environ.get("MORTAR_SECRET_KEY") or (
    "dev-only-insecure-key" if DEBUG else None
)
if not SECRET_KEY:
    raise RuntimeError(
        "Set MORTAR_SECRET_KEY (any long random string), or MORTAR_DEBUG=1 for a development run."
    )
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h]

# HTTPS in production (`make run`, DEBUG, serves plain http): http is redirected, browsers are
# told to stay on https (HSTS) and cookies travel over https only. The probes answer over http:
# load balancers and the Compose healthcheck call them so.
SECURE_SSL_REDIRECT = env_bool("MORTAR_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("MORTAR_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = True  # only sent with HSTS seconds > 0
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
# Behind a proxy that ends TLS: the request header (as in request.META) that says "https".
# Only the proxy may set it, so it is trusted only when named.
if _proxy_ssl_header := os.environ.get("MORTAR_PROXY_SSL_HEADER"):
    if not _proxy_ssl_header.startswith("HTTP_"):
        raise RuntimeError("MORTAR_PROXY_SSL_HEADER names a request header as Django sees it, "
                           "e.g. HTTP_X_FORWARDED_PROTO.")
    SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https")

INSTALLED_APPS = [
    # first: its runserver serves mortar.asgi (ASGI), so `make run` streams /api/<slug>/watch
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "graphene_django",  # GraphiQL's page and script
    "models_registry",
    "apps.data_api",
    "apps.identity",
    "apps.ratelimit",
    "apps.rest_api",
    "apps.webhooks",  # after rest_api: both extend the application admin, in this order
    "apps.watch",
    "apps.audit",  # after identity and the data API: it listens to both
    "mortar",  # the wiring's own command: devsetup (make run), which uses every app above
]

# The data API's GraphQL and REST requests go through these alone (mortar.middleware's
# DataApiShortcut), in MIDDLEWARE's order: the same answer headers, none of the pages' work.
DATA_API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "apps.ratelimit.middleware.RateLimitMiddleware",
    "django.middleware.common.CommonMiddleware",  # Content-Length
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
MIDDLEWARE = [
    "mortar.middleware.DataApiShortcut",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # after CORS (a 429 still carries its headers), before everything that works for a request
    "apps.ratelimit.middleware.RateLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # the admin's static files, also in gunicorn
    # Django's, skipped for the data API (mortar/middleware.py)
    "mortar.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "mortar.middleware.AuthenticationMiddleware",
    "mortar.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # the admin's request, for the audit entries of its actions (admin paths only)
    "apps.audit.middleware.AdminRequestMiddleware",
]

ROOT_URLCONF = "mortar.urls"
WSGI_APPLICATION = "mortar.wsgi.application"
ASGI_APPLICATION = "mortar.asgi.application"  # runserver (daphne) and production's uvicorn

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

DATA_DIR = Path(os.environ.get("MORTAR_DATA_DIR", BASE_DIR / "var"))
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'mortar.sqlite3'}",
        conn_max_age=60,
        # No `SELECT 1` before each request's first query: a connection that broke fails one
        # request and is then replaced (Django closes connections after errors).
        conn_health_checks=False,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["ENGINE"] = "mortar.sqlite"  # Django's, placeholders converted once
    # Several processes (web, admin, tests) share the file: wait for locks instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # A file, not memory, so that tests can start a second process on the test database.
    _sqlite = Path(DATABASES["default"]["NAME"])
    DATABASES["default"]["TEST"] = {"NAME": str(_sqlite.with_name(f"test_{_sqlite.name}"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound on the server, and statements run five times on a connection prepared
    # there (psycopg's threshold), so PostgreSQL parses and plans the data API's queries once
    # per connection. Behind a pooler in transaction mode, set MORTAR_PG_PREPARE=0.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True,
        prepare_threshold=5 if env_bool("MORTAR_PG_PREPARE", True) else None,
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL") or None
CACHES = {
    "default": (
        # short timeouts: a silent Redis must not hang logins (their throttling counts here)
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
         "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not (os.environ.get("CELERY_BROKER_URL") or REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# A worker delivering a webhook's events holds it for this long (renewed before each attempt,
# at least twice the timeout): a worker killed mid-delivery hands its webhook over after it,
# at the next sweep (beat, every MORTAR_WEBHOOK_SWEEP_SECONDS) or the next event.
MORTAR_WEBHOOK_LEASE_SECONDS = float(os.environ.get("MORTAR_WEBHOOK_LEASE_SECONDS", "60"))
MORTAR_WEBHOOK_SWEEP_SECONDS = float(os.environ.get("MORTAR_WEBHOOK_SWEEP_SECONDS", "60"))
CELERY_BEAT_SCHEDULE: dict = {
    "purge-refresh-tokens": {"task": "apps.identity.tasks.purge_refresh_tokens",
                             "schedule": 3600.0},
    "prune-change-events": {"task": "apps.watch.tasks.prune_change_events", "schedule": 3600.0},
    "prune-audit-entries": {"task": "apps.audit.tasks.prune_audit_entries",
                            "schedule": 24 * 3600.0},
    "purge-trash": {"task": "models_registry.tasks.purge_trash", "schedule": 3600.0},
    # the at-least-once net of webhook delivery (apps/webhooks/tasks.py)
    "sweep-webhooks": {"task": "apps.webhooks.tasks.sweep",
                       "schedule": MORTAR_WEBHOOK_SWEEP_SECONDS},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("MORTAR_STATIC_ROOT", BASE_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MORTAR_MEDIA_ROOT", DATA_DIR / "media"))

# CORS only for the data API; which origins is each application's own setting (apps/data_api/cors).
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOWED_ORIGINS: list[str] = []
CORS_ALLOW_CREDENTIALS = True
# so that browser code can read the buckets' headers, and how long to wait after a 429
CORS_EXPOSE_HEADERS = ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                       "RateLimit-Policy", "Retry-After"]

# Runtime models: how many applications' model sets each process keeps built.
MORTAR_RUNTIME_CACHE_SIZE = int(os.environ.get("MORTAR_RUNTIME_CACHE_SIZE", "64"))
# Files sent to POST /api/<app>/files: the largest accepted, and how long a reference lasts.
MORTAR_MAX_UPLOAD_BYTES = int(os.environ.get("MORTAR_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
MORTAR_FILE_REFERENCE_SECONDS = 24 * 3600
# A file URL the API or the admin hands out is good for one to two of these periods.
MORTAR_FILE_URL_SECONDS = int(os.environ.get("MORTAR_FILE_URL_SECONDS", "3600"))
# Failed logins allowed per client IP and per username (failures/period: 10/5m, 20/h, 100/d),
# the client IP read from this request.META key (apps/identity/throttling.py).
MORTAR_LOGIN_FAILURES = os.environ.get("MORTAR_LOGIN_FAILURES", "10/5m")
MORTAR_CLIENT_IP_META_KEY = os.environ.get("MORTAR_CLIENT_IP_HEADER") or "REMOTE_ADDR"

# Rate limiting of the data API (apps/ratelimit): where buckets live, how long their periods
# are, and what happens when Redis cannot answer within MORTAR_RATELIMIT_TIMEOUT seconds:
# "open" serves (and logs), "closed" answers 503.
MORTAR_RATELIMIT_BACKEND = os.environ.get("MORTAR_RATELIMIT_BACKEND") or (
    "apps.ratelimit.backends.redis.RedisBackend" if REDIS_URL
    else "apps.ratelimit.backends.local.LocalBackend"
)
MORTAR_RATELIMIT_REDIS_URL = os.environ.get("MORTAR_RATELIMIT_REDIS_URL") or REDIS_URL
MORTAR_RATELIMIT_PERIODS = {"minute": 60, "hour": 3600, "day": 86400}
MORTAR_RATELIMIT_FAIL = os.environ.get("MORTAR_RATELIMIT_FAIL", "open")
if MORTAR_RATELIMIT_FAIL not in ("open", "closed"):
    raise RuntimeError('MORTAR_RATELIMIT_FAIL must be "open" or "closed".')
MORTAR_RATELIMIT_TIMEOUT = float(os.environ.get("MORTAR_RATELIMIT_TIMEOUT", "0.2"))
# After Redis failed, this many seconds pass before it is asked again (the fail rule serves).
MORTAR_RATELIMIT_RETRY_SECONDS = 1.0
# A refused request checks the application's limits in the database at most this often.
MORTAR_RATELIMIT_RECHECK_SECONDS = 1.0
# Bucket keys in Redis start with this (tests use one of their own).
MORTAR_RATELIMIT_KEY_PREFIX = os.environ.get("MORTAR_RATELIMIT_KEY_PREFIX", "mortar:rl")
# Bearer token for /ops/ratelimits and /metrics besides a staff session (unset: staff only).
MORTAR_OPS_TOKEN = os.environ.get("MORTAR_OPS_TOKEN") or None
# With the local backend, the server whose process holds the buckets (`make run` names it in
# var/dev.env): `manage.py ratelimit` asks it, with the ops token, instead of its own memory.
MORTAR_RATELIMIT_SERVER_URL = os.environ.get("MORTAR_RATELIMIT_SERVER_URL") or None

# Webhooks (apps/webhooks): seconds before each retry of a failed delivery (8 retries over
# about two days, each jittered within its second half), the seconds a target gets in all,
# and how many deliveries in a row may fail every attempt before the webhook is disabled.
MORTAR_WEBHOOK_RETRY_SCHEDULE = [float(s) for s in os.environ.get(
    "MORTAR_WEBHOOK_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,50400,72000").split(",")]
MORTAR_WEBHOOK_TIMEOUT = float(os.environ.get("MORTAR_WEBHOOK_TIMEOUT", "10"))
MORTAR_WEBHOOK_DISABLE_AFTER = int(os.environ.get("MORTAR_WEBHOOK_DISABLE_AFTER", "3"))

# Watching changes (apps/watch): how watchers are woken ("auto": LISTEN/NOTIFY on PostgreSQL,
# Redis pub/sub on SQLite with REDIS_URL, else polling; or "postgres", "redis", "poll"), how often
# polling looks (and how often the others look anyway, for an announcement lost), the heartbeat
# comment that keeps proxies from closing idle streams, the reconnect delay told to clients,
# how many batches a watcher may fall behind before it is disconnected (it resumes), and how many
# database connections each serving process uses for all its watchers.
MORTAR_WATCH_WAKEUP = os.environ.get("MORTAR_WATCH_WAKEUP", "auto")
MORTAR_WATCH_POLL_SECONDS = float(os.environ.get("MORTAR_WATCH_POLL_SECONDS", "0.5"))
MORTAR_WATCH_CHECK_SECONDS = float(os.environ.get("MORTAR_WATCH_CHECK_SECONDS", "10"))
MORTAR_WATCH_HEARTBEAT_SECONDS = float(os.environ.get("MORTAR_WATCH_HEARTBEAT_SECONDS", "15"))
MORTAR_WATCH_RETRY_MILLISECONDS = 3000
MORTAR_WATCH_QUEUE_SIZE = int(os.environ.get("MORTAR_WATCH_QUEUE_SIZE", "256"))
MORTAR_WATCH_DB_THREADS = int(os.environ.get("MORTAR_WATCH_DB_THREADS", "4"))

# The audit log (apps/audit): days its entries are kept before the daily prune removes them.
MORTAR_AUDIT_RETENTION_DAYS = int(os.environ.get("MORTAR_AUDIT_RETENTION_DAYS", "365"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("MORTAR_LOG_LEVEL", "INFO")},
}
