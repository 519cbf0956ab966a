"""Filters and sort on the task list, in both route styles."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tasks.filters import TaskFilter
from tasks.limits import SEARCH_MAX_LENGTH, TAG_MAX_LENGTH, TAGS_PER_FILTER, TAGS_PER_TASK
from tasks.models import Priority, Task
from tests.auth import ALICE_ID
from tests.tasks.factories import make_task

NOW = timezone.now()


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [task["id"] for task in response.json()]


def tagged(owner, *names, **fields) -> Task:
    from tasks.services import task_set_tags

    task = make_task(owner, **fields)
    task_set_tags(task=task, names=list(names))
    return task


@pytest.fixture
def board(alice, bob):
    """Alice's tasks of every kind, and one of Bob's that must never show."""
    return {
        "done": make_task(alice, title="Done", completed=True, completed_at=NOW),
        "late": make_task(alice, title="Late", due_at=NOW - timedelta(days=1), priority=Priority.HIGH),
        "soon": make_task(alice, title="soon", due_at=NOW + timedelta(days=1), priority=Priority.LOW),
        "someday": make_task(alice, title="Someday", description="read the manual", priority=Priority.MEDIUM),
        "bobs": make_task(bob, title="Bob's late", due_at=NOW - timedelta(days=1)),
    }


@pytest.mark.parametrize("prefix", ["/api/tasks", f"/api/{ALICE_ID}/tasks"])
@pytest.mark.parametrize(
    "params, expected",
    [
        ({"status": "all"}, ["someday", "soon", "late", "done"]),
        ({"status": "pending"}, ["someday", "soon", "late"]),
        ({"status": "completed"}, ["done"]),
        ({"priority": "high"}, ["late"]),
        ({"priority": "high,low"}, ["soon", "late"]),
        ({"priority": ["medium", "low"]}, ["someday", "soon"]),
        ({"priority": "none"}, ["done"]),
        ({"overdue": "true"}, ["late"]),
        ({"overdue": "false"}, ["someday", "soon", "done"]),
        ({"search": "MANUAL"}, ["someday"]),
        ({"search": "so"}, ["someday", "soon"]),
        ({"due_before": NOW.isoformat()}, ["late"]),
        ({"due_after": NOW.isoformat()}, ["soon"]),
    ],
)
def test_each_filter_narrows_the_list(alice_client, board, prefix, params, expected):
    assert ids(alice_client.get(prefix, params)) == [board[name].id for name in expected]


def test_tag_filters_want_every_tag_case_insensitively(alice_client, alice):
    both = tagged(alice, "work", "urgent")
    tagged(alice, "work")
    tagged(alice, "urgent")
    assert ids(alice_client.get("/api/tasks", {"tag": ["Work", "URGENT"]})) == [both.id]
    assert len(ids(alice_client.get("/api/tasks", {"tag": "work"}))) == 2


def test_a_tag_filter_looks_the_tag_up_as_its_unique_index_holds_it(alice_client, alice):
    tagged(alice, "Work")
    assert len(ids(alice_client.get("/api/tasks", {"tag": "wORK"}))) == 1
    page = list_query_sql(alice_client, ["wORK"])
    # The index is (user_id, LOWER(name)): the lookup names both, so it is an index scan.
    assert re.search(r"LOWER\(\w+\.\"name\"\) IN \(", page) and re.search(r"\w+\.\"user_id\" = ", page), page


def test_bob_filtering_by_alices_tag_finds_nothing(bob_client, alice, bob):
    tagged(alice, "secret")
    assert ids(bob_client.get("/api/tasks", {"tag": "secret"})) == []


def test_updated_since_returns_what_changed(alice_client, alice):
    old = make_task(alice, title="old")
    Task.objects.filter(pk=old.pk).update(updated_at=NOW - timedelta(hours=2))
    fresh = make_task(alice, title="fresh")
    since = (NOW - timedelta(hours=1)).isoformat()
    assert ids(alice_client.get("/api/tasks", {"updated_since": since})) == [fresh.id]


def test_an_unencoded_plus_in_an_offset_is_understood(alice_client, alice):
    task = make_task(alice, due_at=NOW + timedelta(days=1))
    # A "+" left unencoded in a query string arrives as a space.
    query = NOW.astimezone(timezone.get_fixed_timezone(60)).strftime("%Y-%m-%dT%H:%M:%S") + " 01:00"
    assert ids(alice_client.get(f"/api/tasks?due_after={query}")) == [task.id]


@pytest.mark.parametrize(
    "params, name",
    [
        ({"status": "done"}, "status"),
        ({"priority": "urgent"}, "priority"),
        ({"priority": "high,"}, None),
        ({"overdue": "yes"}, "overdue"),
        ({"overdue": "1"}, "overdue"),
        ({"due_before": "2026-01-01"}, "due_before"),
        ({"due_after": "2026-01-01T00:00:00"}, "due_after"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"search": "x" * 201}, "search"),
        ({"tag": "x" * 51}, "tag"),
        ({"sort": "colour"}, "sort"),
        ({"sort": "--title"}, "sort"),
    ],
)
def test_a_bad_parameter_is_a_400_that_names_it(alice_client, board, params, name):
    response = alice_client.get("/api/tasks", params)
    if name is None:  # a trailing comma is harmless
        assert response.status_code == 200
        return
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_failed"
    assert list(response.json()["fields"]) == [name]


@pytest.mark.parametrize(
    "name", ["status", "priority", "tag", "due_before", "due_after", "overdue", "updated_since", "limit", "offset"]
)
def test_a_parameter_sent_without_a_value_is_a_400_not_the_default(alice_client, board, name):
    response = alice_client.get(f"/api/tasks?{name}=")
    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == [name]


@pytest.mark.parametrize("name", ["search", "sort"])
def test_an_empty_search_or_sort_means_none(alice_client, board, name):
    assert len(ids(alice_client.get(f"/api/tasks?{name}="))) == 4


def test_search_and_tag_filters_are_trimmed_as_javascript_trims(alice_client, alice, board):
    tagged(alice, "home", title="Tagged")
    assert len(ids(alice_client.get("/api/tasks", {"search": "\ufeffmanual\u00a0"}))) == 1
    assert len(ids(alice_client.get("/api/tasks", {"tag": "\u3000home "}))) == 1


def test_a_nul_character_in_a_tag_or_search_is_a_400(alice_client, board):
    for name in ["tag", "search"]:
        response = alice_client.get("/api/tasks", {name: "a\x00b"})
        assert response.status_code == 400, response.content
        assert list(response.json()["fields"]) == [name]


def test_unknown_parameters_are_ignored(alice_client, board):
    assert len(ids(alice_client.get("/api/tasks", {"_": "1700000000"}))) == 4


def test_filters_do_not_hide_a_task_on_its_own_url(alice_client, board):
    response = alice_client.get(f"/api/tasks/{board['done'].id}", {"status": "pending"})
    assert response.status_code == 200


class TestSort:
    @pytest.fixture
    def tasks(self, alice):
        a = make_task(alice, title="banana", priority=Priority.LOW, due_at=NOW + timedelta(days=2))
        b = make_task(alice, title="Apple", priority=Priority.HIGH)
        c = make_task(alice, title="cherry", priority=Priority.MEDIUM, due_at=NOW + timedelta(days=1))
        Task.objects.filter(pk=a.pk).update(updated_at=NOW + timedelta(minutes=3))
        Task.objects.filter(pk=b.pk).update(updated_at=NOW + timedelta(minutes=1))
        Task.objects.filter(pk=c.pk).update(updated_at=NOW + timedelta(minutes=2))
        return {"a": a, "b": b, "c": c}

    @pytest.mark.parametrize(
        "sort, natural",
        [
            ("created", "cba"),  # newest first
            ("updated", "acb"),  # most recently changed first
            ("title", "bac"),  # A to Z, ignoring case
            ("priority", "bca"),  # most urgent first
        ],
    )
    def test_each_key_sorts_in_its_natural_direction_and_minus_reverses_it(self, alice_client, tasks, sort, natural):
        assert ids(alice_client.get("/api/tasks", {"sort": sort})) == [tasks[k].id for k in natural]
        assert ids(alice_client.get("/api/tasks", {"sort": f"-{sort}"})) == [tasks[k].id for k in reversed(natural)]

    def test_due_date_puts_the_soonest_first_and_no_due_date_last_both_ways(self, alice_client, tasks):
        assert ids(alice_client.get("/api/tasks", {"sort": "due_date"})) == [tasks[k].id for k in "cab"]
        assert ids(alice_client.get("/api/tasks", {"sort": "-due_date"})) == [tasks[k].id for k in "acb"]

    def test_the_default_is_newest_first(self, alice_client, tasks):
        assert ids(alice_client.get("/api/tasks")) == [tasks[k].id for k in "cba"]

    def test_keys_combine_for_ties_and_the_id_breaks_the_rest(self, alice_client, alice):
        first = make_task(alice, title="same", priority=Priority.HIGH)
        second = make_task(alice, title="same", priority=Priority.HIGH)
        low = make_task(alice, title="same", priority=Priority.LOW)
        Task.objects.update(created_at=NOW)
        assert ids(alice_client.get("/api/tasks", {"sort": "priority,title"})) == [second.id, first.id, low.id]
        assert ids(alice_client.get("/api/tasks", {"sort": "created"})) == [low.id, second.id, first.id]


class TestPagination:
    def test_pages_are_stable_and_complete_under_a_sort_with_ties(self, alice_client, alice):
        for _ in range(7):
            make_task(alice, title="same")
        Task.objects.update(created_at=NOW)
        seen = []
        for offset in range(0, 7, 3):
            seen += ids(alice_client.get("/api/tasks", {"sort": "title", "limit": 3, "offset": offset}))
        assert sorted(seen) == sorted(Task.objects.values_list("id", flat=True))
        assert len(set(seen)) == 7

    def test_first_page_has_next_but_no_prev(self, alice_client, alice):
        for _ in range(3):
            make_task(alice)
        response = alice_client.get("/api/tasks", {"limit": 2, "status": "pending"})
        assert 'rel="next"' in response["Link"] and 'rel="prev"' not in response["Link"]
        assert "status=pending" in response["Link"]  # filters carry over to the next page

    def test_last_page_has_prev_but_no_next(self, alice_client, alice):
        for _ in range(3):
            make_task(alice)
        response = alice_client.get("/api/tasks", {"limit": 2, "offset": 2})
        assert len(response.json()) == 1
        assert 'rel="prev"' in response["Link"] and 'rel="next"' not in response["Link"]

    def test_an_offset_past_the_end_is_an_empty_page(self, alice_client, alice):
        make_task(alice)
        response = alice_client.get("/api/tasks", {"offset": 50})
        assert response.json() == []
        assert response["X-Total-Count"] == "1"

    def test_a_single_page_has_no_link_header(self, alice_client, alice):
        make_task(alice)
        assert "Link" not in alice_client.get("/api/tasks")

    def test_limit_500_is_allowed(self, alice_client, alice):
        assert alice_client.get("/api/tasks", {"limit": 500}).status_code == 200

    def test_the_total_counts_filtered_tasks(self, alice_client, board):
        assert alice_client.get("/api/tasks", {"status": "pending", "limit": 1})["X-Total-Count"] == "3"


def documented_list_parameters(client) -> dict[str, dict]:
    schema = client.get("/api/schema", {"format": "json"}).json()
    return {p["name"]: p for p in schema["paths"]["/api/tasks"]["get"]["parameters"] if p["in"] == "query"}


def test_the_documented_parameters_are_the_filters_and_the_page(client, db):
    assert set(documented_list_parameters(client)) == {*TaskFilter.base_filters, "limit", "offset"}


def test_the_documented_tag_count_is_the_one_the_list_enforces(client, alice_client, board):
    most = documented_list_parameters(client)["tag"]["schema"]["maxItems"]
    assert most == TAGS_PER_FILTER
    assert alice_client.get("/api/tasks", {"tag": [f"t{i}" for i in range(most)]}).status_code == 200
    response = alice_client.get("/api/tasks", {"tag": [f"t{i}" for i in range(most + 1)]})
    assert response.status_code == 400
    assert response.json()["fields"]["tag"][0]["code"] == "max_length"


@pytest.mark.parametrize("name, limit", [("tag", TAG_MAX_LENGTH), ("search", SEARCH_MAX_LENGTH)])
def test_the_documented_text_lengths_are_the_ones_the_list_enforces(client, alice_client, board, name, limit):
    schema = documented_list_parameters(client)[name]["schema"]
    pattern = re.compile((schema.get("items") or schema)["pattern"])
    assert pattern.match(" " + "x" * limit + " ")
    assert alice_client.get("/api/tasks", {name: " " + "x" * limit + " "}).status_code == 200
    assert not pattern.match("x" * (limit + 1))
    assert alice_client.get("/api/tasks", {name: "x" * (limit + 1)}).status_code == 400


def list_query_sql(client, tags: list[str]) -> str:
    """The SQL of the task list's page query for these `tag=` values."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/tasks", {"tag": tags}).status_code == 200
    return next(
        query["sql"]
        for query in queries.captured_queries
        if 'FROM "tasks_task"' in query["sql"] and "LIMIT" in query["sql"]
    )


