"""Completing a recurring task keeps it done and creates the next occurrence."""

import threading
from datetime import datetime, timezone

import pytest
from django.db import connection

from tasks.models import Priority, Task
from tasks.recurrence import recurrence_next
from tasks.services import task_set_tags
from tests.auth import ALICE_ID
from tests.tasks.factories import make_task


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "rule, due, expected_due, expected_rule",
    [
        # Weekly on two days: Monday then Wednesday then next Monday.
        ("FREQ=WEEKLY;BYDAY=MO,WE", utc(2026, 3, 2, 9), utc(2026, 3, 4, 9), "FREQ=WEEKLY;BYDAY=MO,WE"),
        ("FREQ=WEEKLY;BYDAY=MO,WE", utc(2026, 3, 4, 9), utc(2026, 3, 9, 9), "FREQ=WEEKLY;BYDAY=MO,WE"),
        # Monthly on the 31st skips the months without one.
        ("FREQ=MONTHLY;BYMONTHDAY=31", utc(2026, 1, 31, 9), utc(2026, 3, 31, 9), "FREQ=MONTHLY;BYMONTHDAY=31"),
        ("FREQ=MONTHLY", utc(2026, 3, 31, 9), utc(2026, 5, 31, 9), "FREQ=MONTHLY"),
        # The last day of every month.
        ("FREQ=MONTHLY;BYMONTHDAY=-1", utc(2026, 1, 31, 9), utc(2026, 2, 28, 9), "FREQ=MONTHLY;BYMONTHDAY=-1"),
        ("FREQ=DAILY;INTERVAL=3", utc(2026, 1, 1, 9), utc(2026, 1, 4, 9), "FREQ=DAILY;INTERVAL=3"),
        ("FREQ=YEARLY", utc(2028, 2, 29, 9), utc(2032, 2, 29, 9), "FREQ=YEARLY"),
        # COUNT counts what is left, this one included.
        ("FREQ=DAILY;COUNT=3", utc(2026, 1, 1, 9), utc(2026, 1, 2, 9), "FREQ=DAILY;COUNT=2"),
        ("FREQ=DAILY;UNTIL=20260105T000000Z", utc(2026, 1, 1, 9), utc(2026, 1, 2, 9), "FREQ=DAILY;UNTIL=20260105T000000Z"),
    ],
)
def test_the_next_occurrence_follows_the_rule(rule, due, expected_due, expected_rule):
    assert recurrence_next(rule, due) == (expected_due, expected_rule)


@pytest.mark.parametrize(
    "rule, due",
    [
        ("FREQ=DAILY;COUNT=1", utc(2026, 1, 1, 9)),  # COUNT ran out
        ("FREQ=DAILY;UNTIL=20260101T120000Z", utc(2026, 1, 1, 9)),  # UNTIL passed
        ("FREQ=WEEKLY;UNTIL=20260105T000000Z", utc(2026, 1, 1, 9)),
    ],
)
def test_a_finished_series_has_no_next_occurrence(rule, due):
    assert recurrence_next(rule, due) is None


def complete(client, task, **body):
    response = client.patch(f"/api/tasks/{task.id}/complete", body or None)
    assert response.status_code == 200, response.content
    return response.json()


def test_completing_a_recurring_task_creates_the_next_with_the_same_fields(alice_client, alice):
    task = make_task(
        alice, title="Standup", description="daily", priority=Priority.HIGH,
        due_at=utc(2026, 3, 2, 9), recurrence="FREQ=WEEKLY;BYDAY=MO,WE;COUNT=5",
    )
    task_set_tags(task=task, names=["work"])
    body = complete(alice_client, task)
    assert body["completed"] is True
    spawned = Task.objects.exclude(pk=task.pk).get()
    assert (spawned.title, spawned.description, spawned.priority) == ("Standup", "daily", Priority.HIGH)
    assert spawned.due_at == utc(2026, 3, 4, 9)
    assert spawned.recurrence == "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4"
    assert [tag.name for tag in spawned.tags.all()] == ["work"]
    assert spawned.completed is False
    assert spawned.owner_id == ALICE_ID


def test_reopening_keeps_the_spawned_task_and_completing_again_spawns_no_second(alice_client, alice):
    task = make_task(alice, due_at=utc(2026, 1, 1, 9), recurrence="FREQ=DAILY")
    complete(alice_client, task)
    complete(alice_client, task)  # toggle: reopened
    complete(alice_client, task)  # completed again
    assert Task.objects.count() == 2


@pytest.mark.parametrize("how", ["toggle", "explicit", "patch", "put", "bulk"])
def test_every_way_of_completing_spawns_the_next_occurrence(alice_client, alice, how):
    task = make_task(alice, due_at=utc(2026, 1, 1, 9), recurrence="FREQ=DAILY")
    url = f"/api/tasks/{task.id}"
    response = {
        "toggle": lambda: alice_client.patch(f"{url}/complete"),
        "explicit": lambda: alice_client.patch(f"{url}/complete", {"completed": True}),
        "patch": lambda: alice_client.patch(url, {"completed": True}),
        "put": lambda: alice_client.put(
            url, {"title": "x", "completed": True, "due_at": "2026-01-01T09:00:00Z", "recurrence": "FREQ=DAILY"}
        ),
        "bulk": lambda: alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": [task.id]}),
    }[how]()
    assert response.status_code == 200, response.content
    assert Task.objects.filter(due_at=utc(2026, 1, 2, 9), completed=False).count() == 1


def test_the_last_occurrence_spawns_nothing(alice_client, alice):
    task = make_task(alice, due_at=utc(2026, 1, 1, 9), recurrence="FREQ=DAILY;COUNT=1")
    complete(alice_client, task)
    assert Task.objects.count() == 1


def test_a_task_created_completed_spawns_its_next_occurrence(alice_client):
    response = alice_client.post(
        "/api/tasks", {"title": "x", "completed": True, "due_at": "2026-01-01T09:00:00Z", "recurrence": "FREQ=DAILY"}
    )
    assert response.status_code == 201
    assert Task.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_requests_completing_one_recurring_task_at_once_spawn_one_next(alice):
    from tests.auth import client_for

    task = make_task(alice, due_at=utc(2026, 1, 1, 9), recurrence="FREQ=DAILY")
    barrier = threading.Barrier(4)
    statuses = []

    def complete_it():
        client = client_for(alice)
        barrier.wait()
        statuses.append(client.patch(f"/api/tasks/{task.id}/complete", {"completed": True}).status_code)
        connection.close()

    threads = [threading.Thread(target=complete_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 4
    assert Task.objects.filter(due_at=utc(2026, 1, 2, 9)).count() == 1
    assert Task.objects.count() == 2
