"""Each process remembers a token's user for a few seconds: no user query on a warm request,
and an operator's deactivation still takes effect within USER_CACHE_SECONDS."""

import pytest

from accounts.models import User
from accounts.user_cache import RecentUsers, recent_users
from tests.auth import ALICE_ID, claims_for

pytestmark = pytest.mark.django_db


class Clock:
    """A clock the test moves by hand, so nothing sleeps."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cache_on(memories_on):
    memories_on(token_seconds=0)  # every request verifies its token: these tests are about users


@pytest.fixture
def users(cache_on) -> tuple[RecentUsers, Clock]:
    clock = Clock()
    return RecentUsers(clock=clock), clock


def alices_claims(alice, **overrides):
    return claims_for(ALICE_ID, **{"email": alice.email, "name": alice.name, **overrides})


def test_a_warm_request_reads_no_user_row(alice, users, django_assert_num_queries):
    cache, _ = users
    cache.user_for(alices_claims(alice))
    with django_assert_num_queries(0):
        user = cache.user_for(alices_claims(alice))
    assert (user.pk, user.better_auth_id, user.email, user.name, user.is_active) == (
        alice.pk,
        ALICE_ID,
        alice.email,
        alice.name,
        True,
    )


def test_it_sees_a_deactivation_once_the_entry_expires(alice, users):
    cache, clock = users
    cache.user_for(alices_claims(alice))
    User.objects.filter(pk=alice.pk).update(is_active=False)
    clock.now += 29
    assert cache.user_for(alices_claims(alice)).is_active  # remembered, at most 30 s
    clock.now += 2
    assert not cache.user_for(alices_claims(alice)).is_active


def test_a_token_with_a_new_email_is_synced_at_once(alice, users):
    cache, _ = users
    cache.user_for(alices_claims(alice))
    user = cache.user_for(alices_claims(alice, email="alice@new.example"))
    assert user.email == "alice@new.example"
    alice.refresh_from_db()
    assert alice.email == "alice@new.example"


def test_it_hands_out_a_fresh_instance_each_time(alice, users):
    cache, _ = users
    cache.user_for(alices_claims(alice))
    first = cache.user_for(alices_claims(alice))
    first.name = "changed by one request"
    assert cache.user_for(alices_claims(alice)).name == alice.name


def test_it_forgets_the_stalest_user_when_full(alice, bob, cache_on, django_assert_num_queries):
    cache = RecentUsers(max_entries=1)
    cache.user_for(alices_claims(alice))
    cache.user_for(claims_for(bob.better_auth_id, email=bob.email, name=bob.name))
    with django_assert_num_queries(1):
        cache.user_for(alices_claims(alice))


def test_it_remembers_nothing_when_switched_off(alice, users, better_auth_settings, django_assert_num_queries):
    better_auth_settings.BETTER_AUTH = {**better_auth_settings.BETTER_AUTH, "USER_CACHE_SECONDS": 0}
    cache, _ = users
    cache.user_for(alices_claims(alice))
    with django_assert_num_queries(1):
        cache.user_for(alices_claims(alice))


def test_a_deactivated_user_is_refused_through_the_api_once_remembered_state_expires(alice, cache_on, monkeypatch):
    from tests.auth import client_for

    clock = Clock()
    monkeypatch.setattr(recent_users, "clock", clock)
    client = client_for(alice)
    assert client.get("/api/me").status_code == 200
    User.objects.filter(pk=alice.pk).update(is_active=False)
    clock.now += 31
    response = client.get("/api/me")
    assert response.status_code == 403
    assert response.json()["code"] == "account_disabled"


def test_a_remembered_user_has_every_field_in_its_place(alice, users):
    cache, _ = users
    cache.user_for(alices_claims(alice))
    user = cache.user_for(alices_claims(alice))
    for name in ("pk", "better_auth_id", "email", "name", "is_active", "last_seen_at", "username", "is_staff"):
        assert getattr(user, name) == getattr(User.objects.get(pk=alice.pk), name), name
