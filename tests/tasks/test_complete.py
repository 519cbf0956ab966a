import pytest

from tests.tasks.factories import make_task, row


def url(task) -> str:
    return f"/api/tasks/{task.id}/complete"


def test_it_toggles_without_a_body(alice_client, alice):
    task = make_task(alice)
    first = alice_client.patch(url(task))
    assert first.status_code == 200
    assert first.json()["completed"] is True
    assert first.json()["completed_at"] is not None
    second = alice_client.patch(url(task)).json()
    assert second["completed"] is False
    assert second["completed_at"] is None


def test_it_toggles_with_an_empty_object(alice_client, alice):
    task = make_task(alice)
    assert alice_client.patch(url(task), {}).json()["completed"] is True


@pytest.mark.parametrize("initial", [True, False])
def test_it_sets_the_state_given_in_the_body(alice_client, alice, initial):
    task = make_task(alice, completed=initial)
    for _ in range(2):  # setting is idempotent, unlike toggling
        body = alice_client.patch(url(task), {"completed": True}).json()
        assert body["completed"] is True


def test_it_keeps_the_first_completion_time_when_completed_again(alice_client, alice):
    task = make_task(alice)
    first = alice_client.patch(url(task), {"completed": True}).json()["completed_at"]
    again = alice_client.patch(url(task), {"completed": True}).json()["completed_at"]
    assert again == first


@pytest.mark.parametrize("payload", [{"completed": "true"}, {"completed": None}, {"done": True}, ["x"]])
def test_it_rejects_a_bad_body_and_changes_nothing(alice_client, alice, payload):
    task = make_task(alice)
    before = row(task)
    response = alice_client.patch(url(task), payload)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    assert row(task) == before


def test_it_returns_404_for_another_users_task_and_changes_nothing(bob_client, alice):
    task = make_task(alice)
    before = row(task)
    assert bob_client.patch(url(task)).status_code == 404
    assert row(task) == before


def test_it_allows_only_patch(alice_client, alice):
    task = make_task(alice)
    for method in ["get", "post", "put", "delete"]:
        response = getattr(alice_client, method)(url(task))
        assert response.status_code == 405, method
        assert response.json()["code"] == "method_not_allowed"