def planning_ms(sql: str) -> float:
    """PostgreSQL's planning time for a query, the best of three."""
    times = []
    for _ in range(3):
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (SUMMARY ON) {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        times.append(float(re.search(r"Planning Time: ([\d.]+) ms", plan).group(1)))
    return min(times)


def test_twenty_tags_are_one_subquery_and_plan_as_fast_as_one(alice_client, alice, bob):
    """A join per tag made PostgreSQL plan for seconds (12 tags: 5 s): the filter is one
    subquery whatever the number of tags, so its plan costs what one tag's does."""
    names = [f"tag{i}" for i in range(TAGS_PER_TASK)]
    every = tagged(alice, *names)
    tagged(alice, *names[:-1])
    tagged(bob, *names)
    one, twenty = list_query_sql(alice_client, names[:1]), list_query_sql(alice_client, names)
    assert ids(alice_client.get("/api/tasks", {"tag": names})) == [every.id]
    assert twenty.count("JOIN") == one.count("JOIN"), twenty
    if connection.vendor == "postgresql":  # the captured SQL carries its values inline
        assert planning_ms(twenty) < 4 * planning_ms(one) + 1


@pytest.mark.parametrize("offset", ["+01:60", "-24:00", "+99:99"])
def test_a_date_time_filter_refuses_an_offset_that_is_no_offset(alice_client, offset):
    response = alice_client.get("/api/tasks", {"due_before": f"2026-03-02T07:30:00{offset}"})
    assert response.status_code == 400
    assert "due_before" in response.json()["fields"]
