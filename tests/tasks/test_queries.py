"""The task reads (tasks/queries.py) give what the plain ORM gives, for the caller only."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from tasks.models import Priority, Tag, Task
from tasks.queries import caller_tasks, task_count, tasks_with_tag_names, with_caller_total
from tests.tasks.factories import make_task


@pytest.fixture
def tasks(alice, bob):
    work, home = Tag.objects.create(owner=alice, name="work"), Tag.objects.create(owner=alice, name="Home")
    made = [
        make_task(alice, title=f"task {i}", priority=Priority.HIGH if i % 2 else Priority.NONE,
                  due_at=datetime(2026, 1, i + 1, 9, tzinfo=UTC) if i % 3 else None, completed=i == 4)
        for i in range(7)
    ]
    made[1].tags.set([work, home])
    made[2].tags.set([home])
    make_task(bob, title="bob's")
    return made


def test_tag_names_are_each_tasks_own_tags(alice, tasks):
    read = list(tasks_with_tag_names(caller_tasks(alice.better_auth_id)))
    assert [task.pk for task in read] == [task.pk for task in Task.objects.filter(owner=alice)]
    for task in read:
        expected = Task.objects.get(pk=task.pk).tags.values_list("name", flat=True)
        assert sorted(task.current_tag_names()) == sorted(expected)


def test_tag_names_come_with_the_rows_on_postgresql(alice, tasks, django_assert_num_queries):
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        names = [task.current_tag_names() for task in tasks_with_tag_names(caller_tasks(alice.better_auth_id))]
    assert sorted(map(sorted, names)) == sorted([[], [], [], [], [], ["Home"], ["Home", "work"]])


@pytest.mark.parametrize(("start", "stop"), [(0, 3), (2, 5), (0, 100), (6, 8), (7, 9)])
def test_each_row_carries_the_callers_total(alice, bob, tasks, start, stop):
    page = list(with_caller_total(caller_tasks(alice.better_auth_id), alice.better_auth_id)[start:stop])
    assert [task.pk for task in page] == [task.pk for task in caller_tasks(alice.better_auth_id)[start:stop]]
    assert {task.total for task in page} <= {7}
    assert [task.total for task in with_caller_total(caller_tasks(bob.better_auth_id), bob.better_auth_id)] == [1]


def test_a_count_is_the_callers_only(alice, bob, tasks):
    assert (task_count(alice.better_auth_id), task_count(bob.better_auth_id), task_count("nobody")) == (7, 1, 0)
