"""Settings for the todo API, read from the environment (12-factor).

Every variable is documented in docs/configuration.md and .env.example. Production behaviour
is switched by DJANGO_DEBUG, not by a second settings file.
"""

import os
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from accounts.settings import DEFAULTS as BETTER_AUTH_DEFAULTS
from accounts.settings import origin

BASE_DIR = Path(__file__).resolve().parent.parent

# A developer's configuration lives in a git-ignored .env at the project root (scripts/run.sh
# writes it), so every shell in the checkout sees the same secrets; variables already in the
# environment win over it. DOTENV_FILE names another file, or none when empty. A test run pins
# its own settings and never reads it (tests/conftest.py hands DOTENV_FILE="" to the processes
# tests start).
if "pytest" not in sys.modules and (dotenv_file := os.environ.get("DOTENV_FILE", str(BASE_DIR / ".env"))):
    load_dotenv(dotenv_file, override=False)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}.")


def env_number(name: str, default, parse=int, what: str = "a whole number"):
    """A number from the environment, `default` when unset or blank; a bad value stops the start."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return parse(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {what}, got {raw!r}.") from None


def env_int(name: str, default: int | None) -> int | None:
    return env_number(name, default)


def env_float(name: str, default: float) -> float:
    return env_number(name, default, float, "a number")


def env_rate(name: str, default: str) -> str | None:
    """A DRF throttle rate such as `120/min`; an empty value turns that limit off."""
    raw = os.environ.get(name, default).strip()
    if not raw:
        return None
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", raw):
        raise ImproperlyConfigured(f"{name} must be a rate like 120/min (per s, min, hour or day), got {raw!r}.")
    return raw


def env_list(name: str, default: str = "") -> list[str]:
    """A comma-separated variable as a list, blanks dropped."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_origin_regexes(name: str) -> list[str]:
    """Space-separated regexes that must each match a whole origin (`^...$`): an unanchored
    one would also grant `https://app.example.com.attacker.net`."""
    regexes = os.environ.get(name, "").split()
    for regex in regexes:
        if not (regex.startswith("^") and regex.endswith("$")):
            raise ImproperlyConfigured(f"{name}: {regex!r} must start with ^ and end with $.")
        try:
            re.compile(regex)
        except re.error as e:
            raise ImproperlyConfigured(f"{name}: {regex!r} is not a regex: {e}.") from e
    return regexes


# ---------------------------------------------------------------------------
# Core
# ---------------------------------------------------------------------------

INSECURE_SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY") or INSECURE_SECRET_KEY
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "core",
    "accounts",
    "tasks",
]

