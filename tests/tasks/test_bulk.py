import pytest

from tasks.models import Tag, Task
from tasks.services import task_set_tags
from tests.tasks.factories import make_task, row

URL = "/api/tasks/bulk"


def test_it_completes_several_tasks(alice_client, alice):
    tasks = [make_task(alice) for _ in range(3)]
    done = make_task(alice, completed=True)
    response = alice_client.post(URL, {"action": "complete", "ids": [t.id for t in tasks] + [done.id]})
    assert response.status_code == 200
    assert response.json() == {
        "action": "complete",
        "ids": sorted([t.id for t in tasks] + [done.id]),
        "changed": 3,
        "created": [],
        "removed": [],
    }
    assert Task.objects.filter(completed=True, completed_at__isnull=False).count() == 4


def test_it_reopens_several_tasks(alice_client, alice):
    tasks = [make_task(alice, completed=True) for _ in range(2)]
    response = alice_client.post(URL, {"action": "reopen", "ids": [t.id for t in tasks]})
    assert response.json()["changed"] == 2
    assert not Task.objects.filter(completed=True).exists()
    assert not Task.objects.filter(completed_at__isnull=False).exists()


def test_it_deletes_several_tasks_and_their_unused_tags(alice_client, alice):
    keep = make_task(alice)
    tasks = [make_task(alice) for _ in range(2)]
    task_set_tags(task=tasks[0], names=["gone"])
    response = alice_client.post(URL, {"action": "delete", "ids": [t.id for t in tasks]})
    assert response.status_code == 200
    assert list(Task.objects.values_list("id", flat=True)) == [keep.id]
    assert not Tag.objects.exists()


def test_clear_completed_is_a_list_then_a_bulk_delete(alice_client, alice):
    make_task(alice)
    for _ in range(3):
        make_task(alice, completed=True)
    completed = [t["id"] for t in alice_client.get("/api/tasks", {"status": "completed"}).json()]
    alice_client.post(URL, {"action": "delete", "ids": completed})
    assert alice_client.get("/api/tasks/stats").json()["completed"] == 0


@pytest.mark.parametrize("action", ["complete", "reopen", "delete"])
def test_one_foreign_id_makes_it_a_404_and_changes_nothing(alice_client, alice, bob, action):
    mine = make_task(alice, completed=action == "reopen")
    theirs = make_task(bob, completed=action == "reopen")
    before = [row(mine), row(theirs)]
    response = alice_client.post(URL, {"action": action, "ids": [mine.id, theirs.id]})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert [row(mine), row(theirs)] == before


def test_an_unknown_id_makes_it_a_404_and_changes_nothing(alice_client, alice):
    mine = make_task(alice)
    response = alice_client.post(URL, {"action": "delete", "ids": [mine.id, 987654321]})
    assert response.status_code == 404
    assert Task.objects.filter(pk=mine.pk).exists()


def test_repeated_ids_count_once(alice_client, alice):
    task = make_task(alice)
    response = alice_client.post(URL, {"action": "complete", "ids": [task.id, task.id]})
    assert response.status_code == 200
    assert response.json()["ids"] == [task.id]


def test_it_accepts_500_ids(alice_client, alice):
    Task.objects.bulk_create([Task(owner=alice, title=f"t{i}") for i in range(500)])
    ids = list(Task.objects.values_list("id", flat=True))
    response = alice_client.post(URL, {"action": "complete", "ids": ids})
    assert response.status_code == 200
    assert response.json()["changed"] == 500


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"action": "archive", "ids": [1]}, "action"),
        ({"action": True, "ids": [1]}, "action"),
        ({"ids": [1]}, "action"),
        ({"action": "delete"}, "ids"),
        ({"action": "delete", "ids": []}, "ids"),
        ({"action": "delete", "ids": list(range(1, 502))}, "ids"),
        ({"action": "delete", "ids": ["1"]}, "ids.0"),
        ({"action": "delete", "ids": [1.5]}, "ids.0"),
        ({"action": "delete", "ids": [True]}, "ids.0"),
        ({"action": "delete", "ids": [0]}, "ids.0"),
        ({"action": "delete", "ids": [2**63]}, "ids.0"),
        ({"action": "delete", "ids": [1], "force": True}, "force"),
    ],
)
def test_it_rejects_a_bad_body_naming_the_field(alice_client, alice, payload, field):
    task = make_task(alice)
    response = alice_client.post(URL, payload)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert Task.objects.filter(pk=task.pk).exists()


def test_it_requires_a_token(client, alice):
    task = make_task(alice)
    response = client.post(URL, {"action": "delete", "ids": [task.id]}, content_type="application/json")
    assert response.status_code == 401
    assert Task.objects.filter(pk=task.pk).exists()


def rare(owner, count: int) -> list[int]:
    """Recurring tasks whose next occurrence is searched for across the whole horizon."""
    from datetime import UTC, datetime

    due = datetime(2029, 1, 1, 9, tzinfo=UTC)
    rule = "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29"  # stored before the checks: never again
    return [make_task(owner, title=f"rare {i}", due_at=due, recurrence=rule).id for i in range(count)]


def test_a_bulk_complete_over_the_search_budget_is_refused_and_changes_nothing(alice_client, alice):
    from tasks.recurrence import REQUEST_SEARCH_LOOKS, SEARCH_HORIZON

    ids = rare(alice, REQUEST_SEARCH_LOOKS // SEARCH_HORIZON["YEARLY"] + 1)
    response = alice_client.post(URL, {"action": "complete", "ids": ids})
    assert response.status_code == 409
    assert response.json()["code"] == "search_budget_reached"
    assert not Task.objects.filter(completed=True).exists()


def test_a_bulk_complete_within_the_search_budget_completes_every_task(alice_client, alice):
    from tasks.recurrence import REQUEST_SEARCH_LOOKS, SEARCH_HORIZON

    ids = rare(alice, REQUEST_SEARCH_LOOKS // (SEARCH_HORIZON["YEARLY"] + 1))
    response = alice_client.post(URL, {"action": "complete", "ids": ids})
    assert response.status_code == 200
    assert response.json()["changed"] == len(ids)
