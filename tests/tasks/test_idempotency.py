"""POST /api/tasks with an Idempotency-Key: a retry returns the first response and creates nothing."""

import io
import json
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from core.models import IdempotencyKey
from tasks.models import Task
from tasks.views import TaskViewSet
from tests.auth import ALICE_ID, client_for

BODY = {"title": "Buy milk", "tags": ["home"]}


def post(client, body=BODY, key="retry-me-1", path="/api/tasks"):
    return client.post(path, json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_returns_the_first_response_and_creates_nothing(alice_client):
    first = post(alice_client)
    retry = post(alice_client)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Location"] == first["Location"]
    assert retry["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Task.objects.count() == 1


def test_a_retry_on_the_phase_two_route_returns_the_first_response(alice_client):
    first = post(alice_client, path=f"/api/{ALICE_ID}/tasks")
    retry = post(alice_client, path=f"/api/{ALICE_ID}/tasks")
    assert retry.json() == first.json()
    assert retry["Location"] == first["Location"]
    assert Task.objects.count() == 1


def test_without_a_key_every_post_creates_a_task(alice_client):
    alice_client.post("/api/tasks", BODY)
    alice_client.post("/api/tasks", BODY)
    assert Task.objects.count() == 2


def test_keys_belong_to_one_user(alice_client, bob_client, alice, bob):
    alices = post(alice_client)
    bobs = post(bob_client)
    assert bobs.status_code == 201
    assert bobs.json()["id"] != alices.json()["id"]
    assert bobs.json()["user_id"] == bob.better_auth_id
    assert Task.objects.filter(owner=bob).count() == 1


def test_it_rejects_the_same_key_with_another_body_with_a_422(alice_client):
    post(alice_client)
    response = post(alice_client, {"title": "Buy bread"})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Task.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="without row locks, only a claim's age tells")
def test_without_row_locks_it_answers_409_to_a_retry_of_a_fresh_claim(alice_client, alice):
    IdempotencyKey.objects.create(owner=alice, key="retry-me-1", fingerprint=fingerprint_of(BODY))
    response = post(alice_client)
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_request_in_progress"
    assert response["Retry-After"] == "1"
    assert Task.objects.count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_with_row_locks_a_fresh_claim_nobody_holds_is_taken_over_at_once(alice_client, alice):
    IdempotencyKey.objects.create(owner=alice, key="retry-me-1", fingerprint=fingerprint_of(BODY))
    assert post(alice_client).status_code == 201
    assert Task.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_it_answers_409_to_a_retry_while_the_first_request_still_holds_the_key(alice):
    claim = IdempotencyKey.objects.create(owner=alice, key="retry-me-1", fingerprint=fingerprint_of(BODY))
    holding, release = threading.Event(), threading.Event()

    def first_request_still_running():
        with transaction.atomic():
            IdempotencyKey.objects.select_for_update().get(pk=claim.pk)
            holding.set()
            release.wait(timeout=10)
        connection.close()

    holder = threading.Thread(target=first_request_still_running)
    holder.start()
    holding.wait(timeout=10)
    try:
        response = post(client_for(alice))
    finally:
        release.set()
        holder.join()
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_request_in_progress"
    assert response["Retry-After"] == "1"
    assert Task.objects.count() == 0
    assert post(client_for(alice)).status_code == 201  # it died without answering: taken over


def test_a_claim_left_by_a_request_that_died_is_taken_over(alice_client, alice):
    long_ago = timezone.now() - timedelta(minutes=2)
    IdempotencyKey.objects.create(owner=alice, key="retry-me-1", fingerprint=fingerprint_of(BODY), created_at=long_ago)
    assert post(alice_client).status_code == 201
    assert Task.objects.count() == 1


def test_a_key_is_forgotten_after_24_hours(alice_client):
    post(alice_client)
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    response = post(alice_client, {"title": "Another day"})
    assert response.status_code == 201
    assert Task.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1  # the expired one was purged on the way


@pytest.mark.parametrize("key", ["", "k" * 256, "clé", "tab\there"])
def test_it_rejects_a_key_that_is_empty_too_long_or_not_printable_ascii(alice_client, key):
    response = post(alice_client, key=key)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_invalid"
    assert Task.objects.count() == 0


def test_it_accepts_a_key_of_255_printable_characters(alice_client):
    assert post(alice_client, key="~ !" + "k" * 252).status_code == 201


def test_a_create_that_fails_validation_does_not_use_up_the_key(alice_client):
    assert post(alice_client, {"title": ""}).status_code == 400
    assert post(alice_client, {"title": "Fixed"}).status_code == 201
    assert IdempotencyKey.objects.get().response_status == 201


def test_a_crash_after_the_insert_stores_neither_the_task_nor_the_key(alice_client, monkeypatch):
    def explode(self, task_id):
        raise RuntimeError("crashed after the insert")

    monkeypatch.setattr(TaskViewSet, "task_path", explode)
    assert post(alice_client).status_code == 500
    assert (Task.objects.count(), IdempotencyKey.objects.count()) == (0, 0)
    monkeypatch.undo()
    assert post(alice_client).status_code == 201


def test_it_asks_for_a_token_before_looking_at_the_key(client, db):
    response = client.post("/api/tasks", BODY, HTTP_IDEMPOTENCY_KEY="retry-me-1")
    assert response.status_code == 401
    assert IdempotencyKey.objects.count() == 0


def test_the_purge_command_deletes_only_expired_keys(alice_client):
    post(alice_client, key="old")
    post(alice_client, key="new")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(days=2))
    call_command("purge_idempotency_keys", stdout=io.StringIO())
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def fingerprint_of(body) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(body).encode()).hexdigest()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent requests need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_with_one_key_create_one_task(alice):
    barrier = threading.Barrier(4)
    responses = []

    def send():
        client = client_for(alice)
        barrier.wait()
        responses.append(post(client))
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Task.objects.count() == 1
    assert {r.status_code for r in responses} <= {201, 409}
    assert {r.json()["id"] for r in responses if r.status_code == 201} == {Task.objects.get().id}


@pytest.mark.parametrize("delete", ["one", "bulk"])
def test_deleting_the_task_forgets_its_key_and_stored_answer(alice_client, bob_client, delete):
    task_id = post(alice_client).json()["id"]
    bobs = post(bob_client, key="bobs-key").json()["id"]
    if delete == "one":
        assert alice_client.delete(f"/api/tasks/{task_id}").status_code == 204
    else:
        assert alice_client.post("/api/tasks/bulk", {"action": "delete", "ids": [task_id]}).status_code == 200
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["bobs-key"]
    assert Task.objects.filter(pk=bobs).exists()


def test_a_user_keeps_only_their_most_recent_keys(alice_client, bob_client, monkeypatch):
    from core import idempotency

    monkeypatch.setattr(idempotency, "KEYS_PER_USER", 3)
    post(bob_client, key="bobs-key")
    for i in range(5):
        assert post(alice_client, {"title": f"t{i}"}, key=f"key-{i}").status_code == 201
    kept = IdempotencyKey.objects.filter(owner__better_auth_id=ALICE_ID).order_by("key")
    assert [claim.key for claim in kept] == ["key-2", "key-3", "key-4"]
    assert IdempotencyKey.objects.filter(key="bobs-key").exists()
    assert post(alice_client, {"title": "t4"}, key="key-4")["Idempotent-Replayed"] == "true"
