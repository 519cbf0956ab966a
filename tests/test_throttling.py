"""Per-user budgets for reads and writes, per-address ones without a valid token; 429 with Retry-After."""

import hashlib
import socket
import uuid
import warnings

import pytest
from django.core.cache import caches
from django.core.cache.backends.base import CacheKeyWarning
from django.core.management import call_command
from django.db import connection
from jwt.utils import base64url_encode
from redis.client import Pipeline, Redis

from accounts.tokens import MAX_SUBJECT_LENGTH
from core.throttling import window_count
from tests.auth import claims_for, client_with_token, sign


@pytest.fixture
def rates(settings):
    """Sets small budgets for this test; the others run with generous ones."""

    def set_rates(read="100/day", write="100/day", anon="100/day", **api):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"read": read, "write": write, "anon": anon},
            **api,
        }

    return set_rates


def test_a_user_over_the_read_budget_gets_a_json_429_with_retry_after(alice_client, rates):
    rates(read="3/day")
    assert [alice_client.get("/api/tasks").status_code for _ in range(3)] == [200] * 3
    response = alice_client.get("/api/tasks")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 86400


def test_writes_have_their_own_budget(alice_client, rates):
    rates(read="1/day", write="2/day")
    alice_client.get("/api/tasks")
    assert alice_client.get("/api/tasks").status_code == 429
    assert [alice_client.post("/api/tasks", {"title": "x"}).status_code for _ in range(3)] == [201, 201, 429]


def test_a_throttled_write_stores_nothing(alice_client, alice, rates):
    rates(write="1/day")
    alice_client.post("/api/tasks", {"title": "first"})
    assert alice_client.post("/api/tasks", {"title": "second"}).status_code == 429
    assert list(alice.tasks.values_list("title", flat=True)) == ["first"]


def test_one_users_budget_does_not_spend_anothers(alice_client, bob_client, rates):
    rates(read="1/day")
    alice_client.get("/api/tasks")
    assert alice_client.get("/api/tasks").status_code == 429
    assert bob_client.get("/api/tasks").status_code == 200


def test_requests_without_a_valid_token_are_throttled_by_address(client, db, rates):
    rates(anon="2/day")
    bad = client_with_token("not-a-token")
    assert [bad.get("/api/tasks").status_code for _ in range(2)] == [401, 401]
    assert client.get("/api/tasks").status_code == 429
    assert bad.get("/api/tasks", REMOTE_ADDR="10.0.0.2").status_code == 401


