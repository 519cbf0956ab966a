"""ETags, If-None-Match (304) and If-Match (412): no lost updates between two tabs."""

import threading

import pytest
from django.db import connection

from tasks.models import Task
from tests.auth import ALICE_ID, client_for
from tests.tasks.factories import make_task, row


def etag_of(client, task) -> str:
    return client.get(f"/api/tasks/{task.id}")["ETag"]


def test_a_task_response_carries_a_strong_etag(alice_client, alice):
    task = make_task(alice)
    response = alice_client.get(f"/api/tasks/{task.id}")
    assert response["ETag"] == f'"{task.id}-1"'
    assert not response["ETag"].startswith("W/")


def test_create_update_and_complete_answer_with_the_new_etag(alice_client):
    created = alice_client.post("/api/tasks", {"title": "Buy milk"})
    task_id = created.json()["id"]
    assert created["ETag"] == f'"{task_id}-1"'
    patched = alice_client.patch(f"/api/tasks/{task_id}", {"title": "Buy oat milk"})
    assert patched["ETag"] == alice_client.get(f"/api/tasks/{task_id}")["ETag"] != created["ETag"]
    completed = alice_client.patch(f"/api/tasks/{task_id}/complete")
    assert completed["ETag"] == alice_client.get(f"/api/tasks/{task_id}")["ETag"] != patched["ETag"]


@pytest.mark.parametrize(
    "change",
    [
        lambda client, task: client.patch(f"/api/tasks/{task.id}/complete"),
        lambda client, task: client.patch(f"/api/tasks/{task.id}", {"tags": ["home"]}),
        lambda client, task: client.put(f"/api/tasks/{task.id}", {"title": "Buy oat milk"}),
        lambda client, task: client.post("/api/tasks/bulk", {"action": "complete", "ids": [task.id]}),
    ],
    ids=["toggle", "tags", "put", "bulk"],
)
def test_the_etag_changes_with_every_kind_of_write(alice_client, alice, change):
    task = make_task(alice)
    before = etag_of(alice_client, task)
    assert change(alice_client, task).status_code == 200
    assert etag_of(alice_client, task) != before


def test_completing_a_recurring_task_changes_its_etag(alice_client, alice):
    task = make_task(alice, due_at="2026-01-01T09:00:00Z", recurrence="FREQ=DAILY")
    before = etag_of(alice_client, task)
    alice_client.patch(f"/api/tasks/{task.id}/complete")
    assert etag_of(alice_client, task) != before
    assert Task.objects.count() == 2


