import pytest
from django.core.cache import caches

from accounts import jwks
from tests.accounts.fake_jwks import Clock, FakeJWKSHost


@pytest.fixture(autouse=True)
def no_real_jwks_fetches(monkeypatch):
    """Every test starts with no key cached, and fails if it fetches a JWKS it did not fake."""
    attempts = []

    def refuse(url, **options):
        attempts.append(url)
        raise jwks.JWKSFetchError("tests do not fetch real key sets")

    jwks._key_sets.clear()
    caches["default"].clear()
    monkeypatch.setattr(jwks, "fetch_jwks", refuse)
    yield
    jwks._key_sets.clear()
    assert not attempts, f"fetched a real JWKS: {attempts}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def jwks_host(monkeypatch, clock) -> FakeJWKSHost:
    """Better Auth's JWKS endpoint, publishing one EdDSA key ``key-1``, as the configured key set."""
    host = FakeJWKSHost()
    host.add_key("key-1", "EdDSA")
    monkeypatch.setattr(jwks, "fetch_jwks", host.fetch)
    jwks.key_set_from_settings().clock = clock
    return host
