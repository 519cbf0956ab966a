"""Every task read starts from one scoping rule (Task.objects.visible_to, through
tasks.queries.caller_tasks): a rule added there holds on every route, fast paths included."""

import pytest

from tasks import queries
from tasks.models import TaskQuerySet
from tests.tasks.factories import make_task


@pytest.fixture
def archived_tasks_hidden(monkeypatch):
    """A new scoping rule: tasks titled "archived" are no longer the caller's to see."""
    visible_to = TaskQuerySet.visible_to
    monkeypatch.setattr(
        TaskQuerySet, "visible_to", lambda self, owner_id: visible_to(self, owner_id).exclude(title="archived")
    )
    queries._compiled.cache_clear()  # the compiled reads are built from the rule once per process
    yield
    queries._compiled.cache_clear()


@pytest.fixture
def tasks(alice):
    return make_task(alice, title="shown"), make_task(alice, title="archived")


@pytest.mark.parametrize("path", ["/api/tasks", "/api/{alice}/tasks"])
@pytest.mark.parametrize("params", [{}, {"status": "all"}, {"sort": "title"}, {"limit": 1}])
def test_lists_obey_a_rule_added_to_the_scope(alice_client, alice, tasks, archived_tasks_hidden, path, params):
    response = alice_client.get(path.format(alice=alice.better_auth_id), params)
    assert [task["title"] for task in response.json()] == ["shown"]
    assert response["X-Total-Count"] == "1"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/tasks/{id}", None),
        ("get", "/api/{alice}/tasks/{id}", None),
        ("put", "/api/tasks/{id}", {"title": "x"}),
        ("patch", "/api/tasks/{id}", {"title": "x"}),
        ("patch", "/api/{alice}/tasks/{id}", {"title": "x"}),
        ("delete", "/api/tasks/{id}", None),
        ("patch", "/api/tasks/{id}/complete", None),
    ],
)
def test_one_task_routes_obey_a_rule_added_to_the_scope(
    alice_client, alice, tasks, archived_tasks_hidden, method, path, body
):
    hidden = tasks[1]
    response = getattr(alice_client, method)(path.format(alice=alice.better_auth_id, id=hidden.pk), body, format="json")
    assert response.status_code == 404
    hidden.refresh_from_db()
    assert (hidden.title, hidden.completed, hidden.version) == ("archived", False, 1)


def test_bulk_and_stats_obey_a_rule_added_to_the_scope(alice_client, tasks, archived_tasks_hidden):
    bulk = alice_client.post("/api/tasks/bulk", {"action": "delete", "ids": [task.pk for task in tasks]}, format="json")
    assert bulk.status_code == 404
    assert alice_client.get("/api/tasks/stats").json()["total"] == 1
