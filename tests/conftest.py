import os

import pytest
from django.core.cache import caches
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.user_cache import recent_tokens, recent_users
from tests.auth import ALICE_ID, BOB_ID, ORIGIN, SECRET, client_for


def utf8_safe(text: str) -> str:
    """`text` with lone surrogates written as `\\udXXX` escapes, so it encodes as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report):
    """A parallel worker sends each report to the main process as UTF-8, which a lone surrogate
    cannot be, and the worker dies. Tests feed such text to the API (whose log lines echo it, and
    assertion messages quote it), so the captured output and any failure text are escaped first."""
    report.sections = [(title, utf8_safe(text)) for title, text in report.sections]
    if report.longrepr is not None and utf8_safe(text := str(report.longrepr)) != text:
        report.longrepr = utf8_safe(text)


# A developer's .env must not change what the suite sees: settings skip it in this process, and
# the processes tests start (manage.py, gunicorn) read none unless a test names one.
os.environ["DOTENV_FILE"] = ""


@pytest.fixture(autouse=True)
def better_auth_settings(settings):
    """Pins the auth settings, whatever the environment running the suite says, and starts
    each test with empty token and user memories (a test that leaves them on with the defaults
    would otherwise hand its verified tokens to the next test in the process)."""
    recent_tokens.clear()
    recent_users.clear()
    settings.BETTER_AUTH_SECRET = SECRET
    # What differs from accounts.settings.DEFAULTS: the test issuer's URLs, and the memories off.
    settings.BETTER_AUTH = {
        "JWKS_URL": f"{ORIGIN}/api/auth/jwks",
        "ISSUER": ORIGIN,
        "AUDIENCE": [ORIGIN],
        # Off, so every test sees the user row as it is and verifies every token;
        # tests/accounts/test_user_cache.py and test_token_cache.py turn them on.
        "USER_CACHE_SECONDS": 0,
        "TOKEN_CACHE_SECONDS": 0,
    }
    return settings


@pytest.fixture
def memories_on(better_auth_settings):
    """Turns on the per-process memories of tokens and users that the suite keeps off:
    `memories_on(user_seconds=..., token_seconds=...)`; each starts and ends empty."""

    def turn_on(*, user_seconds: int = 30, token_seconds: int = 600) -> None:
        better_auth_settings.BETTER_AUTH = {
            **better_auth_settings.BETTER_AUTH,
            "USER_CACHE_SECONDS": user_seconds,
            "TOKEN_CACHE_SECONDS": token_seconds,
        }

    recent_tokens.clear()
    recent_users.clear()
    yield turn_on
    recent_tokens.clear()
    recent_users.clear()


@pytest.fixture(autouse=True)
def private_cache_and_generous_throttles(settings):
    """Each test starts with an empty in-process cache and budgets it cannot spend.

    Throttle tests set their own small rates and, where they need it, the shared backends.
    """
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
    caches["default"].clear()
    rates = {"read": "100000/min", "write": "100000/min", "anon": "100000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Operators' passwords hashed cheaply: PBKDF2's million rounds cost about half a second of
    CPU per admin test, and no test is about the hash's strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def static_files_from_the_apps(settings):
    """Serves static files from the apps, as development does: collectstatic is a build step."""
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    settings.STORAGES = {**settings.STORAGES, "staticfiles": plain}
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture
def alice(db) -> User:
    """An API user the API saw moments ago, so her requests cost no last-seen write (so does Bob)."""
    return User.objects.create(
        better_auth_id=ALICE_ID, email="alice@example.com", name="Alice", last_seen_at=timezone.now()
    )


@pytest.fixture
def bob(db) -> User:
    return User.objects.create(better_auth_id=BOB_ID, email="bob@example.com", name="Bob", last_seen_at=timezone.now())


@pytest.fixture
def alice_client(alice) -> APIClient:
    return client_for(alice)


@pytest.fixture
def bob_client(bob) -> APIClient:
    return client_for(bob)


# The longest tests, started first so that the parallel workers finish together rather than one
# of them running a half-minute test alone at the end.
LONGEST_FIRST = ("tests/test_bench_smoke.py", "tests/test_database_outage.py", "tests/test_fuzz.py")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: not item.nodeid.startswith(LONGEST_FIRST))


@pytest.fixture(autouse=True)
def api_docs_public(settings):
    """The suite reads the served OpenAPI document; production serves it only when told to."""
    settings.API_DOCS_PUBLIC = True