MIDDLEWARE = [
    # First, so its line covers everything below, redirects and static files included.
    "core.logs.RequestLogMiddleware",
    # Before anything that can answer, so every answer to a signed-in caller is private.
    "core.middleware.private_answers",
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's static files; right after security so they get its headers.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Below CORS, so a browser can read these answers too: 413 before any parsing, 400 for a
    # query string that is not UTF-8 or a body in a charset that cannot be read, and ETags
    # with 304s for every GET.
    "core.middleware.BodySizeLimitMiddleware",
    "core.middleware.QueryStringMiddleware",
    "core.middleware.CharsetMiddleware",
    # Then wait for a turn at the database, with the body already in hand.
    "core.middleware.DatabaseTurns",
    "core.middleware.JsonConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "todo_project.urls"
WSGI_APPLICATION = "todo_project.wsgi.application"

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

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# collectstatic (a build step) writes hashed, compressed copies that whitenoise serves with
# far-future cache headers.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Next.js strips trailing slashes; every route accepts both forms, so never redirect.
APPEND_SLASH = False

# ---------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------

# Query options in the URL (`?sslmode=require` for Neon) reach the driver as they are.
# Connections are kept for DATABASE_CONN_MAX_AGE seconds and checked before reuse.
DATABASES = {
    # Development's default; production refuses to start without DATABASE_URL (see below).
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Requests of one process that may use the database at once; 0 (tests, commands) sets no limit.
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 0)
if DATABASE_POOL_SIZE:
    # The web process: PostgreSQL's connections are kept by the pool below (Django's rule: no
    # persistent ones beside it); an SQLite file opens in microseconds, and a connection kept
    # per greenlet would hold a file handle per client connection.
    DATABASES["default"]["CONN_MAX_AGE"] = 0

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Each transaction takes SQLite's write lock when it begins, not at its first write: writes
    # that count a user's rows against a limit and then insert run one after the other, as the
    # user's row lock makes them on PostgreSQL (accounts.services.user_lock).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("transaction_mode", "IMMEDIATE")

# Every wait of a request on the database has a deadline, then the answer is 503
# `database_unavailable` with Retry-After (docs/deployment.md, "A database that hangs"). With the
# web process's defaults a request waits at most 10 s for its turn, 0.5 s for a pooled connection
# and 17 s for any one answer from PostgreSQL: within the 30 s most platforms' routers allow.
# Seconds a request waits for its turn at the database (core.middleware.DatabaseTurns).
DATABASE_TURN_TIMEOUT = env_float("DATABASE_TURN_TIMEOUT", 10)
# Seconds /readyz gives its probe in all: a turn, a connection and a query on the tasks table.
DATABASE_READY_TIMEOUT = env_float("DATABASE_READY_TIMEOUT", 2)
# Milliseconds PostgreSQL lets one statement run (gunicorn.conf.py sets it for the web process
# only, so migrations may run long); 0 sets none.
DATABASE_STATEMENT_TIMEOUT_MS = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 0)
# Seconds the web process waits for any one answer from PostgreSQL before it closes the
# connection: a server that does not answer at all (frozen, cut off) runs no statement timeout.
# Default: the statement timeout and 2 s, so the server's own cancel normally comes first.
DATABASE_QUERY_TIMEOUT = env_float(
    "DATABASE_QUERY_TIMEOUT", DATABASE_STATEMENT_TIMEOUT_MS / 1000 + 2 if DATABASE_STATEMENT_TIMEOUT_MS else 0
)
# A transaction-mode pooler in front (PgBouncer, Neon's -pooler host).
DATABASE_POOLED = env_bool("DATABASE_POOLED", False)

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with the pooled connections' waits bounded (core/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "core.postgresql"
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    # The web process (gunicorn.conf.py) sets a pool size: its gevent workers serve many
    # requests at once, each of which would otherwise keep a connection of its own. Each worker
    # opens the pool's connections when it starts (gunicorn.conf.py, post_worker_init) and
    # checks one before lending it, replacing one found closed; at most that many requests of a
    # worker use the database at once (core.middleware.DatabaseTurns), so a request waits for a
    # connection only while the pool reconnects: after DATABASE_POOL_TIMEOUT it is a 503, as
    # when PostgreSQL is down.
    if DATABASE_POOL_SIZE:
        _db_options["pool"] = {
            "min_size": DATABASE_POOL_SIZE,
            "max_size": DATABASE_POOL_SIZE,
            "timeout": env_float("DATABASE_POOL_TIMEOUT", 0.5),
            # A failed connection attempt is not retried in the background with growing pauses
            # (1, 2, 4 s...): the next request that needs one tries again, so the API is back
            # as soon as PostgreSQL is.
            "reconnect_timeout": 0,
        }
    # A database that does not answer fails the request quickly instead of hanging a worker.
    _db_options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
    # A connection whose peer is gone without a word (a host lost, a network cut) is noticed
    # by the kernel within about 30 s even while no query runs on it.
    _db_options.setdefault("keepalives", 1)
    _db_options.setdefault("keepalives_idle", 15)
    _db_options.setdefault("keepalives_interval", 5)
    _db_options.setdefault("keepalives_count", 3)
    if DATABASE_POOLED:
        # A transaction-mode pooler hands each transaction to any server connection: cursors
        # and session settings do not survive it, and it refuses startup options. The statement
        # timeout is then the role's setting, which each web worker checks when it starts
        # (docs/deployment.md, "Neon"); DATABASE_QUERY_TIMEOUT bounds the wait either way.
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    elif DATABASE_STATEMENT_TIMEOUT_MS:
        _db_options.setdefault("options", f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}")
    # No prepared statements (Django's default): after five runs PostgreSQL may switch a
    # prepared statement to a generic plan, and the generic plan of a list page reads and sorts
    # all of a heavy user's tasks (bench/README.md, "Tried and turned off").