@pytest.mark.parametrize("header", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
def test_a_get_with_a_matching_if_none_match_is_304_without_a_body(alice_client, alice, header):
    task = make_task(alice)
    etag = etag_of(alice_client, task)
    response = alice_client.get(f"/api/tasks/{task.id}", HTTP_IF_NONE_MATCH=header.format(etag=etag))
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_a_get_with_a_stale_if_none_match_is_a_full_200(alice_client, alice):
    task = make_task(alice)
    stale = etag_of(alice_client, task)
    alice_client.patch(f"/api/tasks/{task.id}", {"title": "Buy bread"})
    response = alice_client.get(f"/api/tasks/{task.id}", HTTP_IF_NONE_MATCH=stale)
    assert response.status_code == 200
    assert response.json()["title"] == "Buy bread"


def test_the_list_answers_304_while_nothing_changed(alice_client, alice):
    make_task(alice)
    first = alice_client.get("/api/tasks")
    assert first["ETag"]
    again = alice_client.get("/api/tasks", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_the_list_etag_changes_when_a_task_is_replaced_by_another(alice_client, alice):
    task = make_task(alice)
    before = alice_client.get("/api/tasks")["ETag"]
    task.delete()
    make_task(alice)  # same count, same title
    response = alice_client.get("/api/tasks", HTTP_IF_NONE_MATCH=before)
    assert response.status_code == 200
    assert response["ETag"] != before


def test_the_list_etag_differs_between_queries_and_users(alice_client, bob_client, alice, bob):
    make_task(alice, completed=True)
    make_task(bob)
    everything = alice_client.get("/api/tasks")["ETag"]
    assert alice_client.get("/api/tasks", {"status": "pending"})["ETag"] != everything
    assert bob_client.get("/api/tasks")["ETag"] != everything


def test_a_write_with_the_current_etag_goes_through(alice_client, alice):
    task = make_task(alice)
    response = alice_client.patch(
        f"/api/tasks/{task.id}", {"title": "Buy bread"}, HTTP_IF_MATCH=etag_of(alice_client, task)
    )
    assert response.status_code == 200
    assert response["ETag"] == f'"{task.id}-2"'


@pytest.mark.parametrize("header", ["*", '"0-0", {etag}'])
def test_if_match_accepts_a_star_and_a_list_holding_the_current_etag(alice_client, alice, header):
    task = make_task(alice)
    header = header.format(etag=etag_of(alice_client, task))
    assert alice_client.patch(f"/api/tasks/{task.id}/complete", HTTP_IF_MATCH=header).status_code == 200


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("patch", "/api/tasks/{id}", {"title": "Mine"}),
        ("put", "/api/tasks/{id}", {"title": "Mine"}),
        ("delete", "/api/tasks/{id}", None),
        ("patch", "/api/tasks/{id}/complete", None),
        ("patch", f"/api/{ALICE_ID}/tasks/{{id}}", {"title": "Mine"}),
    ],
)
def test_it_rejects_a_write_with_a_stale_etag_and_shows_the_current_task(alice_client, alice, method, path, body):
    task = make_task(alice)
    stale = etag_of(alice_client, task)
    alice_client.patch(f"/api/tasks/{task.id}", {"title": "Changed in the other tab"})
    before = row(task)

    response = getattr(alice_client, method)(path.format(id=task.id), body, HTTP_IF_MATCH=stale)

    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    assert response.json()["current"]["title"] == "Changed in the other tab"
    assert response["ETag"] == etag_of(alice_client, task) != stale
    assert row(task) == before


def test_it_rejects_a_weak_etag_in_if_match(alice_client, alice):
    task = make_task(alice)
    weak = "W/" + etag_of(alice_client, task)
    assert alice_client.patch(f"/api/tasks/{task.id}", {"title": "x"}, HTTP_IF_MATCH=weak).status_code == 412


def test_it_rejects_a_put_with_if_none_match_star_on_an_existing_task(alice_client, alice):
    task = make_task(alice)
    assert alice_client.put(f"/api/tasks/{task.id}", {"title": "x"}, HTTP_IF_NONE_MATCH="*").status_code == 412


def test_it_answers_404_not_412_for_another_users_task(bob_client, alice):
    task = make_task(alice)
    response = bob_client.patch(f"/api/tasks/{task.id}", {"title": "Bob's"}, HTTP_IF_MATCH='"stale"')
    assert response.status_code == 404
    assert "current" not in response.json()


def test_a_get_with_a_stale_if_match_is_a_json_412(alice_client, alice):
    task = make_task(alice)
    response = alice_client.get(f"/api/tasks/{task.id}", HTTP_IF_MATCH='"0-0"')
    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_of_two_writers_racing_with_one_etag_exactly_one_wins(alice):
    task = make_task(alice)
    etag = f'"{task.id}-1"'
    barrier = threading.Barrier(2)
    statuses = []

    def write(title):
        client = client_for(alice)
        barrier.wait()
        statuses.append(client.patch(f"/api/tasks/{task.id}", {"title": title}, HTTP_IF_MATCH=etag).status_code)
        connection.close()

    for round_number in range(10):
        statuses.clear()
        task.refresh_from_db()
        etag = f'"{task.id}-{task.version}"'
        titles = (f"tab one, round {round_number}", f"tab two, round {round_number}")  # each a real change
        threads = [threading.Thread(target=write, args=(title,)) for title in titles]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200, 412]
    task.refresh_from_db()
    assert task.version == 11
