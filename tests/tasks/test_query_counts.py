"""A page costs a fixed number of queries, whatever its size and however many tags its tasks carry."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks.models import Tag, Task, TaskList
from tests.auth import client_for

# A page: its rows (1; on PostgreSQL with their tags), the tags of the whole page (1, not on
# PostgreSQL) and the total count (1, only when the page does not show where the list ends);
# sorted by due date, whether the caller has all-day tasks (1, tasks.filters.due_moment).
LIST_QUERIES = 3
# Authentication reads the user row on a user's first request, and not again for a while.
FIRST_REQUEST_AUTH_QUERIES = 1


@pytest.fixture(autouse=True)
def user_cache_on(memories_on):
    """Measures with the per-process user and token memories on, as production runs."""
    memories_on()


@pytest.fixture
def alices_tasks(alice):
    def make(count: int) -> None:
        tags = Tag.objects.bulk_create([Tag(owner=alice, name=f"tag{i}") for i in range(5)])
        tasks = Task.objects.bulk_create([Task(owner=alice, title=f"task {i}") for i in range(count)])
        Task.tags.through.objects.bulk_create(
            [Task.tags.through(task_id=task.id, tag_id=tag.id) for task in tasks for tag in tags]
        )

    return make


@pytest.mark.parametrize("count", [1, 100])
def test_a_page_costs_the_same_queries_whatever_its_size(alice, alices_tasks, count, django_assert_max_num_queries):
    alices_tasks(count)
    client = client_for(alice)
    with django_assert_max_num_queries(FIRST_REQUEST_AUTH_QUERIES + LIST_QUERIES):
        client.get("/api/tasks", {"limit": 100})
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get("/api/tasks", {"limit": 100, "sort": "priority,due_date"})
    assert len(response.json()) == count
    assert all(len(task["tags"]) == 5 for task in response.json())


@pytest.mark.parametrize("params", [{}, {"limit": 2}, {"offset": 5}])
def test_the_default_list_counts_apart_only_for_a_page_past_the_end(alice, alices_tasks, params):
    alices_tasks(3)
    client = client_for(alice)
    client.get("/api/me")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/tasks", params)
    assert response.headers["X-Total-Count"] == "3"
    # The page's rows carry the total (and on PostgreSQL their tags); elsewhere the page's tags
    # come in a second query; a page past the end has no row to carry the total.
    tags_apart = connection.vendor != "postgresql" and bool(response.json())
    assert len(statements(queries)) == 1 + tags_apart + (not response.json())


@pytest.mark.parametrize(("params", "counted"), [({"sort": "title"}, False), ({"sort": "title", "limit": 2}, True)])
def test_a_filtered_list_counts_apart_only_when_the_page_does_not_show_the_end(alice, alices_tasks, params, counted):
    alices_tasks(3)
    client = client_for(alice)
    client.get("/api/me")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/tasks", params)
    assert response.headers["X-Total-Count"] == "3"
    assert len(statements(queries)) == 1 + (connection.vendor != "postgresql") + counted


def test_reading_one_task_is_one_query_on_postgresql(alice, alices_tasks, django_assert_num_queries):
    alices_tasks(1)
    client, task_id = client_for(alice), Task.objects.get().id
    client.get("/api/me")
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        response = client.get(f"/api/tasks/{task_id}")
    assert len(response.json()["tags"]) == 5


def test_a_warm_request_costs_no_authentication_query(alice, django_assert_num_queries):
    client = client_for(alice)
    client.get("/api/me")
    with django_assert_num_queries(0):
        assert client.get("/api/me").status_code == 200


def test_reading_one_task_costs_two_queries(alice, alices_tasks, django_assert_max_num_queries):
    alices_tasks(1)
    client, task_id = client_for(alice), Task.objects.get().id
    client.get("/api/me")
    with django_assert_max_num_queries(2):
        assert client.get(f"/api/tasks/{task_id}").status_code == 200


def statements(captured) -> list[str]:
    """The queries a request ran, without the savepoints of the test's own transaction."""
    return [query["sql"] for query in captured if "SAVEPOINT" not in query["sql"]]