# The cache every process shares: throttle counters and the fetched JWKS. Redis when
# REDIS_URL is set, otherwise a table in the database (made by migrate), never one
# process's memory, so several instances keep one budget per user.
if REDIS_URL := env_str("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that does not answer costs each cache operation a second (no retry): a request
            # makes one, its throttle, which then lets it through (tests/test_redis_outage.py:
            # 1.05-1.12 s with Redis frozen); one that must also read the shared JWKS, a second more.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "api_cache",
            # Django's default of 300 entries would cull live throttle counters.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# ---------------------------------------------------------------------------
# Authentication (Better Auth)
# ---------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"

BETTER_AUTH_SECRET = env_str("BETTER_AUTH_SECRET")
# Development's default; production refuses to start without it (see below).
BETTER_AUTH_URL = (env_str("BETTER_AUTH_URL") or "http://localhost:3000").rstrip("/")
origin(BETTER_AUTH_URL)  # refuses a relative URL at start-up


def _algorithms(name: str, supported: set[str]) -> list[str] | None:
    """A comma-separated list of algorithms; set but empty turns that kind of token off."""
    if name not in os.environ:
        return None
    algorithms = env_list(name)
    if unknown := [a for a in algorithms if a not in supported]:
        raise ImproperlyConfigured(f"{name} may list only {', '.join(sorted(supported))}; got {', '.join(unknown)}.")
    return algorithms


def _static_jwks(name: str) -> dict | None:
    import json

    raw = env_str(name)
    if not raw:
        return None
    try:
        jwks = json.loads(raw)
    except ValueError:
        jwks = None
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ImproperlyConfigured(f'{name} must be a JSON Web Key Set: {{"keys": [...]}}.')
    return jwks


def _http_url(name: str) -> str | None:
    url = env_str(name)
    if url and urlsplit(url).scheme not in {"http", "https"}:
        raise ImproperlyConfigured(f"{name} must be an http(s) URL, got {url!r}.")
    return url or None


def _set_or_none(name: str, read):
    """`read(name)` when the variable is set (even empty), else None."""
    return read(name) if name in os.environ else None


# Only what the environment sets, under the same names with BETTER_AUTH_ in front; every
# default (and what each setting means) is in accounts/settings.py.
BETTER_AUTH = {
    name: value
    for name, value in {
        "HS_ALGORITHMS": _algorithms("BETTER_AUTH_HS_ALGORITHMS", {"HS256", "HS384", "HS512"}),
        "JWKS_ALGORITHMS": _algorithms(
            "BETTER_AUTH_JWKS_ALGORITHMS",
            {"EdDSA", "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"},
        ),
        "JWKS_URL": _http_url("BETTER_AUTH_JWKS_URL"),
        "JWKS": _static_jwks("BETTER_AUTH_JWKS"),
        "JWKS_CACHE_SECONDS": env_int("BETTER_AUTH_JWKS_CACHE_SECONDS", None),
        "JWKS_REFETCH_COOLDOWN_SECONDS": env_int("BETTER_AUTH_JWKS_REFETCH_COOLDOWN_SECONDS", None),
        "JWKS_TIMEOUT_SECONDS": env_int("BETTER_AUTH_JWKS_TIMEOUT_SECONDS", None),
        # An empty issuer or audience turns that check off (for frontends whose custom sign hook
        # leaves the claims out).
        "ISSUER": _set_or_none("BETTER_AUTH_ISSUER", env_str),
        "AUDIENCE": _set_or_none("BETTER_AUTH_AUDIENCE", env_list),
        "LEEWAY_SECONDS": env_int("BETTER_AUTH_LEEWAY_SECONDS", None),
        "USER_CACHE_SECONDS": env_int("BETTER_AUTH_USER_CACHE_SECONDS", None),
        "TOKEN_CACHE_SECONDS": env_int("BETTER_AUTH_TOKEN_CACHE_SECONDS", None),
    }.items()
    if value is not None
}

# ---------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.BetterAuthAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON, byte for byte, from orjson (core/renderers.py).
    "DEFAULT_RENDERER_CLASSES": ["core.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.ApiPagination",
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.UserReadThrottle",
        "core.throttling.UserWriteThrottle",
        "core.throttling.AnonymousThrottle",
    ],
    # Requests per user (reads, writes) and per client address (no valid token); see README.
    "DEFAULT_THROTTLE_RATES": {
        "read": env_rate("THROTTLE_READ_RATE", "600/min"),
        "write": env_rate("THROTTLE_WRITE_RATE", "120/min"),
        "anon": env_rate("THROTTLE_ANON_RATE", "60/min"),
    },
    # The client address is the one this many proxies in front of the app saw (X-Forwarded-For);
    # 0 trusts no proxy and uses the connection's address.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
    "DEFAULT_SCHEMA_CLASS": "core.openapi.ApiAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# OpenAPI 3 at /api/schema/, Swagger UI at /api/docs/, ReDoc at /api/redoc/ (assets served locally).
SPECTACULAR_SETTINGS = {
    "TITLE": "Todo API",
    "DESCRIPTION": (
        "Tasks for users signed in with Better Auth. Send the Better Auth JWT as "
        "`Authorization: Bearer <token>`. Every error is JSON in the `Error` shape. Every answer to a "
        "request with credentials carries `Cache-Control: private, no-cache`: no shared cache keeps it, "
        "and a browser revalidates it with its `ETag`."
    ),
    "VERSION": __import__("todo_project").__version__,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Create/replace bodies and patch bodies are different components (PatchedTaskRequest).
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"Priority": ["none", "low", "medium", "high"]},
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.openapi.postprocess_schema",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A token typed into "Authorize" is forgotten with the page, never kept in localStorage,
    # where any script of this origin could read it.
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": False},
}
# Whether /api/schema/, /api/docs/ and /api/redoc/ are served (else a 404): on by default in
# development only. The document says nothing secret, but each viewer is a page of this origin.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", DEBUG)

