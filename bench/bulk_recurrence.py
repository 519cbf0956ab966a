"""A bulk complete of 500 recurring tasks against 500 plain ones, in-process, as one user.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_bulk ./scripts/test.sh bench/bulk_recurrence.py -s -n 0

Runs under pytest, in one process (`-n 0`, so the table is printed), for its test database and
fixtures (it is not part of the suite: the suite collects `tests/` only). Each round seeds 500 open tasks of one kind (two tags each), then
times `POST /api/tasks/bulk {"action": "complete"}` through the whole stack, from the request
to the rendered JSON; the table gives the median of the rounds, in wall-clock ms and in the
process's CPU ms (PostgreSQL's own time is in the first, not the second).
"""

import statistics
import time
from datetime import UTC, datetime

import pytest
from django.db import transaction

from tasks.models import Tag, Task
from tasks.services import task_set_tags

# The suite's fixtures: Alice, her client, and the test settings (generous throttles).
from tests.conftest import alice, alice_client, better_auth_settings, private_cache_and_generous_throttles  # noqa: F401

ROUNDS = 5
TASKS = 500


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# (name, rule, due_at): the usual rules, then the costliest ones.
KINDS = [
    ("plain", None, None),
    ("FREQ=DAILY", "FREQ=DAILY", utc(2026, 1, 1, 9)),
    ("FREQ=WEEKLY;BYDAY=MO,WE", "FREQ=WEEKLY;BYDAY=MO,WE", utc(2026, 1, 5, 9)),
    # Accepted, and at the horizon: the longest searches that still find an occurrence.
    (
        "horizon, found: DAILY;BYMONTHDAY=13;BYDAY=FR (14 months)",
        "FREQ=DAILY;BYMONTHDAY=13;BYDAY=FR",
        utc(2001, 7, 13, 9),
    ),
    ("horizon, found: YEARLY;BYMONTH=2;BYDAY=5MO (28 years)", "FREQ=YEARLY;BYMONTH=2;BYDAY=5MO", utc(2016, 2, 29, 9)),
    # Stored before the checks: no occurrence within the horizon, which each completion searches whole.
    (
        "horizon, none: DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
        utc(2017, 1, 1, 9),
    ),
    (
        "horizon, none: YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29",
        utc(2029, 1, 1, 9),
    ),
    ("stored, never: DAILY;INTERVAL=7;BYDAY=TU from 0001", "FREQ=DAILY;INTERVAL=7;BYDAY=TU", utc(1, 1, 1)),
    ("stored, never: YEARLY;BYMONTH=1;BYDAY=6MO", "FREQ=YEARLY;BYMONTH=1;BYDAY=6MO", utc(2026, 1, 1, 9)),
]


def seed(alice, rule, due_at) -> list[int]:
    tasks = Task.objects.bulk_create(
        [Task(owner=alice, title=f"task {i}", due_at=due_at, recurrence=rule) for i in range(TASKS)]
    )
    with transaction.atomic():  # task_set_tags locks the owner's row
        task_set_tags(task=tasks[0], names=["home", "weekly"])
    tags = list(Tag.objects.filter(owner=alice))
    links = Task.tags.through.objects
    links.bulk_create([links.model(task_id=task.pk, tag_id=tag.pk) for task in tasks[1:] for tag in tags])
    return [task.pk for task in tasks]


@pytest.mark.django_db
def test_bulk_complete_of_recurring_tasks(alice_client, alice, settings):
    settings.TASKS = {**settings.TASKS, "MAX_TASKS_PER_USER": 2 * TASKS}
    rows = []
    for name, rule, due_at in KINDS:
        wall, cpu = [], []
        for _ in range(ROUNDS):
            Task.objects.filter(owner=alice).delete()
            ids = seed(alice, rule, due_at)
            started, started_cpu = time.perf_counter(), time.process_time()
            response = alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": ids})
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            # Past REQUEST_SEARCH_LOOKS the whole bulk is refused (409 search_budget_reached).
            assert response.status_code in (200, 409), response.content
        created = len(response.json()["created"]) if response.status_code == 200 else "409"
        rows.append((name, statistics.median(wall), statistics.median(cpu), created))
    plain = rows[0][1]
    print(
        f"\n{'500 tasks completed in one bulk request':<70} {'wall ms':>8} {'cpu ms':>7} {'x plain':>7} {'spawned':>7}"
    )
    for name, wall_ms, cpu_ms, created in rows:
        print(f"{name:<70} {wall_ms:8.0f} {cpu_ms:7.0f} {wall_ms / plain:7.2f} {created:>7}")
