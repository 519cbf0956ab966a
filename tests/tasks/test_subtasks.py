"""Subtasks: `parent_id`, one level deep, in the parent's list; `parent=`; counts; deletes, completion, recurrence."""

import pytest

from tasks.limits import SUBTASKS_PER_TASK
from tasks.models import Task, TaskList


def create(client, title, **fields):
    return client.post("/api/tasks", {"title": title, **fields}, format="json")


def created(client, title, **fields) -> dict:
    response = create(client, title, **fields)
    assert response.status_code == 201, response.json()
    return response.json()


def code_of(response, field):
    assert response.status_code == 400, response.json()
    return response.json()["fields"][field][0]["code"]


@pytest.fixture
def parent(alice_client):
    return created(alice_client, "Pack")


def test_a_subtask_has_its_parent_and_the_parent_counts_it(alice_client, parent):
    one = created(alice_client, "socks", parent_id=parent["id"])
    created(alice_client, "shirts", parent_id=parent["id"])
    assert one["parent_id"] == parent["id"]
    alice_client.patch(f"/api/tasks/{one['id']}/complete", format="json")
    shown = alice_client.get(f"/api/tasks/{parent['id']}").json()
    assert (shown["subtask_count"], shown["open_subtask_count"]) == (2, 1)
    listed = {task["title"]: task for task in alice_client.get("/api/tasks").json()}
    assert (listed["Pack"]["subtask_count"], listed["Pack"]["open_subtask_count"]) == (2, 1)
    assert listed["socks"]["parent_id"] == parent["id"] and listed["socks"]["subtask_count"] == 0


def test_the_parent_filter_gives_subtasks_or_top_level_tasks(alice_client, parent):
    created(alice_client, "socks", parent_id=parent["id"])
    created(alice_client, "other")
    subtasks = alice_client.get("/api/tasks", {"parent": parent["id"], "sort": "position"})
    assert [task["title"] for task in subtasks.json()] == ["socks"]
    top = alice_client.get("/api/tasks", {"parent": "none"})
    assert sorted(task["title"] for task in top.json()) == ["Pack", "other"]
    assert alice_client.get("/api/tasks", {"parent": "x"}).status_code == 400
    assert alice_client.get("/api/tasks", {"parent": ""}).status_code == 400


def test_the_parent_filter_is_404_for_another_users_task(bob_client, parent):
    assert bob_client.get("/api/tasks", {"parent": parent["id"]}).status_code == 404


def test_subtasks_are_one_level_deep(alice_client, parent):
    child = created(alice_client, "socks", parent_id=parent["id"])
    assert code_of(create(alice_client, "grandchild", parent_id=child["id"]), "parent_id") == "too_deep"
    other = created(alice_client, "other")
    # A task with subtasks cannot become one.
    moved = alice_client.patch(f"/api/tasks/{parent['id']}", {"parent_id": other["id"]}, format="json")
    assert code_of(moved, "parent_id") == "too_deep"


def test_a_task_cannot_be_its_own_parent(alice_client, parent):
    response = alice_client.patch(f"/api/tasks/{parent['id']}", {"parent_id": parent["id"]}, format="json")
    assert code_of(response, "parent_id") == "own_parent"


@pytest.mark.parametrize("whose", ["bob's", "nobody's"])
def test_a_parent_that_is_not_the_callers_does_not_exist(alice_client, bob_client, whose):
    bobs = created(bob_client, "bob's")
    parent_id = bobs["id"] if whose == "bob's" else 10**12
    assert code_of(create(alice_client, "x", parent_id=parent_id), "parent_id") == "does_not_exist"
    mine = created(alice_client, "mine")
    patched = alice_client.patch(f"/api/tasks/{mine['id']}", {"parent_id": parent_id}, format="json")
    assert code_of(patched, "parent_id") == "does_not_exist"


