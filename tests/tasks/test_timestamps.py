"""A write stamps a task with one moment: no microseconds between its timestamps."""

from tasks.models import Task
from tests.auth import ALICE_ID
from tests.tasks.factories import make_task


def test_a_new_task_was_created_and_updated_at_the_same_moment(alice_client, alice):
    for url in ["/api/tasks", f"/api/{ALICE_ID}/tasks"]:
        body = alice_client.post(url, {"title": "Buy milk"}, format="json").json()
        assert body["created_at"] == body["updated_at"]
        task = Task.objects.get(pk=body["id"])
        assert task.created_at == task.updated_at


def test_completing_a_task_stamps_completed_at_and_updated_at_with_one_moment(alice_client, alice):
    task = make_task(alice)
    body = alice_client.patch(f"/api/tasks/{task.pk}/complete", format="json").json()
    assert body["completed"] is True
    assert body["completed_at"] == body["updated_at"]
    assert body["updated_at"] > body["created_at"]


def test_a_task_created_completed_has_its_completion_stamped_with_its_write(alice_client, alice):
    body = alice_client.post("/api/tasks", {"title": "Done already", "completed": True}, format="json").json()
    assert body["completed_at"] == body["updated_at"]


def test_completing_again_keeps_the_first_completion_and_reopening_clears_it(alice_client, alice):
    task = make_task(alice)
    first = alice_client.patch(f"/api/tasks/{task.pk}/complete", {"completed": True}, format="json").json()
    again = alice_client.patch(f"/api/tasks/{task.pk}/complete", {"completed": True}, format="json").json()
    assert again["completed_at"] == first["completed_at"]
    reopened = alice_client.patch(f"/api/tasks/{task.pk}/complete", format="json").json()
    assert reopened["completed"] is False and reopened["completed_at"] is None
