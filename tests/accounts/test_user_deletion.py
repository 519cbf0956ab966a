"""Deleting a user erases their data; the same Better Auth user may sign in again as a new, empty
account, and no process that still remembers the deleted row answers with a 500.

These tests commit, as production does: foreign keys are checked when a transaction commits.
"""

import pytest
from django.db.models.signals import post_delete

from accounts.models import User
from accounts.user_cache import forget_deleted_user, recent_users
from tasks.models import Tag, Task
from tests.accounts.expect import assert_rejected
from tests.auth import ALICE_ID

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def remembered(memories_on):
    """Both per-process memories on, as in production."""
    memories_on(user_seconds=30, token_seconds=600)


def delete_in_another_process(user: User) -> None:
    """Deletes the row as the admin of another process would: this process hears nothing of it."""
    post_delete.disconnect(forget_deleted_user, sender=User)
    try:
        user.delete()
    finally:
        post_delete.connect(forget_deleted_user, sender=User)


@pytest.fixture
def operator(client):
    client.force_login(User.objects.create_superuser(username="olivia", password="an operator's long password"))
    return client


def test_an_operator_deletes_a_user_and_their_tasks_from_the_admin(operator, alice_client, alice):
    assert alice_client.post("/api/tasks", {"title": "hers"}).status_code == 201
    response = operator.post(f"/admin/accounts/user/{alice.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(better_auth_id=ALICE_ID).exists()
    assert not Task.objects.exists()


def test_the_admin_says_what_deleting_means_next_to_deactivating(operator, alice):
    page = operator.get(f"/admin/accounts/user/{alice.pk}/change/").content.decode()
    assert "Deleting the user instead erases their tasks" in page
    changelist = operator.get("/admin/accounts/user/").content.decode()
    assert "Delete selected users and erase their tasks (they may sign in again as new, empty accounts)" in changelist


def test_deleting_a_user_erases_their_tasks_and_tags(alice_client, alice, bob_client):
    assert alice_client.post("/api/tasks", {"title": "hers", "tags": ["home"]}).status_code == 201
    assert bob_client.post("/api/tasks", {"title": "his", "tags": ["home"]}).status_code == 201
    alice.delete()
    assert list(Task.objects.values_list("title", flat=True)) == ["his"]
    assert Tag.objects.count() == 1


def test_the_same_user_signs_in_again_as_a_new_empty_account(alice_client, alice, remembered):
    assert alice_client.post("/api/tasks", {"title": "before"}).status_code == 201
    old_pk = alice.pk
    alice.delete()
    assert alice_client.get("/api/tasks").json() == []
    assert alice_client.post("/api/tasks", {"title": "after"}).status_code == 201
    renewed = User.objects.get(better_auth_id=ALICE_ID)
    assert renewed.pk != old_pk
    assert list(renewed.tasks.values_list("title", flat=True)) == ["after"]


def test_a_process_still_remembering_the_deleted_user_refuses_a_write_with_a_401(alice_client, alice, remembered):
    assert alice_client.post("/api/tasks", {"title": "before"}).status_code == 201
    delete_in_another_process(alice)
    # Reads find nothing: the data is gone, whichever process answers.
    assert alice_client.get("/api/tasks").json() == []
    response = alice_client.post("/api/tasks", {"title": "into the void"})
    assert_rejected(response, "account_deleted")
    assert not Task.objects.exists()
    # The process has forgotten the row: the next request signs the user in as new.
    assert alice_client.post("/api/tasks", {"title": "after"}).status_code == 201
    assert list(User.objects.get(better_auth_id=ALICE_ID).tasks.values_list("title", flat=True)) == ["after"]


def test_a_remembered_deleted_user_is_refused_on_every_creating_route(alice_client, alice, remembered):
    alice_client.get("/api/tasks")
    delete_in_another_process(alice)
    response = alice_client.post(f"/api/{ALICE_ID}/tasks", {"title": "phase two"})
    assert_rejected(response, "account_deleted")
    assert not Task.objects.exists()


def test_a_remembered_deleted_user_is_refused_with_an_idempotency_key_too(alice_client, alice, remembered):
    alice_client.get("/api/tasks")
    delete_in_another_process(alice)
    response = alice_client.post("/api/tasks", {"title": "retried"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert_rejected(response, "account_deleted")
    assert alice_client.post("/api/tasks", {"title": "retried"}, HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201


def test_a_process_that_deleted_the_user_forgets_them_at_once(alice_client, alice, remembered):
    alice_client.get("/api/tasks")
    alice.delete()
    assert alice_client.post("/api/tasks", {"title": "after"}).status_code == 201


def test_another_users_failed_write_is_not_taken_for_a_deletion(alice_client, alice, bob, remembered):
    alice_client.get("/api/tasks")
    delete_in_another_process(bob)
    assert alice_client.post("/api/tasks", {"title": "hers"}).status_code == 201
    assert recent_users._entries  # Alice is still remembered
