"""Settings for the todo API, read from the environment (12-factor).

Every variable is documented in README.md and .env.example. Production behaviour is
switched by DJANGO_DEBUG, not by a second settings file.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


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


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    """A comma-separated variable as a list, blanks dropped."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


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
    "corsheaders",
    "accounts",
    "tasks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
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

# Next.js strips trailing slashes; every route accepts both forms, so never redirect.
APPEND_SLASH = False

# ---------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------
# Authentication (Better Auth)
# ---------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"

BETTER_AUTH_SECRET = env_str("BETTER_AUTH_SECRET")
BETTER_AUTH_URL = env_str("BETTER_AUTH_URL", "http://localhost:3000").rstrip("/")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ImproperlyConfigured(f"BETTER_AUTH_URL must be an absolute URL, got {url!r}.")
    return f"{parts.scheme}://{parts.netloc}"


def _algorithms(name: str, default: str, supported: set[str]) -> list[str]:
    algorithms = env_list(name, default)
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


def _http_url(name: str, default: str) -> str:
    url = env_str(name) or default
    if urlsplit(url).scheme not in {"http", "https"}:
        raise ImproperlyConfigured(f"{name} must be an http(s) URL, got {url!r}.")
    return url


# Better Auth sets iss and aud to the origin of its base URL. An empty variable turns the
# check off (for frontends whose custom sign hook leaves the claims out).
# Each mode can be switched off by setting its algorithm list to an empty value.
_better_auth_origin = _origin(BETTER_AUTH_URL)
BETTER_AUTH = {
    # Shared-secret tokens, checked with BETTER_AUTH_SECRET only.
    "HS_ALGORITHMS": _algorithms("BETTER_AUTH_HS_ALGORITHMS", "HS256,HS384,HS512", {"HS256", "HS384", "HS512"}),
    # Asymmetric tokens, checked with Better Auth's published keys only (its jwt() plugin's choices).
    "JWKS_ALGORITHMS": _algorithms(
        "BETTER_AUTH_JWKS_ALGORITHMS",
        "EdDSA,ES256,ES512,RS256,PS256",
        {"EdDSA", "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"},
    ),
    "JWKS_URL": _http_url("BETTER_AUTH_JWKS_URL", f"{BETTER_AUTH_URL}/api/auth/jwks"),
    # A key set given inline (JSON) replaces the URL, for deployments that cannot reach Better Auth.
    "JWKS": _static_jwks("BETTER_AUTH_JWKS"),
    "JWKS_CACHE_SECONDS": env_int("BETTER_AUTH_JWKS_CACHE_SECONDS", 600),
    # An unknown kid (a freshly rotated key) refetches at most this often.
    "JWKS_REFETCH_COOLDOWN_SECONDS": env_int("BETTER_AUTH_JWKS_REFETCH_COOLDOWN_SECONDS", 10),
    "JWKS_TIMEOUT_SECONDS": env_int("BETTER_AUTH_JWKS_TIMEOUT_SECONDS", 2),
    "JWKS_MAX_BYTES": 64 * 1024,
    # The Django cache that shares fetched keys between processes (Redis when CACHES says so).
    "JWKS_CACHE_ALIAS": "default",
    "ISSUER": env_str("BETTER_AUTH_ISSUER", _better_auth_origin),
    "AUDIENCE": env_list("BETTER_AUTH_AUDIENCE", _better_auth_origin),
    "LEEWAY_SECONDS": env_int("BETTER_AUTH_LEEWAY_SECONDS", 30),
    # Claims a token must carry; Better Auth always sets these three.
    "REQUIRED_CLAIMS": ["exp", "iat", "sub"],
}

# ---------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.BetterAuthAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "tasks.pagination.TaskPagination",
    "EXCEPTION_HANDLER": "todo_project.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Per-user limits against abuse; over them a write is a 409 and nothing is stored.
TASKS = {
    "MAX_TASKS_PER_USER": env_int("TASKS_MAX_PER_USER", 10_000),
    "MAX_TAGS_PER_USER": env_int("TASKS_MAX_TAGS_PER_USER", 500),
}

# simplejwt supplies the Authorization header parsing; Better Auth issues the tokens.
SIMPLE_JWT = {
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# ---------------------------------------------------------------------------
# Security
# ---------------------------------------------------------------------------

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "http://localhost:3000" if DEBUG else "")
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

MINIMUM_SECRET_LENGTH = 32


def unsafe_production_settings() -> list[str]:
    """What stops this configuration from running with DEBUG off, one reason a line."""
    problems = []
    if SECRET_KEY == INSECURE_SECRET_KEY:
        problems.append("DJANGO_SECRET_KEY is not set (the development default is public).")
    if not BETTER_AUTH["HS_ALGORITHMS"] and not BETTER_AUTH["JWKS_ALGORITHMS"]:
        problems.append("BETTER_AUTH_HS_ALGORITHMS and BETTER_AUTH_JWKS_ALGORITHMS are both empty (no token could be verified).")
    if BETTER_AUTH["HS_ALGORITHMS"] and not BETTER_AUTH_SECRET:
        problems.append(
            "BETTER_AUTH_SECRET is not set (shared-secret tokens could not be verified; "
            "set BETTER_AUTH_HS_ALGORITHMS empty for JWKS-only)."
        )
    elif BETTER_AUTH["HS_ALGORITHMS"] and len(BETTER_AUTH_SECRET) < MINIMUM_SECRET_LENGTH:
        problems.append(f"BETTER_AUTH_SECRET is shorter than {MINIMUM_SECRET_LENGTH} characters.")
    if not ALLOWED_HOSTS:
        problems.append("DJANGO_ALLOWED_HOSTS is empty (no request would be served).")
    return problems


if not DEBUG and (problems := unsafe_production_settings()):
    raise ImproperlyConfigured(
        "Refusing to start with DJANGO_DEBUG off:\n  - "
        + "\n  - ".join(problems)
        + "\nSet these variables (see .env.example), or set DJANGO_DEBUG=true for local development."
    )

# ---------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {
        # Every 4xx is already answered as JSON; a warning per rejected request is noise.
        "django.request": {"level": "ERROR"},
    },
}
