"""Each process remembers the tokens it verified for TOKEN_CACHE_SECONDS, never past their expiry."""

import time
import tracemalloc

import pytest

from accounts import tokens
from accounts.settings import auth_settings
from accounts.user_cache import RecentTokens
from tests.auth import ALICE_ID, claims_for, client_with_token, sign

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingVerify:
    def __init__(self, claims=None, error: Exception | None = None):
        self.calls, self.claims, self.error = 0, claims, error

    def __call__(self, raw: bytes) -> dict:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return dict(self.claims)


@pytest.fixture
def cache_on(memories_on):
    memories_on(token_seconds=30)


@pytest.fixture
def clocks():
    return Clock(1000.0), Clock(time.time())


def test_a_remembered_token_is_not_verified_again(cache_on, clocks):
    monotonic, wall = clocks
    cache = RecentTokens(clock=monotonic, wall_clock=wall)
    verify = CountingVerify(claims_for(ALICE_ID))
    first = cache.claims_for(b"token", verify)
    monotonic.now += 29
    assert cache.claims_for(b"token", verify) == first
    assert verify.calls == 1
    monotonic.now += 2  # past TOKEN_CACHE_SECONDS
    cache.claims_for(b"token", verify)
    assert verify.calls == 2


def test_a_token_is_never_remembered_past_its_expiry(cache_on, clocks, better_auth_settings):
    monotonic, wall = clocks
    cache = RecentTokens(clock=monotonic, wall_clock=wall)
    leeway = auth_settings.LEEWAY_SECONDS
    verify = CountingVerify(claims_for(ALICE_ID, exp=int(wall.now) + 5 - leeway))  # 5 s of validity left
    cache.claims_for(b"token", verify)
    monotonic.now += 4
    cache.claims_for(b"token", verify)
    assert verify.calls == 1
    monotonic.now += 2
    cache.claims_for(b"token", verify)
    assert verify.calls == 2


def test_a_refused_token_is_not_remembered(cache_on, clocks):
    cache = RecentTokens(clock=clocks[0], wall_clock=clocks[1])
    verify = CountingVerify(error=tokens.TokenError("The token has expired.", "token_expired"))
    for _ in range(2):
        with pytest.raises(tokens.TokenError):
            cache.claims_for(b"token", verify)
    assert verify.calls == 2


def test_nothing_is_remembered_when_switched_off(better_auth_settings, clocks):
    cache = RecentTokens(clock=clocks[0], wall_clock=clocks[1])
    verify = CountingVerify(claims_for(ALICE_ID))
    cache.claims_for(b"token", verify)
    cache.claims_for(b"token", verify)
    assert verify.calls == 2


def test_each_caller_gets_its_own_copy_and_only_the_exact_token_matches(cache_on, clocks):
    cache = RecentTokens(clock=clocks[0], wall_clock=clocks[1])
    verify = CountingVerify(claims_for(ALICE_ID))
    cache.claims_for(b"token", verify)["sub"] = "someone else"
    assert cache.claims_for(b"token", verify)["sub"] == ALICE_ID
    cache.claims_for(b"token ", verify)
    assert verify.calls == 2


def test_it_forgets_the_stalest_token_when_full(cache_on, clocks):
    cache = RecentTokens(max_bytes=RecentTokens.cost(b"one") + 1, clock=clocks[0], wall_clock=clocks[1])
    verify = CountingVerify(claims_for(ALICE_ID))
    cache.claims_for(b"one", verify)
    cache.claims_for(b"two", verify)
    cache.claims_for(b"two", verify)
    assert verify.calls == 2
    cache.claims_for(b"one", verify)
    assert verify.calls == 3


def test_it_is_bounded_by_bytes_whatever_the_size_of_the_tokens(cache_on, clocks):
    """Bounded by count, 20,000 distinct 8 KB tokens held 270 MB of a worker's memory."""
    cache = RecentTokens(max_bytes=1_000_000, clock=clocks[0], wall_clock=clocks[1])
    claims = claims_for(ALICE_ID)
    tracemalloc.start()
    try:
        for i in range(2_000):
            raw = b"%08d" % i + b"x" * 8_000
            # Claims as large as their token: a long name, as a token's size is mostly claims.
            cache.claims_for(raw, lambda raw: {**claims, "name": raw.decode()})
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 1_500_000
    # The newest are the ones kept.
    verify = CountingVerify(claims)
    cache.claims_for(b"%08d" % 1_999 + b"x" * 8_000, verify)
    assert verify.calls == 0


def test_through_the_api_a_warm_request_skips_verification_but_not_refusals(alice, cache_on, monkeypatch):
    calls = []
    real_verify = tokens.BetterAuthTokenVerifier.verify
    monkeypatch.setattr(
        tokens.BetterAuthTokenVerifier, "verify", lambda self, raw: calls.append(raw) or real_verify(self, raw)
    )
    client = client_with_token(sign(claims_for(ALICE_ID, email=alice.email, name=alice.name)))
    assert client.get("/api/tasks").status_code == 200
    assert client.get("/api/tasks").status_code == 200
    assert len(calls) == 1
    forged = client_with_token(sign(claims_for(ALICE_ID, email=alice.email, name=alice.name), key="x" * 64))
    for _ in range(2):
        response = forged.get("/api/tasks")
        assert response.status_code == 401
        assert response.json()["code"] == "token_bad_signature"
    assert len(calls) == 3


def test_a_token_outlives_the_user_memory_by_its_own_setting(memories_on, clocks):
    """A signed token does not change, so it is remembered longer than its user's row."""
    memories_on(user_seconds=30, token_seconds=600)
    monotonic, wall = clocks
    cache = RecentTokens(clock=monotonic, wall_clock=wall)
    verify = CountingVerify(claims_for(ALICE_ID, exp=int(wall.now) + 3600))
    cache.claims_for(b"token", verify)
    monotonic.now += 599
    cache.claims_for(b"token", verify)
    assert verify.calls == 1
    monotonic.now += 2
    cache.claims_for(b"token", verify)
    assert verify.calls == 2