def test_creating_a_task_without_tags_touches_no_tag_table(alice):
    client = client_for(alice)
    client.get("/api/me")
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/tasks", {"title": "Buy milk"}, format="json")
    assert response.status_code == 201
    assert response.json()["tags"] == []
    # The owner's lock (PostgreSQL; SQLite's transactions are serialised) and the room check, then
    # in Task.save the change number of their feed (the owner's lock taken once: Fed.owner_locked),
    # the insert, which finds the task's place (after the last of its list) itself; no savepoint;
    # its (empty) tags need no link, prune or read back.
    done = statements(queries)
    locks = [statement for statement in done if statement.endswith("FOR NO KEY UPDATE")]
    assert len(locks) == (1 if connection.vendor == "postgresql" else 0)
    count, change, insert = [statement for statement in done if statement not in locks]
    assert count.startswith("SELECT COUNT(*)") and insert.startswith('INSERT INTO "tasks_task"')
    assert change.startswith('INSERT INTO "core_changecounter"')
    assert response.json()["position"] > 0


@pytest.mark.parametrize("in_list", [False, True], ids=["inbox", "in-a-list"])
def test_toggling_a_task_reads_its_row_once_locked_and_writes_only_what_changed(alice, alices_tasks, in_list):
    alices_tasks(1)
    if in_list:
        Task.objects.update(list=TaskList.objects.create(owner=alice, name="Work"))
    client, task_id = client_for(alice), Task.objects.get().id
    client.get("/api/me")
    with CaptureQueriesContext(connection) as queries:
        response = client.patch(f"/api/tasks/{task_id}/complete", format="json")
    assert response.status_code == 200 and response.json()["completed"] is True
    # The locked row (with its tags on PostgreSQL), its tags elsewhere, the owner's lock
    # (PostgreSQL) and the change number of their feed, the update.
    select, *tags, change, update = [s for s in statements(queries) if not s.endswith("FOR NO KEY UPDATE")]
    assert len(tags) == (0 if connection.vendor == "postgresql" else 1)
    assert change.startswith('INSERT INTO "core_changecounter"')
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in select
    assert update.startswith("UPDATE") and '"title"' not in update and '"version"' in update
    # Nor a row of its list: a list's counts are counted when it is read, and the change feed
    # carries the list with the task (tasks.models.TaskList).
    assert not [statement for statement in statements(queries) if "tasks_tasklist" in statement]


def test_an_unchanged_change_feed_poll_is_one_query(alice, alices_tasks, django_assert_num_queries):
    alices_tasks(3)
    client = client_for(alice)
    cursor = client.get("/api/changes").json()["next_cursor"]
    with django_assert_num_queries(1):  # the counter
        assert client.get("/api/changes", {"cursor": cursor}).json()["next_cursor"] == cursor


@pytest.mark.parametrize("count", [1, 100])
def test_a_change_feed_page_costs_the_same_queries_whatever_its_size(alice, alices_tasks, count):
    alices_tasks(count)
    client = client_for(alice)
    client.get("/api/me")
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/api/changes").json()
    assert len(page["tasks"]) == count
    assert all(len(task["tags"]) == 5 for task in page["tasks"])
    # The counter; for tasks and for lists, the changed rows' keys and the deletions' keys; the
    # tasks' rows (with their tags on PostgreSQL; elsewhere the tags in one more). No list changed:
    # no query of list rows.
    assert len(statements(queries)) == 6 + (connection.vendor != "postgresql")


@pytest.mark.parametrize("count", [1, 100])
def test_a_change_feed_page_carries_its_tasks_lists_in_one_query_whatever_its_size(alice, alices_tasks, count):
    alices_tasks(count)
    lists = TaskList.objects.bulk_create([TaskList(owner=alice, name=name) for name in ("Work", "Home")])
    for index, task in enumerate(Task.objects.all()):
        Task.objects.filter(pk=task.pk).update(list=lists[index % 2])
    client = client_for(alice)
    cursor = client.get("/api/changes").json()["next_cursor"]
    ids = list(Task.objects.values_list("pk", flat=True))
    assert client.post("/api/tasks/bulk", {"action": "complete", "ids": ids}, format="json").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/api/changes", {"cursor": cursor}).json()
    assert len(page["tasks"]) == count
    assert sorted((body["task_count"], body["open_count"]) for body in page["lists"]) == sorted(
        (Task.objects.filter(list=task_list).count(), 0) for task_list in lists[: min(count, 2)]
    )
    # As above, and the lists of its tasks read once with their counts (no list's own change is in
    # the page: the lists are those its tasks carry).
    assert len(statements(queries)) == 7 + (connection.vendor != "postgresql")
