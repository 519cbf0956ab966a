"""Reopening a completed recurring task: its untouched next occurrence goes, an edited one stays;
the answers say what was created and removed."""

from datetime import UTC, datetime

import pytest

from tasks.models import Task
from tasks.services import task_set_tags
from tests.tasks.factories import make_task


@pytest.fixture
def daily(alice) -> Task:
    return make_task(alice, title="Standup", due_at=datetime(2026, 3, 2, 9, tzinfo=UTC), recurrence="FREQ=DAILY")


def toggle(client, task, **body):
    response = client.patch(f"/api/tasks/{task.id}/complete", body or None, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_completing_answers_the_occurrence_it_created(alice_client, daily):
    answer = toggle(alice_client, daily)
    following = answer["next_occurrence"]
    assert following["due_at"] == "2026-03-03T09:00:00Z"
    assert following == alice_client.get(f"/api/tasks/{following['id']}").json()
    assert answer["completed"] is True


def test_an_answer_that_created_nothing_carries_null(alice_client, alice, daily):
    plain = make_task(alice)
    assert toggle(alice_client, plain)["next_occurrence"] is None
    assert toggle(alice_client, daily, completed=False)["next_occurrence"] is None  # already open


def test_reopening_removes_the_untouched_occurrence(alice_client, daily):
    following = toggle(alice_client, daily)["next_occurrence"]
    answer = toggle(alice_client, daily)  # a misclick undone
    assert answer["completed"] is False and answer["next_occurrence"] is None
    assert alice_client.get(f"/api/tasks/{following['id']}").status_code == 404
    assert list(Task.objects.values_list("pk", flat=True)) == [daily.pk]
    daily.refresh_from_db()
    assert daily.next_occurrence_id is None


def test_completing_again_after_the_removal_creates_it_anew(alice_client, daily):
    first = toggle(alice_client, daily)["next_occurrence"]
    toggle(alice_client, daily)
    again = toggle(alice_client, daily)["next_occurrence"]
    assert again["id"] != first["id"] and again["due_at"] == first["due_at"]
    assert Task.objects.count() == 2


def test_patch_reopening_removes_it_too(alice_client, daily):
    toggle(alice_client, daily)
    response = alice_client.patch(f"/api/tasks/{daily.id}", {"completed": False}, format="json")
    assert response.status_code == 200
    assert Task.objects.count() == 1


@pytest.mark.parametrize(
    "touch",
    [
        lambda client, task_id: client.patch(f"/api/tasks/{task_id}", {"title": "moved to 10:00"}, format="json"),
        lambda client, task_id: client.patch(f"/api/tasks/{task_id}/complete"),
        lambda client, task_id: client.patch(f"/api/tasks/{task_id}", {"tags": ["work"]}, format="json"),
    ],
    ids=["edited", "completed", "tagged"],
)
def test_an_occurrence_touched_since_stays_and_no_second_is_created(alice_client, daily, touch):
    following = toggle(alice_client, daily)["next_occurrence"]
    assert touch(alice_client, following["id"]).status_code == 200
    toggle(alice_client, daily)  # reopened
    assert alice_client.get(f"/api/tasks/{following['id']}").status_code == 200
    assert toggle(alice_client, daily)["next_occurrence"] is None  # completed again
    assert Task.objects.filter(previous_occurrence=daily).get().pk == following["id"]


def test_the_removal_frees_room_under_the_task_limit(alice_client, alice, daily, settings):
    settings.TASKS = {**settings.TASKS, "MAX_TASKS_PER_USER": 2}
    toggle(alice_client, daily)
    assert alice_client.post("/api/tasks", {"title": "third"}).status_code == 409
    toggle(alice_client, daily)
    assert alice_client.post("/api/tasks", {"title": "third"}).status_code == 201


def test_the_removed_occurrences_tags_are_pruned_when_no_task_carries_them(alice_client, alice, daily):
    task_set_tags(task=daily, names=["morning"])
    toggle(alice_client, daily)
    task_set_tags(task=daily, names=[])  # only the occurrence carries the tag now
    toggle(alice_client, daily)
    assert alice_client.get("/api/tags").json() == []


def test_bulk_answers_created_then_removed_ids(alice_client, alice, daily):
    weekly = make_task(alice, due_at=datetime(2026, 3, 2, 9, tzinfo=UTC), recurrence="FREQ=WEEKLY")
    ids = [daily.id, weekly.id]
    created = alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": ids}).json()["created"]
    assert len(created) == 2
    edited = created[0]
    alice_client.patch(f"/api/tasks/{edited}", {"description": "kept"}, format="json")
    answer = alice_client.post("/api/tasks/bulk", {"action": "reopen", "ids": ids}).json()
    assert answer["removed"] == [created[1]]
    assert answer["created"] == []
    assert sorted(Task.objects.values_list("pk", flat=True)) == sorted([*ids, edited])


def test_another_user_cannot_reopen_alices_task_nor_remove_its_occurrence(alice_client, bob_client, daily):
    following = toggle(alice_client, daily)["next_occurrence"]
    assert bob_client.patch(f"/api/tasks/{daily.id}/complete").status_code == 404
    assert bob_client.post("/api/tasks/bulk", {"action": "reopen", "ids": [daily.id]}).status_code == 404
    assert Task.objects.filter(pk=following["id"]).exists()
    daily.refresh_from_db()
    assert daily.completed