# Larger request bodies are refused (413) before they are read; a task is well under 4 KiB.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 64 * 1024)
# A request body is read whole before authentication; one that has not arrived this long after
# its headers is a 408 and the connection is closed (a client trickling bytes holds nothing long).
API_BODY_TIMEOUT_SECONDS = env_int("API_BODY_TIMEOUT_SECONDS", 10)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

# Per-user limits against abuse; over them a write is a 409 and nothing is stored.
TASKS = {
    "MAX_TASKS_PER_USER": env_int("TASKS_MAX_PER_USER", 10_000),
    "MAX_TAGS_PER_USER": env_int("TASKS_MAX_TAGS_PER_USER", 500),
    "MAX_LISTS_PER_USER": env_int("LISTS_MAX_PER_USER", 100),
}

# The change feed (/api/changes) reports deletions this long; `manage.py purge_tombstones`
# removes older ones, and a cursor from before them is a 410 cursor_expired (a full resync).
SYNC_TOMBSTONE_DAYS = env_int("SYNC_TOMBSTONE_DAYS", 30)
# With Redis, an unchanged poll of /api/changes is answered from each user's latest change kept
# there this long (core.changes); an announcement Redis missed delays a change at most this long.
SYNC_HINT_SECONDS = env_int("SYNC_HINT_SECONDS", 30)

# The apps' readings of a failure, applied by the core's error handler in this order (each takes
# the exception and the request, and returns the exception to answer).
API_EXCEPTION_TRANSLATORS = ["accounts.authentication.account_deleted_instead_of"]

# simplejwt supplies the Authorization header parsing; Better Auth issues the tokens.
SIMPLE_JWT = {
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# ---------------------------------------------------------------------------
# Security
# ---------------------------------------------------------------------------

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "http://localhost:3000" if DEBUG else "")
# Origins not known in advance (preview deployments), as anchored regexes separated by spaces.
CORS_ALLOWED_ORIGIN_REGEXES = env_origin_regexes("CORS_ALLOWED_ORIGIN_REGEXES")
CORS_ALLOW_HEADERS = [
    "authorization",
    "content-type",
    "if-match",
    "if-none-match",
    "idempotency-key",
    "x-request-id",
]
CORS_EXPOSE_HEADERS = ["ETag", "Location", "Retry-After", "X-Total-Count", "Link", "X-Request-ID"]
CORS_URLS_REGEX = r"^/api/.*$"

# HTTPS. The platform's proxy terminates TLS and says so in X-Forwarded-Proto; trust that
# header only behind such a proxy. Each switch defaults to on in production, off with DEBUG.
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
# The platform's probes reach the instance's own port over plain HTTP and follow no redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$"]
# Django's defaults, stated because check --deploy and the README rely on them.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Origins allowed to post the admin's forms when they differ from the host (e.g. a second domain).
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# Failed admin sign-ins allowed per client address and per username in each window; past that,
# sign-ins from that address or for that username are refused until the window ends.
ADMIN_LOGIN_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", 5)
ADMIN_LOGIN_WINDOW_SECONDS = env_int("ADMIN_LOGIN_WINDOW_SECONDS", 15 * 60)

