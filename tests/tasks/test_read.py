from tests.auth import ALICE_ID
from tests.tasks.factories import make_task


def test_it_returns_the_callers_task(alice_client, alice):
    task = make_task(alice, description="2 litres")
    response = alice_client.get(f"/api/tasks/{task.id}")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": task.id,
        "user_id": ALICE_ID,
        "title": "Buy milk",
        "description": "2 litres",
        "completed": False,
        "completed_at": None,
        "priority": "none",
        "tags": [],
        "due_at": None,
        "due_date": None,
        "due_timezone": None,
        "recurrence": None,
        "list_id": None,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert body["created_at"].endswith("Z")


def test_it_answers_with_and_without_a_trailing_slash(alice_client, alice):
    task = make_task(alice)
    assert alice_client.get(f"/api/tasks/{task.id}/").status_code == 200
    assert alice_client.get("/api/tasks/").status_code == 200


def test_it_returns_404_for_another_users_task(bob_client, alice):
    task = make_task(alice)
    response = bob_client.get(f"/api/tasks/{task.id}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_it_returns_404_for_a_missing_or_non_integer_id(alice_client):
    for path in ["/api/tasks/999999", "/api/tasks/abc", "/api/tasks/1e3", "/api/tasks/99999999999999999999999"]:
        response = alice_client.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found", path
