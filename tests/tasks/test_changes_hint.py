"""With Redis, an unchanged poll of /api/changes is answered from the user's latest change kept
there (core.changes), and a write's commit moves it on. Real commits: the announcement is sent
when the write's transaction commits."""

import time
import uuid

import pytest
import redis
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import changes, throttling
from tests.tasks.test_changes import Replica

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_cache(settings, monkeypatch):
    """Redis as the cache, under keys of this test's own (tests run side by side, their users'
    ids alike), and not left alone for an earlier test's failing Redis in this process."""
    monkeypatch.setattr(throttling, "_cache_failed_at", float("-inf"))
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield
    store = redis.Redis.from_url(REDIS_URL)
    for key in store.scan_iter(f"{prefix}:*"):
        store.delete(key)


def poll(replica: Replica) -> tuple[list[int], int]:
    """The tasks changed since the replica's cursor, and how many statements the poll ran on the
    feed's tables (the caller's own row may be read to authenticate them, as on every route)."""
    with CaptureQueriesContext(connection) as queries:
        ids, _ = replica.changes()
    return ids, sum("accounts_user" not in query["sql"] for query in queries)


def test_an_unchanged_poll_reads_no_database(redis_cache, alice_client):
    alice_client.post("/api/tasks", {"title": "Buy milk"}, format="json")
    replica = Replica(alice_client)
    replica.sync()
    assert poll(replica) == ([], 0)


def test_a_write_moves_the_hint_on_and_the_next_poll_has_it(redis_cache, alice_client):
    replica = Replica(alice_client)
    replica.sync()
    task = alice_client.post("/api/tasks", {"title": "Buy milk"}, format="json").json()
    ids, statements = poll(replica)
    assert ids == [task["id"]] and statements > 0
    assert poll(replica) == ([], 0)


def test_a_lost_announcement_delays_a_change_by_the_hint_lifetime_and_never_skips_it(
    redis_cache, alice, alice_client, settings, monkeypatch
):
    # (A context for the lost announcement: undoing the whole monkeypatch would also undo the
    # fixture's, and bring back an earlier test's failing Redis.)
    settings.SYNC_HINT_SECONDS = 60
    replica = Replica(alice_client)
    replica.sync()
    # Redis does not hear of this write's commit.
    with monkeypatch.context() as lost:
        lost.setattr(changes, "_announce", lambda user_pk, seq: None)
        task = alice_client.post("/api/tasks", {"title": "Buy milk"}, format="json").json()
    assert poll(replica) == ([], 0)  # the hint still says the number before it...
    store = redis.Redis.from_url(REDIS_URL)
    key = changes._hint_key(caches["default"], alice.pk)
    assert 0 < store.ttl(key) <= settings.SYNC_HINT_SECONDS  # ...for SYNC_HINT_SECONDS at most
    store.pexpire(key, 1)  # that long later
    time.sleep(0.05)
    assert poll(replica)[0] == [task["id"]]


def test_a_late_announcement_of_an_older_change_does_not_move_the_hint_back(redis_cache, alice, alice_client):
    alice_client.post("/api/tasks", {"title": "one"}, format="json")
    alice_client.post("/api/tasks", {"title": "two"}, format="json")
    latest = changes._announced(alice.pk)
    changes._announce(alice.pk, latest - 1)
    assert changes._announced(alice.pk) == latest


def test_without_redis_answering_polls_read_the_database_and_stay_right(alice_client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    caches["default"].close()
    replica = Replica(alice_client)
    replica.sync()
    task = alice_client.post("/api/tasks", {"title": "Buy milk"}, format="json").json()
    ids, statements = poll(replica)
    assert ids == [task["id"]] and statements > 0
    assert poll(replica)[0] == []


def redis_commands(monkeypatch) -> list[str]:
    """The commands this process sends Redis from now on, by name."""
    sent = []
    real_execute = redis.Redis.execute_command
    monkeypatch.setattr(
        redis.Redis, "execute_command", lambda self, *a, **k: sent.append(a[0]) or real_execute(self, *a, **k)
    )
    return sent


def commands_of_an_unchanged_poll(client, monkeypatch) -> list[str]:
    """The Redis commands a poll that finds nothing new sends, by name."""
    client.post("/api/tasks", {"title": "Buy milk"}, format="json")
    replica = Replica(client)
    replica.sync()
    with monkeypatch.context() as patched:
        sent = redis_commands(patched)
        assert poll(replica) == ([], 0)
    return sent


def test_an_unchanged_poll_reads_the_hint_in_its_throttles_round_trip(redis_cache, alice_client, monkeypatch):
    # The read budget's count, the hint read beside it.
    assert commands_of_an_unchanged_poll(alice_client, monkeypatch) == ["EVALSHA"]


def test_with_the_read_budget_off_a_poll_reads_the_hint_itself(redis_cache, alice_client, settings, monkeypatch):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "read": None},
    }
    assert commands_of_an_unchanged_poll(alice_client, monkeypatch) == ["GET"]
