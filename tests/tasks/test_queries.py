"""The compiled reads (tasks/queries.py) give the rows the ORM's queryset gives, for the caller only."""

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tasks.models import Priority, Tag, Task
from tasks.queries import (
    TASK_ATTNAMES,
    DefaultPage,
    _compiled,
    caller_tasks,
    locked_task,
    one_task_row,
    task_count,
    task_rows,
    tasks_with_tag_names,
)
from tests.tasks.factories import make_task

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="compiled reads run on PostgreSQL only"),
]


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


def orm_rows(owner_id: str) -> list[dict]:
    return list(task_rows(caller_tasks(owner_id)))


@pytest.mark.parametrize(("start", "stop"), [(0, 3), (2, 5), (0, 100), (6, 8), (7, 9), (50, 60)])
def test_a_default_page_has_the_orms_rows_and_the_total(alice, tasks, start, stop):
    page = DefaultPage(alice.better_auth_id, "default")[start:stop]
    assert {row.pop("total") for row in page} <= {7}
    assert page == orm_rows(alice.better_auth_id)[start:stop]
    assert page == list(task_rows(caller_tasks(alice.better_auth_id))[start:stop])


def test_the_page_counts_the_callers_tasks_only(alice, bob, tasks):
    assert DefaultPage(alice.better_auth_id, "default").count() == 7
    assert DefaultPage(bob.better_auth_id, "default").count() == 1
    assert [(row["title"], row["total"]) for row in DefaultPage(bob.better_auth_id, "default")[0:10]] == [("bob's", 1)]


def test_a_count_is_the_orms(alice, bob, tasks):
    for owner_id in (alice.better_auth_id, bob.better_auth_id, "nobody"):
        assert task_count(owner_id, "default") == caller_tasks(owner_id).count()
    assert task_count("nobody", "default") == 0


def test_one_task_is_the_orms_row_and_only_for_its_owner(alice, bob, tasks):
    for task in tasks:
        assert one_task_row(alice.better_auth_id, task.pk, "default") == orm_rows(alice.better_auth_id)[6 - tasks.index(task)]
        assert one_task_row(bob.better_auth_id, task.pk, "default") is None
    assert one_task_row(alice.better_auth_id, 999_999_999_999_999_999, "default") is None


def task_queries(captured) -> list[str]:
    return [query["sql"] for query in captured if "tasks_task" in query["sql"]]


def test_the_api_answers_from_them(alice_client, tasks):
    with CaptureQueriesContext(connection) as page_queries:
        listed = alice_client.get("/api/tasks", {"limit": 10, "offset": 1})
    with CaptureQueriesContext(connection) as one_queries:
        one = alice_client.get(f"/api/tasks/{tasks[1].pk}")
    assert len(task_queries(page_queries)) == 1  # the page shows the end: no count
    assert len(task_queries(one_queries)) == 1
    filtered = alice_client.get("/api/tasks", {"sort": "created"})  # the ORM path, same order
    assert listed.json() == filtered.json()[1:]
    assert one.json() == filtered.json()[5] and one.json()["tags"] == ["Home", "work"]


def test_a_locked_task_is_the_orms_task_with_its_tag_names(alice, bob, tasks):
    with transaction.atomic():
        for task in tasks:
            locked = locked_task(alice.better_auth_id, task.pk, "default")
            orm = tasks_with_tag_names(caller_tasks(alice.better_auth_id)).get(pk=task.pk)
            assert [getattr(locked, f) for f in TASK_ATTNAMES] == [getattr(orm, f) for f in TASK_ATTNAMES]
            assert locked.tag_names == orm.tag_names and not locked._state.adding
            assert locked_task(bob.better_auth_id, task.pk, "default") is None


def test_the_locked_read_takes_the_row_lock(alice, tasks):
    with transaction.atomic():
        locked_task(alice.better_auth_id, tasks[0].pk, "default")
    assert _compiled("locked", "default").sql.endswith("FOR UPDATE")