def test_a_subtask_follows_its_parents_list(alice, alice_client):
    work = TaskList.objects.create(owner=alice, name="Work")
    home = TaskList.objects.create(owner=alice, name="Home")
    parent = created(alice_client, "Pack", list_id=work.pk)
    child = created(alice_client, "socks", parent_id=parent["id"])
    assert child["list_id"] == work.pk
    assert code_of(create(alice_client, "x", parent_id=parent["id"], list_id=home.pk), "list_id") == "follows_parent"
    patched = alice_client.patch(f"/api/tasks/{child['id']}", {"list_id": home.pk}, format="json")
    assert code_of(patched, "list_id") == "follows_parent"
    moved = alice_client.post(f"/api/tasks/{child['id']}/move", {"list_id": home.pk}, format="json")
    assert code_of(moved, "list_id") == "follows_parent"
    bulk = alice_client.post(
        "/api/tasks/bulk", {"action": "move", "ids": [child["id"]], "list_id": home.pk}, format="json"
    )
    assert code_of(bulk, "ids") == "follows_parent"
    # The parent changing lists takes its subtasks along, each a new version.
    assert alice_client.patch(f"/api/tasks/{parent['id']}", {"list_id": home.pk}, format="json").status_code == 200
    followed = Task.objects.get(pk=child["id"])
    assert followed.list_id == home.pk and followed.version == 2


def test_a_subtask_can_be_moved_among_its_siblings_only(alice_client, parent):
    one, two = (created(alice_client, title, parent_id=parent["id"]) for title in ("one", "two"))
    other = created(alice_client, "other")
    assert alice_client.post(f"/api/tasks/{two['id']}/move", {"before": one["id"]}, format="json").status_code == 200
    subtasks = alice_client.get("/api/tasks", {"parent": parent["id"], "sort": "position"}).json()
    assert [task["title"] for task in subtasks] == ["two", "one"]
    response = alice_client.post(f"/api/tasks/{two['id']}/move", {"before": other["id"]}, format="json")
    assert code_of(response, "before") == "not_a_sibling"


def test_a_subtask_becomes_a_top_level_task_at_the_end(alice_client, parent):
    child = created(alice_client, "socks", parent_id=parent["id"])
    response = alice_client.patch(f"/api/tasks/{child['id']}", {"parent_id": None}, format="json")
    assert response.status_code == 200 and response.json()["parent_id"] is None
    top = alice_client.get("/api/tasks", {"parent": "none", "sort": "position"}).json()
    assert [task["title"] for task in top] == ["Pack", "socks"]


def test_a_parent_has_at_most_the_limits_subtasks(alice, alice_client, parent):
    Task.objects.bulk_create(
        [Task(owner=alice, title=f"s{i}", parent_id=parent["id"]) for i in range(SUBTASKS_PER_TASK)]
    )
    response = create(alice_client, "one more", parent_id=parent["id"])
    assert response.status_code == 409 and response.json()["code"] == "subtask_limit_reached"


@pytest.mark.parametrize("route", ["complete", "bulk"])
def test_a_recurring_subtask_at_the_limit_does_not_spawn_past_it(alice, alice_client, parent, route):
    recurring = created(
        alice_client, "water", parent_id=parent["id"], due_at="2026-01-05T09:00:00Z", recurrence="FREQ=DAILY"
    )
    Task.objects.bulk_create(
        [Task(owner=alice, title=f"s{i}", parent_id=parent["id"]) for i in range(SUBTASKS_PER_TASK - 1)]
    )
    if route == "complete":
        response = alice_client.patch(f"/api/tasks/{recurring['id']}/complete", format="json")
    else:
        response = alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": [recurring["id"]]}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "subtask_limit_reached"
    # Nothing changed: the subtask is still open, and no occurrence was made.
    assert Task.objects.filter(parent_id=parent["id"]).count() == SUBTASKS_PER_TASK
    assert alice_client.get(f"/api/tasks/{recurring['id']}").json()["completed"] is False


def test_deleting_a_parent_deletes_its_subtasks(alice_client, parent):
    created(alice_client, "socks", parent_id=parent["id"])
    assert alice_client.delete(f"/api/tasks/{parent['id']}").status_code == 204
    assert not Task.objects.exists()


