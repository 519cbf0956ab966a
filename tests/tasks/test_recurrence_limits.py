"""Completing a recurring task creates a task, so it counts against the per-user task limit.

At the limit, a completion that would spawn is a 409 `task_limit_reached` and nothing changes
(the task stays open); a bulk complete is all or nothing. A user never holds more tasks than
the limit, whichever path completes the task.
"""

from datetime import UTC, datetime

import pytest

from accounts.models import User
from tasks.models import Task
from tests.auth import ALICE_ID
from tests.tasks.factories import make_task, row

DUE = datetime(2026, 1, 1, 9, tzinfo=UTC)


@pytest.fixture
def limit_of_three(settings):
    settings.TASKS = {**settings.TASKS, "MAX_TASKS_PER_USER": 3}


def assert_limit_reached(response):
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "task_limit_reached"


COMPLETIONS = {
    "toggle": lambda client, pk: client.patch(f"/api/tasks/{pk}/complete"),
    "explicit": lambda client, pk: client.patch(f"/api/tasks/{pk}/complete", {"completed": True}),
    "patch": lambda client, pk: client.patch(f"/api/tasks/{pk}", {"completed": True}),
    "put": lambda client, pk: client.put(
        f"/api/tasks/{pk}",
        {"title": "Water plants", "completed": True, "due_at": "2026-01-01T09:00:00Z", "recurrence": "FREQ=DAILY"},
    ),
    "phase two": lambda client, pk: client.patch(f"/api/{ALICE_ID}/tasks/{pk}/complete"),
    "bulk": lambda client, pk: client.post("/api/tasks/bulk", {"action": "complete", "ids": [pk]}),
}


@pytest.mark.parametrize("how", COMPLETIONS)
def test_completing_a_recurring_task_at_the_limit_is_refused_and_changes_nothing(
    alice_client, alice, limit_of_three, how
):
    task = make_task(alice, title="Water plants", due_at=DUE, recurrence="FREQ=DAILY")
    make_task(alice)
    make_task(alice)
    before = row(task)
    assert_limit_reached(COMPLETIONS[how](alice_client, task.id))
    assert row(task) == before
    assert Task.objects.filter(owner=alice).count() == 3


@pytest.mark.parametrize("how", COMPLETIONS)
def test_completing_a_recurring_task_with_room_for_one_more_spawns_it(alice_client, alice, limit_of_three, how):
    task = make_task(alice, title="Water plants", due_at=DUE, recurrence="FREQ=DAILY")
    make_task(alice)
    response = COMPLETIONS[how](alice_client, task.id)
    assert response.status_code == 200, response.content
    assert Task.objects.filter(owner=alice).count() == 3


def test_a_recurring_task_at_the_limit_completes_when_its_series_ends(alice_client, alice, limit_of_three):
    last = make_task(alice, due_at=DUE, recurrence="FREQ=DAILY;COUNT=1")
    make_task(alice)
    make_task(alice)
    assert alice_client.patch(f"/api/tasks/{last.id}/complete").status_code == 200
    assert Task.objects.get(pk=last.pk).completed is True


def test_a_plain_task_at_the_limit_completes(alice_client, alice, limit_of_three):
    tasks = [make_task(alice) for _ in range(3)]
    assert alice_client.patch(f"/api/tasks/{tasks[0].id}/complete").status_code == 200
    response = alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": [task.id for task in tasks]})
    assert response.status_code == 200


def test_creating_a_completed_recurring_task_needs_room_for_its_next_occurrence(alice_client, alice, limit_of_three):
    make_task(alice)
    make_task(alice)  # room for the task, not for its next occurrence
    payload = {
        "title": "x",
        "completed": True,
        "due_at": "2026-01-01T09:00:00Z",
        "recurrence": "FREQ=DAILY",
        "tags": ["new"],
    }
    assert_limit_reached(alice_client.post("/api/tasks", payload))
    assert Task.objects.filter(owner=alice).count() == 2
    assert not alice.tags.exists()
    Task.objects.filter(owner=alice).first().delete()  # room for both
    assert alice_client.post("/api/tasks", payload).status_code == 201
    assert Task.objects.filter(owner=alice).count() == 3


def test_a_bulk_complete_that_would_spawn_past_the_limit_changes_nothing(alice_client, alice, bob, settings):
    settings.TASKS = {**settings.TASKS, "MAX_TASKS_PER_USER": 5}
    recurring = [make_task(alice, due_at=DUE, recurrence="FREQ=DAILY") for _ in range(2)]
    plain = make_task(alice)
    make_task(bob)  # Bob's tasks do not count against Alice's limit
    before = [row(task) for task in [*recurring, plain]]
    ids = [task.id for task in [*recurring, plain]]
    make_task(alice)  # 4 tasks: room for one next occurrence, not two
    assert_limit_reached(alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": ids}))
    assert [row(task) for task in [*recurring, plain]] == before
    assert Task.objects.filter(owner=alice).count() == 4
    Task.objects.filter(owner=alice, recurrence=None).exclude(pk=plain.pk).delete()  # 3 tasks: room for two
    response = alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": ids})
    assert response.status_code == 200, response.content
    assert len(response.json()["created"]) == 2
    assert Task.objects.filter(owner=alice).count() == 5


def test_repeated_bulk_completes_never_grow_a_user_past_the_limit(alice_client, alice, settings):
    # The reproduction: with a limit of 5, three bulk completes grew a user to 20 tasks.
    settings.TASKS = {**settings.TASKS, "MAX_TASKS_PER_USER": 5}
    for _ in range(3):
        make_task(alice, due_at=DUE, recurrence="FREQ=DAILY")
    for _ in range(3):
        ids = list(Task.objects.filter(owner=alice, completed=False).values_list("id", flat=True))
        alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": ids})
    assert Task.objects.filter(owner=alice).count() <= 5


def test_the_admin_complete_action_at_the_limit_says_so_and_changes_nothing(client, alice, limit_of_three):
    operator = User.objects.create_superuser(username="olivia", password="an operator's long password")
    client.force_login(operator)
    task = make_task(alice, due_at=DUE, recurrence="FREQ=DAILY")
    make_task(alice)
    make_task(alice)
    before = row(task)
    response = client.post("/admin/tasks/task/", {"action": "complete", "_selected_action": [task.pk]}, follow=True)
    assert response.status_code == 200
    assert "Nothing changed: A user can have at most 3 tasks." in response.content.decode()
    assert row(task) == before
    assert Task.objects.count() == 3