def test_a_flood_of_deeply_nested_tokens_is_refused_then_throttled(client, db, rates):
    rates(anon="3/day")
    nested = base64url_encode(b"[" * 2500).decode() + ".e30.x"
    statuses = [client_with_token(nested).get("/api/tasks").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    response = client_with_token(nested).get("/api/tasks")
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 86400


def test_signed_in_users_do_not_spend_the_address_budget(alice_client, client, db, rates):
    rates(anon="1/day")
    for _ in range(3):
        assert alice_client.get("/api/tasks").status_code == 200
    assert client.get("/api/tasks").status_code == 401


def test_a_spoofed_forwarded_for_does_not_escape_the_budget_without_proxies(client, db, rates):
    rates(anon="1/day", NUM_PROXIES=0)
    client.get("/api/tasks", HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert client.get("/api/tasks", HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429


def test_behind_one_proxy_the_address_it_saw_is_the_client(client, db, rates):
    rates(anon="1/day", NUM_PROXIES=1)
    client.get("/api/tasks", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.1.1.1")
    assert client.get("/api/tasks", HTTP_X_FORWARDED_FOR="6.6.6.6, 2.2.2.2").status_code == 401
    assert client.get("/api/tasks", HTTP_X_FORWARDED_FOR="7.7.7.7, 1.1.1.1").status_code == 429


def test_health_checks_are_never_throttled(client, db, rates):
    rates(read="1/day", anon="1/day")
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200


def test_counters_live_in_the_database_without_redis(alice_client, rates, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "api_cache"}}
    caches["default"].clear()
    rates(read="2/day")
    assert [alice_client.get("/api/tasks").status_code for _ in range(3)] == [200, 200, 429]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM api_cache WHERE cache_key LIKE %s", ["%throttle:read:%"])
        assert cursor.fetchone()[0] == 1


@pytest.fixture
def database_cache(settings, db):
    """The cache production uses without Redis, in a table this test creates."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "throttle_test_cache"}
    }
    call_command("createcachetable", verbosity=0)
    caches["default"].clear()
    # A key too long for the table makes the throttle fail open: it must never get one.
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(length(cache_key)) FROM throttle_test_cache")
        assert cursor.fetchone()[0] <= 250


def test_a_user_with_the_longest_subject_is_still_limited(database_cache, rates):
    longest = "L" * MAX_SUBJECT_LENGTH
    client = client_with_token(sign(claims_for(longest)))
    rates(read="2/day")
    assert [client.get("/api/tasks").status_code for _ in range(3)] == [200, 200, 429]


def test_a_subject_past_the_longest_is_limited_by_address(database_cache, rates):
    client = client_with_token(sign(claims_for("L" * 300)))
    rates(anon="2/day")
    assert [client.get("/api/tasks").status_code for _ in range(3)] == [401, 401, 429]


def test_a_long_forwarded_address_is_still_limited(database_cache, client, rates):
    rates(anon="2/day", NUM_PROXIES=1)
    address = "6.6.6.6, " + "f" * 300
    assert [client.get("/api/tasks", HTTP_X_FORWARDED_FOR=address).status_code for _ in range(3)] == [401, 401, 429]


def redis_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not redis_answers(), reason="needs Redis on 127.0.0.1:6379")
def test_counters_live_in_redis_when_it_is_configured(alice_client, rates, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": f"tests-{uuid.uuid4().hex}",  # a Redis others may share
        }
    }
    rates(read="2/day")
    assert [alice_client.get("/api/tasks").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.skipif(not redis_answers(), reason="needs Redis on 127.0.0.1:6379")
def test_a_redis_counter_costs_one_round_trip_and_expires_with_its_window(
    alice_client, alice, rates, settings, monkeypatch
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": (prefix := f"tests-{uuid.uuid4().hex}"),
        }
    }
    rates(read="100/min")
    assert alice_client.get("/api/tasks").status_code == 200  # loads the script into this Redis if new
    sent = []
    real_execute = Redis.execute_command
    monkeypatch.setattr(
        Redis, "execute_command", lambda self, *a, **k: sent.append(a[0]) or real_execute(self, *a, **k)
    )
    monkeypatch.setattr(Pipeline, "execute", lambda self, *a: sent.append("pipeline"))
    assert [alice_client.get("/api/tasks").status_code for _ in range(2)] == [200, 200]
    assert sent == ["EVALSHA", "EVALSHA"]
    monkeypatch.undo()
    cache = caches["default"]
    identity = hashlib.sha256(alice.better_auth_id.encode()).hexdigest()[:32]
    [key] = cache._cache.get_client().keys(f"{prefix}:*:throttle:read:{identity}:*")
    assert cache.get(key.decode().split(":", 2)[2]) == 3
    assert 0 < cache._cache.get_client().ttl(key) <= 61


@pytest.mark.skipif(not redis_answers(), reason="needs Redis on 127.0.0.1:6379")
def test_a_count_brings_back_the_keys_it_peeks_at_in_their_order(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": f"tests-{uuid.uuid4().hex}",
        }
    }
    cache = caches["default"]
    cache.set("first", 7)
    cache.set("third", 9)
    try:
        assert window_count("counter", timeout=60, peek=["first", "second", "third"]) == (1, [b"7", None, b"9"])
        assert window_count("counter", timeout=60, peek=["second"]) == (2, [None])
        assert window_count("counter", timeout=60) == (3, [])
    finally:
        cache.delete_many(["counter", "first", "third"])


def test_an_unreachable_cache_lets_requests_through(alice_client, rates, settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    rates(read="1/day")
    assert [alice_client.get("/api/tasks").status_code for _ in range(3)] == [200] * 3