def test_completing_a_parent_leaves_its_subtasks_but_bulk_can_include_them(alice_client, parent):
    child = created(alice_client, "socks", parent_id=parent["id"])
    alice_client.patch(f"/api/tasks/{parent['id']}/complete", format="json")
    assert Task.objects.get(pk=child["id"]).completed is False
    alice_client.patch(f"/api/tasks/{parent['id']}/complete", format="json")  # reopened
    response = alice_client.post(
        "/api/tasks/bulk", {"action": "complete", "ids": [parent["id"]], "include_subtasks": True}, format="json"
    )
    assert response.status_code == 200 and response.json()["changed"] == 2
    assert Task.objects.get(pk=child["id"]).completed is True
    refused = alice_client.post(
        "/api/tasks/bulk", {"action": "delete", "ids": [parent["id"]], "include_subtasks": True}, format="json"
    )
    assert code_of(refused, "include_subtasks") == "unexpected"


@pytest.mark.parametrize("path", ["complete", "bulk"])
def test_a_recurring_parents_next_occurrence_copies_its_subtasks_reopened(alice_client, path):
    parent = created(alice_client, "Weekly review", due_at="2026-01-05T09:00:00Z", recurrence="FREQ=WEEKLY")
    for title in ("inbox zero", "plan"):
        created(alice_client, title, parent_id=parent["id"])
    Task.objects.filter(title="plan").update(completed=True)
    if path == "complete":
        alice_client.patch(f"/api/tasks/{parent['id']}/complete", format="json")
    else:
        alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": [parent["id"]]}, format="json")
    following = Task.objects.get(pk=parent["id"]).next_occurrence
    copies = following.subtasks.order_by("position")
    assert [(task.title, task.completed) for task in copies] == [("inbox zero", False), ("plan", False)]
    assert Task.objects.filter(parent_id=parent["id"]).count() == 2


@pytest.mark.parametrize("path", ["complete", "bulk"])
def test_the_task_limit_counts_the_copied_subtasks(alice_client, settings, path):
    parent = created(alice_client, "Weekly review", due_at="2026-01-05T09:00:00Z", recurrence="FREQ=WEEKLY")
    created(alice_client, "inbox zero", parent_id=parent["id"])
    # Two tasks now; the next occurrence and its subtask would make four.
    settings.TASKS = {**settings.TASKS, "MAX_TASKS_PER_USER": 3}
    if path == "complete":
        response = alice_client.patch(f"/api/tasks/{parent['id']}/complete", format="json")
    else:
        response = alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": [parent["id"]]}, format="json")
    assert response.status_code == 409
    assert Task.objects.count() == 2 and not Task.objects.get(pk=parent["id"]).completed


def test_the_task_limit_counts_subtasks_on_create(alice_client, settings, parent):
    settings.TASKS = {**settings.TASKS, "MAX_TASKS_PER_USER": 2}
    created(alice_client, "socks", parent_id=parent["id"])
    assert create(alice_client, "shirts", parent_id=parent["id"]).status_code == 409


def test_a_bulk_move_of_a_parent_takes_its_subtasks(alice, alice_client, parent):
    work = TaskList.objects.create(owner=alice, name="Work")
    child = created(alice_client, "socks", parent_id=parent["id"])
    response = alice_client.post(
        "/api/tasks/bulk", {"action": "move", "ids": [parent["id"]], "list_id": work.pk}, format="json"
    )
    assert response.status_code == 200
    assert Task.objects.get(pk=child["id"]).list_id == work.pk


def test_the_phase_two_routes_show_the_new_fields(alice, alice_client, parent):
    child = created(alice_client, "socks", parent_id=parent["id"])
    body = alice_client.get(f"/api/{alice.better_auth_id}/tasks/{child['id']}").json()
    assert body["parent_id"] == parent["id"] and body["position"] == child["position"]
    listed = alice_client.get(f"/api/{alice.better_auth_id}/tasks").json()
    assert {task["id"]: task["subtask_count"] for task in listed} == {parent["id"]: 1, child["id"]: 0}


def test_bob_cannot_make_alices_task_a_parent_nor_complete_its_subtasks(bob_client, alice_client, parent):
    child = created(alice_client, "socks", parent_id=parent["id"])
    bulk = bob_client.post(
        "/api/tasks/bulk", {"action": "complete", "ids": [parent["id"]], "include_subtasks": True}, format="json"
    )
    assert bulk.status_code == 404
    assert Task.objects.get(pk=child["id"]).completed is False
