"""Per-user limits: over them a write is a 409 and nothing is half-written."""

from tasks.models import Tag, Task
from tests.tasks.factories import make_task


def test_it_refuses_a_task_over_the_per_user_limit(alice_client, alice, bob_client, settings):
    settings.TASKS = {**settings.TASKS, "MAX_TASKS_PER_USER": 2}
    make_task(alice)
    assert alice_client.post("/api/tasks", {"title": "second"}).status_code == 201
    response = alice_client.post("/api/tasks", {"title": "third", "tags": ["new"]})
    assert response.status_code == 409
    assert response.json()["code"] == "task_limit_reached"
    assert Task.objects.filter(owner=alice).count() == 2
    assert not Tag.objects.exists()
    assert bob_client.post("/api/tasks", {"title": "Bob's first"}).status_code == 201  # per user


def test_it_refuses_tags_over_the_per_user_limit_and_changes_nothing(alice_client, alice, settings):
    settings.TASKS = {**settings.TASKS, "MAX_TAGS_PER_USER": 3}
    task_id = alice_client.post("/api/tasks", {"title": "x", "tags": ["a", "b"]}).json()["id"]
    response = alice_client.patch(f"/api/tasks/{task_id}", {"title": "renamed", "tags": ["a", "b", "c", "d"]})
    assert response.status_code == 409
    assert response.json()["code"] == "tag_limit_reached"
    task = Task.objects.get()
    assert task.title == "x"
    assert sorted(t.name for t in task.tags.all()) == ["a", "b"]
    # Reusing existing tags is always fine.
    assert alice_client.patch(f"/api/tasks/{task_id}", {"tags": ["A", "c"]}).status_code == 200
