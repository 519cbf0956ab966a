"""A write that changes nothing keeps the task's version, `updated_at` and ETag (a tab holding
the ETag must not get a 412 for a change that never happened)."""

from datetime import UTC, datetime

import pytest

from tasks.models import Priority, Tag, Task
from tests.tasks.factories import make_task, row


@pytest.fixture
def task(alice) -> Task:
    task = make_task(
        alice,
        title="Water the plants",
        description="the ferns",
        priority=Priority.HIGH,
        due_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
        recurrence="FREQ=WEEKLY;BYDAY=MO",
    )
    task.tags.set([Tag.objects.create(owner=alice, name="Home"), Tag.objects.create(owner=alice, name="garden")])
    return task


def assert_unchanged(response, task: Task, before: dict) -> None:
    assert response.status_code == 200
    assert response["ETag"] == f'"{task.pk}-{before["version"]}"'
    assert row(task) == before
    assert Task.objects.count() == 1  # and no next occurrence


@pytest.mark.parametrize("path", ["/api/tasks/{id}/complete", "/api/{alice}/tasks/{id}/complete"])
@pytest.mark.parametrize("completed", [True, False])
def test_setting_completed_to_the_value_it_has_keeps_the_task(alice_client, alice, task, path, completed):
    if completed:
        Task.objects.filter(pk=task.pk).update(completed=True, completed_at=datetime(2026, 3, 1, tzinfo=UTC))
    before = row(task)
    response = alice_client.patch(
        path.format(alice=alice.better_auth_id, id=task.pk), {"completed": completed}, format="json"
    )
    assert_unchanged(response, task, before)
    assert response.json()["completed"] is completed


@pytest.mark.parametrize("path", ["/api/tasks/{id}", "/api/{alice}/tasks/{id}"])
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": "Water the plants"},
        {"title": "  Water the plants "},  # the same once trimmed
        {"completed": False, "priority": "high", "description": "the ferns"},
        {"due_at": "2026-03-02T10:00:00+01:00"},  # the same instant
        {"recurrence": "byday=MO;freq=weekly"},  # the same rule once canonical
        {"tags": ["garden", "home"]},  # the same tags, another order and case
    ],
)
def test_a_patch_with_the_values_the_task_has_keeps_it(alice_client, alice, task, path, body):
    before = row(task)
    response = alice_client.patch(path.format(alice=alice.better_auth_id, id=task.pk), body, format="json")
    assert_unchanged(response, task, before)


def test_a_put_with_the_values_the_task_has_keeps_it(alice_client, task):
    before = row(task)
    body = alice_client.get(f"/api/tasks/{task.pk}").json()
    writable = {
        name: body[name] for name in ("title", "description", "completed", "priority", "tags", "due_at", "recurrence")
    }
    response = alice_client.put(f"/api/tasks/{task.pk}", writable, format="json", HTTP_IF_MATCH=f'"{task.pk}-1"')
    assert_unchanged(response, task, before)


def test_the_etag_of_an_unchanged_write_still_guards_the_next_one(alice_client, task):
    etag = alice_client.get(f"/api/tasks/{task.pk}")["ETag"]
    assert (
        alice_client.patch(f"/api/tasks/{task.pk}", {"title": "Water the plants"}, format="json", HTTP_IF_MATCH=etag)[
            "ETag"
        ]
        == etag
    )
    changed = alice_client.patch(
        f"/api/tasks/{task.pk}", {"title": "Water the roses"}, format="json", HTTP_IF_MATCH=etag
    )
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert (
        alice_client.patch(f"/api/tasks/{task.pk}", {"title": "x"}, format="json", HTTP_IF_MATCH=etag).status_code
        == 412
    )


@pytest.mark.parametrize(
    "body",
    [
        {"title": "Water the roses"},
        {"tags": ["garden"]},
        {"tags": ["garden", "home", "new"]},
        {"due_at": None, "recurrence": None},
    ],
)
def test_a_patch_that_changes_one_thing_is_a_new_version(alice_client, task, body):
    response = alice_client.patch(f"/api/tasks/{task.pk}", body, format="json")
    assert response.status_code == 200
    assert response["ETag"] == f'"{task.pk}-2"'
    task.refresh_from_db()
    assert task.version == 2
