"""The compiled reads (tasks/queries.py) give what the plain ORM gives, for the caller only."""

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tasks.models import Priority, Tag, Task
from tasks.queries import (
    DefaultPage,
    caller_task_locked,
    caller_task_row,
    caller_tasks,
    task_count,
    task_rows,
    tasks_with_tag_names,
    with_tag_names,
)
from tests.tasks.factories import make_task


@pytest.fixture
def tasks(alice, bob):
    work, home = Tag.objects.create(owner=alice, name="work"), Tag.objects.create(owner=alice, name="Home")
    made = [
        make_task(
            alice,
            title=f"task {i}",
            priority=Priority.HIGH if i % 2 else Priority.NONE,
            due_at=datetime(2026, 1, i + 1, 9, tzinfo=UTC) if i % 3 else None,
            completed=i == 4,
        )
        for i in range(7)
    ]
    made[1].tags.set([work, home])
    made[2].tags.set([home])
    make_task(bob, title="bob's")
    return made


def shown(task: Task) -> dict:
    """Everything stored for a task, and its tag names, as a row has them."""
    values = {field.attname: getattr(task, field.attname) for field in Task._meta.concrete_fields}
    counts = {"subtask_count": task.subtask_count, "open_subtask_count": task.open_subtask_count}
    return {**values, **counts, "tag_names": sorted(task.tag_names)}


def sorted_tags(row: dict) -> dict:
    return {**row, "tag_names": sorted(row["tag_names"])}


def orm_tasks(owner_id: str) -> list[dict]:
    """The plain ORM's tasks of the caller, newest first, each with its tags prefetched."""
    return [shown(task) for task in caller_tasks(owner_id).prefetch_related("tags")]


@pytest.mark.parametrize(("start", "stop"), [(0, 3), (2, 5), (0, 100), (6, 8), (7, 9), (50, 60)])
def test_a_default_page_has_the_orms_tasks_and_the_callers_total(alice, tasks, start, stop):
    page = DefaultPage(alice.better_auth_id)[start:stop]
    assert {row.pop("total") for row in page} <= {7}
    assert [sorted_tags(row) for row in page] == orm_tasks(alice.better_auth_id)[start:stop]


def test_rows_of_any_queryset_are_the_orms_tasks(alice, tasks):
    rows = with_tag_names(list(task_rows(caller_tasks(alice.better_auth_id).order_by("title"))))
    expected = [shown(task) for task in caller_tasks(alice.better_auth_id).order_by("title").prefetch_related("tags")]
    assert [sorted_tags(row) for row in rows] == expected


def test_the_page_counts_the_callers_tasks_only(alice, bob, tasks):
    assert DefaultPage(alice.better_auth_id).count() == 7
    assert DefaultPage(bob.better_auth_id).count() == 1
    assert [(row["title"], row["total"]) for row in DefaultPage(bob.better_auth_id)[0:10]] == [("bob's", 1)]


def test_a_count_is_the_orms(alice, bob, tasks):
    for owner_id in (alice.better_auth_id, bob.better_auth_id, "nobody"):
        assert task_count(owner_id) == caller_tasks(owner_id).count()
    assert task_count("nobody") == 0


def test_one_task_is_the_orms_and_only_for_its_owner(alice, bob, tasks):
    with transaction.atomic():
        for task in tasks:
            expected = shown(Task.objects.prefetch_related("tags").get(pk=task.pk))
            assert sorted_tags(caller_task_row(alice.better_auth_id, task.pk)) == expected
            locked = caller_task_locked(alice.better_auth_id, task.pk)
            assert shown(locked) == expected and not locked._state.adding
            assert caller_task_row(bob.better_auth_id, task.pk) is None
            assert caller_task_locked(bob.better_auth_id, task.pk) is None
        assert caller_task_row(alice.better_auth_id, 999_999_999_999_999_999) is None
        assert caller_task_locked(alice.better_auth_id, 999_999_999_999_999_999) is None


def test_tag_names_come_with_the_rows_on_postgresql(alice, tasks, django_assert_num_queries):
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        names = [task.tag_names for task in tasks_with_tag_names(caller_tasks(alice.better_auth_id))]
    assert sorted(map(sorted, names)) == sorted([[], [], [], [], [], ["Home"], ["Home", "work"]])


def test_the_locked_read_takes_the_row_lock(alice, tasks):
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        caller_task_locked(alice.better_auth_id, tasks[0].pk)
    if connection.features.has_select_for_update:
        assert queries[-1]["sql"].endswith("FOR UPDATE")
