"""Alice's tasks are invisible to Bob on every route and method, in both route styles."""

import pytest

from tasks.models import Task
from tests.auth import ALICE_ID, BOB_ID
from tests.tasks.factories import make_task, row

# (method, path after the prefix, body)
TASK_OPERATIONS = [
    ("get", "tasks/{id}", None),
    ("put", "tasks/{id}", {"title": "Hijacked"}),
    ("patch", "tasks/{id}", {"title": "Hijacked"}),
    ("delete", "tasks/{id}", None),
    ("patch", "tasks/{id}/complete", None),
    ("patch", "tasks/{id}/complete", {"completed": True}),
]
PREFIXES = ["/api/", f"/api/{BOB_ID}/"]


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("method, path, body", TASK_OPERATIONS)
def test_bob_gets_404_for_alices_task_and_changes_nothing(bob_client, alice, prefix, method, path, body):
    task = make_task(alice)
    before = row(task)
    response = getattr(bob_client, method)(prefix + path.format(id=task.id), body)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert row(task) == before


@pytest.mark.parametrize("prefix", PREFIXES)
def test_bobs_list_never_shows_alices_tasks(bob_client, alice, bob, prefix):
    make_task(alice, title="Alice's")
    mine = make_task(bob, title="Bob's")
    assert [task["id"] for task in bob_client.get(prefix + "tasks").json()] == [mine.id]


@pytest.mark.parametrize("method, path, body", TASK_OPERATIONS)
def test_bob_gets_403_on_a_path_naming_alice(bob_client, alice, method, path, body):
    task = make_task(alice)
    before = row(task)
    response = getattr(bob_client, method)(f"/api/{ALICE_ID}/" + path.format(id=task.id), body)
    assert response.status_code == 403
    assert response.json()["code"] == "path_user_mismatch"
    assert row(task) == before


def test_bob_gets_403_listing_or_creating_under_alices_path(bob_client, alice):
    make_task(alice)
    assert bob_client.get(f"/api/{ALICE_ID}/tasks").status_code == 403
    response = bob_client.post(f"/api/{ALICE_ID}/tasks", {"title": "Planted"})
    assert response.status_code == 403
    assert response.json()["code"] == "path_user_mismatch"
    assert Task.objects.count() == 1


def test_the_path_user_check_comes_before_the_task_lookup(bob_client, db):
    # A foreign path answers 403 whether or not the task exists, so ids reveal nothing.
    assert bob_client.get(f"/api/{ALICE_ID}/tasks/424242").status_code == 403
