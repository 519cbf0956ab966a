"""The admin for operators: users (find, deactivate, reactivate) and tasks (find, fix, clean up).

Olivia is the operator; Alice and Bob are API users with tasks.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from tasks.admin import EstimatedCountPaginator
from tasks.models import Priority, Tag, Task
from tests.tasks.factories import make_task

USERS = "/admin/accounts/user/"
TASKS = "/admin/tasks/task/"


@pytest.fixture
def olivia(db) -> User:
    return User.objects.create_superuser(username="olivia", password="an operator's long password")


@pytest.fixture
def operator(client, olivia):
    """A test client signed in to the admin as Olivia."""
    client.force_login(olivia)
    return client


def act(operator, url: str, action: str, objects):
    response = operator.post(url, {"action": action, "_selected_action": [o.pk for o in objects]}, follow=True)
    assert response.status_code == 200
    return response


def test_the_admin_needs_an_operator(client, alice):
    response = client.get(USERS)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_it_lists_users_with_their_task_count_and_last_seen(operator, alice, bob):
    make_task(alice, title="one")
    make_task(alice, title="two")
    User.objects.filter(pk=bob.pk).update(last_seen_at=None)
    response = operator.get(USERS)
    assert response.status_code == 200
    counts = {user.better_auth_id: user.task_count for user in listed(response)}
    assert (counts[alice.better_auth_id], counts[bob.better_auth_id]) == (2, 0)
    html = response.content.decode()
    assert f'<a href="/admin/tasks/task/?owner__exact={alice.better_auth_id}">2</a>' in html
    assert 'class="field-last_seen_at nowrap">-<' in html  # Bob was never seen


@pytest.mark.parametrize("term", ["alice@example", "Alice", "aLiCe0000000000000000000000000001"])
def test_it_finds_a_user_by_email_name_or_better_auth_id(operator, alice, bob, term):
    response = operator.get(USERS, {"q": term})
    assert listed(response) == [alice]


def test_deactivating_a_user_refuses_their_token_at_once(operator, alice_client, bob_client, bob):
    assert bob_client.get("/api/tasks").status_code == 200
    response = act(operator, USERS, "deactivate", [bob])
    assert "Deactivated 1 user(s)" in response.content.decode()
    denied = bob_client.get("/api/tasks")
    assert (denied.status_code, denied.json()["code"]) == (403, "account_disabled")
    assert alice_client.get("/api/tasks").status_code == 200


def test_reactivating_lets_the_same_token_back_in(operator, bob_client, bob):
    act(operator, USERS, "deactivate", [bob])
    act(operator, USERS, "reactivate", [bob])
    assert bob_client.get("/api/tasks").status_code == 200


def test_an_operator_cannot_deactivate_themself(operator, olivia, bob):
    response = act(operator, USERS, "deactivate", [olivia, bob])
    assert "You cannot deactivate yourself" in response.content.decode()
    olivia.refresh_from_db()
    bob.refresh_from_db()
    assert (olivia.is_active, bob.is_active) == (True, False)


def test_the_user_page_shows_last_seen_and_tasks_read_only(operator, alice_client, alice):
    alice_client.get("/api/me")
    response = operator.get(f"{USERS}{alice.pk}/change/")
    assert response.status_code == 200
    assert "last_seen_at" not in response.context["adminform"].form.fields
    assert "task_count" in response.context["adminform"].readonly_fields


def test_the_user_list_costs_the_same_queries_for_many_users(operator, alice):
    many = [User(better_auth_id=f"user{i:028d}", email=f"user{i}@example.com") for i in range(30)]
    User.objects.bulk_create(many)
    Task.objects.bulk_create([Task(owner=user, title="t") for user in many])
    with CaptureQueriesContext(connection) as for_many:
        assert operator.get(USERS).status_code == 200
    User.objects.filter(better_auth_id__startswith="user").delete()
    with CaptureQueriesContext(connection) as for_one:
        operator.get(USERS)
    assert len(for_many) == len(for_one)


def test_picking_a_task_owner_offers_api_users_only(operator, alice, olivia):
    params = {"app_label": "tasks", "model_name": "task", "field_name": "owner", "term": ""}
    response = operator.get("/admin/autocomplete/", params)
    assert [result["id"] for result in response.json()["results"]] == [alice.better_auth_id]


def test_it_lists_tasks_with_owner_priority_due_and_tags(operator, alice):
    task = make_task(alice, title="Pay rent", priority=Priority.HIGH, due_at=timezone.now())
    task.tags.set([Tag.objects.create(owner=alice, name="money"), Tag.objects.create(owner=alice, name="home")])
    html = operator.get(TASKS).content.decode()
    for cell in ["Pay rent", "alice@example.com", "high", "home, money"]:
        assert f">{cell}</" in html


@pytest.mark.parametrize("term", ["milk", "bob@example"])
def test_it_finds_tasks_by_title_or_owner_email(operator, alice, bob, term):
    make_task(alice, title="Buy milk")
    make_task(bob, title="Fix the bike")
    make_task(alice, title="Call mum")
    expected = {"milk": ["Buy milk"], "bob@example": ["Fix the bike"]}[term]
    assert titles(operator.get(TASKS, {"q": term})) == expected


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"completed__exact": "1"}, ["done"]),
        ({"priority__exact": str(Priority.HIGH)}, ["urgent"]),
        ({"due": "overdue"}, ["late"]),
        ({"due": "week"}, ["soon"]),
        ({"due": "none"}, ["done", "urgent"]),
    ],
)
def test_it_filters_tasks_by_completion_priority_and_due_date(operator, alice, params, expected):
    now = timezone.now()
    make_task(alice, title="done", completed=True)
    make_task(alice, title="urgent", priority=Priority.HIGH)
    make_task(alice, title="late", due_at=now - timedelta(days=1))
    make_task(alice, title="soon", due_at=now + timedelta(days=2))
    assert sorted(titles(operator.get(TASKS, params))) == expected


def test_the_users_task_count_links_to_their_tasks(operator, alice, bob):
    make_task(alice, title="Alice's")
    make_task(bob, title="Bob's")
    assert titles(operator.get(TASKS, {"owner__exact": alice.better_auth_id})) == ["Alice's"]


def test_completing_and_reopening_tasks(operator, alice):
    first, second = make_task(alice, title="a"), make_task(alice, title="b", completed=True)
    act(operator, TASKS, "complete", [first, second])
    first.refresh_from_db()
    assert first.completed and first.completed_at is not None
    act(operator, TASKS, "reopen", [first])
    first.refresh_from_db()
    assert not first.completed and first.completed_at is None


def test_completing_a_recurring_task_creates_its_next_occurrence(operator, alice):
    due = timezone.now().replace(microsecond=0)
    task = make_task(alice, title="Water plants", due_at=due, recurrence="FREQ=DAILY")
    response = act(operator, TASKS, "complete", [task])
    assert "1 next occurrence(s) created" in response.content.decode()
    task.refresh_from_db()
    assert task.next_occurrence.due_at == due + timedelta(days=1)


def test_deleting_tasks(operator, alice):
    doomed = make_task(alice, title="doomed")
    make_task(alice, title="kept")
    data = {"action": "delete_selected", "_selected_action": [doomed.pk], "post": "yes"}
    operator.post(TASKS, data)
    assert list(Task.objects.values_list("title", flat=True)) == ["kept"]


def test_the_task_form_picks_the_owner_by_autocomplete_with_read_only_timestamps(operator, alice):
    task = make_task(alice)
    response = operator.get(f"{TASKS}{task.pk}/change/")
    html = response.content.decode()
    assert 'class="admin-autocomplete' in html and 'data-field-name="owner"' in html
    assert html.count("<option") < 10  # never one option per user
    form = response.context["adminform"]
    assert {"created_at", "updated_at", "completed_at", "position"} <= set(form.readonly_fields)


def test_the_task_page_shows_its_subtasks_inline_in_order(operator, alice):
    parent = make_task(alice, title="Pack")
    make_task(alice, title="shirts", parent=parent, position=2)
    make_task(alice, title="socks", parent=parent, position=1)
    html = operator.get(f"{TASKS}{parent.pk}/change/").content.decode()
    assert html.index("socks") < html.index("shirts")


def test_the_task_form_refuses_a_subtask_of_a_subtask(operator, alice):
    parent = make_task(alice, title="Pack")
    child = make_task(alice, title="socks", parent=parent)
    task = make_task(alice, title="x")
    response = operator.post(f"{TASKS}{task.pk}/change/", _task_form(task, parent=child.pk))
    assert response.status_code == 200 and "one level deep" in response.content.decode()


def _task_form(task: Task, **changes) -> dict:
    data = {
        "owner": task.owner_id,
        "title": task.title,
        "description": "",
        "priority": task.priority,
        "due_at_0": "",
        "due_at_1": "",
        "recurrence": "",
        "tags": [],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_task_form_saves_a_change(operator, alice):
    task = make_task(alice, title="old")
    response = operator.post(f"{TASKS}{task.pk}/change/", _task_form(task, title="new"))
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.title == "new"


def test_the_task_form_refuses_another_users_tag(operator, alice, bob):
    task = make_task(alice)
    bobs = Tag.objects.create(owner=bob, name="bob's")
    response = operator.post(f"{TASKS}{task.pk}/change/", _task_form(task, tags=[bobs.pk]))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["tags"] == ["Tags must belong to the task's owner."]


@pytest.mark.parametrize(
    "changes, field",
    [({"recurrence": "FREQ=HOURLY"}, "recurrence"), ({"recurrence": "FREQ=DAILY"}, "due_at")],
)
def test_the_task_form_refuses_a_bad_recurrence(operator, alice, changes, field):
    task = make_task(alice)
    response = operator.post(f"{TASKS}{task.pk}/change/", _task_form(task, **changes))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors


def test_the_task_list_costs_the_same_queries_for_many_tasks(operator, alice, bob):
    make_task(alice).tags.set([Tag.objects.create(owner=alice, name="x")])
    with CaptureQueriesContext(connection) as for_one:
        assert operator.get(TASKS).status_code == 200
    for i in range(15):
        make_task(alice, title=f"alice {i}").tags.set([Tag.objects.create(owner=alice, name=f"t{i}")])
        make_task(bob, title=f"bob {i}")
    with CaptureQueriesContext(connection) as for_many:
        operator.get(TASKS)
    assert len(for_many) == len(for_one)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="estimates come from PostgreSQL's planner")
def test_a_large_task_list_is_counted_up_to_a_cap_then_estimated(alice, monkeypatch):
    Task.objects.bulk_create([Task(owner=alice, title="Buy milk") for _ in range(30)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tasks_task")
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_UP_TO", 10)
    with CaptureQueriesContext(connection) as queries:
        assert EstimatedCountPaginator(Task.objects.all(), 100).count == 30
    assert "LIMIT 11" in queries[0]["sql"]  # counts at most 11 rows...
    assert queries[1]["sql"].startswith("EXPLAIN")  # ...then asks the planner


def test_a_small_task_list_is_counted_exactly(alice, monkeypatch):
    Task.objects.bulk_create([Task(owner=alice, title="Buy milk") for _ in range(3)])
    assert EstimatedCountPaginator(Task.objects.all(), 100).count == 3


def listed(response) -> list:
    """The objects on the changelist page, in order."""
    return list(response.context["cl"].result_list)


def titles(response) -> list[str]:
    return [task.title for task in listed(response)]


def test_the_task_list_offers_no_filter_counts(operator, alice):
    make_task(alice)
    assert "Show counts" not in operator.get(TASKS).content.decode()
    assert "Show counts" not in operator.get(TASKS, {"_facets": "1"}).content.decode()


def test_it_lists_task_lists_linked_to_their_tasks(operator, alice, bob):
    from tasks.models import Task, TaskList

    work = TaskList.objects.create(owner=alice, name="Work")
    Task.objects.create(owner=alice, title="in work", list=work)
    Task.objects.create(owner=alice, title="in the inbox")
    lists = operator.get("/admin/tasks/tasklist/")
    assert lists.status_code == 200 and f"list__id__exact={work.pk}" in lists.content.decode()
    tasks = operator.get(f"/admin/tasks/task/?list__id__exact={work.pk}")
    assert tasks.status_code == 200
    assert "in work" in tasks.content.decode() and "in the inbox" not in tasks.content.decode()


def test_an_operator_cannot_put_a_task_in_another_owners_list(alice, bob):
    from tasks.admin import TaskAdminForm
    from tasks.models import TaskList

    bobs = TaskList.objects.create(owner=bob, name="Bob's")
    form = TaskAdminForm(
        data={"owner": alice.better_auth_id, "title": "t", "description": "", "priority": 0, "list": bobs.pk}
    )
    assert not form.is_valid() and "list" in form.errors