# Operators' admin passwords; API users have none.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

MINIMUM_SECRET_LENGTH = 32
# Distinct characters a secret must hold: 32 times "a" is as long as a random secret but is
# guessed at once. A random secret of 32 characters holds about 14 (hex) to 27 (base64).
MINIMUM_SECRET_VARIETY = 8


def unsafe_production_settings() -> list[str]:
    """What stops this configuration from running with DEBUG off, one sentence each."""
    problems = []
    if SECRET_KEY == INSECURE_SECRET_KEY:
        problems.append("DJANGO_SECRET_KEY is not set (the development default is public).")
    auth = {**BETTER_AUTH_DEFAULTS, **BETTER_AUTH}
    if not auth["HS_ALGORITHMS"] and not auth["JWKS_ALGORITHMS"]:
        problems.append(
            "BETTER_AUTH_HS_ALGORITHMS and BETTER_AUTH_JWKS_ALGORITHMS are both empty (no token could be verified)."
        )
    if auth["HS_ALGORITHMS"] and not BETTER_AUTH_SECRET:
        problems.append(
            "BETTER_AUTH_SECRET is not set (shared-secret tokens could not be verified; "
            "set BETTER_AUTH_HS_ALGORITHMS empty for JWKS-only)."
        )
    elif auth["HS_ALGORITHMS"] and len(BETTER_AUTH_SECRET) < MINIMUM_SECRET_LENGTH:
        problems.append(f"BETTER_AUTH_SECRET is shorter than {MINIMUM_SECRET_LENGTH} characters.")
    elif auth["HS_ALGORITHMS"] and len(set(BETTER_AUTH_SECRET)) < MINIMUM_SECRET_VARIETY:
        problems.append(
            f"BETTER_AUTH_SECRET has fewer than {MINIMUM_SECRET_VARIETY} distinct characters "
            "(make a random one, e.g. with `openssl rand -base64 32`)."
        )
    if not ALLOWED_HOSTS:
        problems.append("DJANGO_ALLOWED_HOSTS is empty (no request would be served).")
    # Defaults that suit a laptop and would fail quietly in production.
    shared_secret_only = "BETTER_AUTH_JWKS_ALGORITHMS" in os.environ and not auth["JWKS_ALGORITHMS"]
    if not env_str("BETTER_AUTH_URL") and not auth["JWKS"] and not shared_secret_only:
        problems.append(
            "BETTER_AUTH_URL is not set (tokens would be checked against http://localhost:3000; without a Better "
            "Auth server, set BETTER_AUTH_JWKS to its key set, or BETTER_AUTH_JWKS_ALGORITHMS empty for "
            "shared-secret tokens only)."
        )
    if not env_str("DATABASE_URL"):
        problems.append(
            "DATABASE_URL is not set (the data would go to a SQLite file in the container; "
            "name one explicitly with sqlite:///path to mean it)."
        )
    if env_str("BETTER_AUTH_URL") and "CORS_ALLOWED_ORIGINS" not in os.environ and not CORS_ALLOWED_ORIGIN_REGEXES:
        problems.append(
            "CORS_ALLOWED_ORIGINS is not set (browsers on the frontend at BETTER_AUTH_URL could not call the API; "
            "set it to the frontend's origin, or empty when only servers call the API)."
        )
    return problems


# What check --deploy reports (core/checks.py); with DEBUG off they stop the start.
PRODUCTION_PROBLEMS = unsafe_production_settings()

if not DEBUG and (problems := PRODUCTION_PROBLEMS):
    # One line: manage.py and the WSGI module print it as it is, without a traceback.
    raise ImproperlyConfigured(
        "Refusing to start with DJANGO_DEBUG off: "
        + " ".join(problems)
        + " Set these variables (see .env.example), or DJANGO_DEBUG=true for local development."
    )

# ---------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------

# One JSON object a line in production (LOG_FORMAT=json), readable lines in development.
# Every record made while a request runs carries its request id.
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, got {LOG_FORMAT!r}.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "core.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {
        # Every 4xx is already answered as JSON; a warning per rejected request is noise.
        "django.request": {"level": "ERROR"},
        # runserver's own access line repeats the request log's.
        "django.server": {"level": "WARNING"},
    },
}
