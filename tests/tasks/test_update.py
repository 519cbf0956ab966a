import pytest

from tests.tasks.factories import make_task, row


def url(task) -> str:
    return f"/api/tasks/{task.id}"


def test_put_replaces_the_writable_fields(alice_client, alice):
    task = make_task(alice, description="old", completed=True)
    response = alice_client.put(url(task), {"title": "New title"})
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "New title"
    # What PUT leaves out goes back to its default.
    assert body["description"] == ""
    assert body["completed"] is False
    assert body["completed_at"] is None


def test_put_requires_the_title(alice_client, alice):
    task = make_task(alice)
    before = row(task)
    response = alice_client.put(url(task), {"description": "no title"})
    assert response.status_code == 400
    assert response.json()["fields"]["title"][0]["code"] == "required"
    assert row(task) == before


def test_patch_changes_only_the_fields_sent(alice_client, alice):
    task = make_task(alice, description="keep me")
    response = alice_client.patch(url(task), {"title": "Renamed"})
    assert response.status_code == 200
    assert response.json()["title"] == "Renamed"
    assert response.json()["description"] == "keep me"


def test_patch_completing_sets_completed_at_and_reopening_clears_it(alice_client, alice):
    task = make_task(alice)
    done = alice_client.patch(url(task), {"completed": True}).json()
    assert done["completed_at"] is not None
    reopened = alice_client.patch(url(task), {"completed": False}).json()
    assert reopened["completed"] is False
    assert reopened["completed_at"] is None


def test_patch_advances_updated_at(alice_client, alice):
    task = make_task(alice)
    before = alice_client.get(url(task)).json()["updated_at"]
    after = alice_client.patch(url(task), {"title": "Changed"}).json()["updated_at"]
    assert after > before


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize(
    "payload",
    [
        {"title": ""},
        {"title": "x" * 201},
        {"title": "ok", "description": "x" * 1001},
        {"title": "ok", "completed": "true"},
        {"title": "ok", "colour": "red"},
    ],
)
def test_a_rejected_update_changes_nothing(alice_client, alice, method, payload):
    task = make_task(alice, description="original")
    before = row(task)
    response = getattr(alice_client, method)(url(task), payload)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    assert row(task) == before


def test_it_cannot_move_a_task_to_another_user(alice_client, alice, bob):
    task = make_task(alice)
    response = alice_client.patch(url(task), {"user_id": bob.better_auth_id, "title": "still mine"})
    assert response.status_code == 400
    task.refresh_from_db()
    assert task.owner_id == alice.better_auth_id


@pytest.mark.parametrize("method", ["put", "patch"])
def test_it_returns_404_for_another_users_task_and_changes_nothing(bob_client, alice, method):
    task = make_task(alice)
    before = row(task)
    response = getattr(bob_client, method)(url(task), {"title": "Hijacked"})
    assert response.status_code == 404
    assert row(task) == before
