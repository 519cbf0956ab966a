"""The Phase II routes `/api/{user_id}/tasks...` behave as the token-scoped ones."""

from tasks.models import Task
from tests.auth import ALICE_ID
from tests.tasks.factories import make_task

BASE = f"/api/{ALICE_ID}/tasks"


def test_both_route_styles_return_the_same_json_for_the_same_task(alice_client, alice):
    task = make_task(alice, description="same")
    assert alice_client.get(f"{BASE}/{task.id}").json() == alice_client.get(f"/api/tasks/{task.id}").json()
    assert alice_client.get(BASE).json() == alice_client.get("/api/tasks").json()


def test_it_runs_the_whole_lifecycle(alice_client):
    created = alice_client.post(BASE, {"title": "Phase II"})
    assert created.status_code == 201
    task_id = created.json()["id"]
    assert created["Location"] == f"http://testserver{BASE}/{task_id}"
    assert created.json()["user_id"] == ALICE_ID

    assert [t["id"] for t in alice_client.get(BASE).json()] == [task_id]
    assert alice_client.get(f"{BASE}/{task_id}/").json()["title"] == "Phase II"
    assert alice_client.put(f"{BASE}/{task_id}", {"title": "Replaced"}).json()["title"] == "Replaced"
    assert alice_client.patch(f"{BASE}/{task_id}", {"description": "d"}).json()["description"] == "d"
    assert alice_client.patch(f"{BASE}/{task_id}/complete").json()["completed"] is True
    assert alice_client.delete(f"{BASE}/{task_id}").status_code == 204
    assert not Task.objects.exists()


def test_it_rejects_invalid_input_as_the_other_route_does(alice_client):
    response = alice_client.post(f"{BASE}/", {"title": ""})
    assert response.status_code == 400
    assert response.json()["fields"]["title"][0]["code"] == "blank"
