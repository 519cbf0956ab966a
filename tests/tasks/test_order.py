"""The manual order: `position`, `POST /api/tasks/{id}/move`, `POST /api/lists/{id}/move`, `sort=position`."""

import threading

import pytest
from django.db import connection

from tasks.models import Task, TaskList
from tasks.positions import POSITION_STEP
from tests.auth import client_for


def create(client, title, **fields):
    response = client.post("/api/tasks", {"title": title, **fields}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def in_order(client, **params) -> list[str]:
    response = client.get("/api/tasks", {"sort": "position", **params})
    assert response.status_code == 200, response.json()
    return [task["title"] for task in response.json()]


def move(client, task_id, headers=None, **place):
    return client.post(f"/api/tasks/{task_id}/move", place, format="json", headers=headers or {})


@pytest.fixture
def abc(alice_client):
    return [create(alice_client, title) for title in "abc"]


def test_new_tasks_go_last_and_top_puts_one_first(alice_client, abc):
    assert in_order(alice_client) == ["a", "b", "c"]
    create(alice_client, "first", position="top")
    assert in_order(alice_client) == ["first", "a", "b", "c"]
    # The default order is unchanged: newest first.
    assert [task["title"] for task in alice_client.get("/api/tasks").json()] == ["first", "c", "b", "a"]


@pytest.mark.parametrize("top", [False, True], ids=["end", "top"])
def test_a_new_tasks_place_is_where_reading_its_siblings_puts_it(alice, alice_client, bob_client, top):
    """The INSERT's compiled subquery (task_new_position_expression) against the plain read
    (task_new_position) for every kind of group: the inbox, a list, a parent's subtasks, each
    empty and not, with other users' and other groups' tasks beside them."""
    from tasks.services import task_new_position

    lists = [alice_client.post("/api/lists", {"name": name}, format="json").json()["id"] for name in ("A", "B")]
    bob_client.post("/api/tasks", {"title": "bob's", "position": "top" if top else "bottom"}, format="json")
    parent = alice_client.post("/api/tasks", {"title": "parent", "list_id": lists[1]}, format="json").json()["id"]
    groups = [{"list_id": None}, {"list_id": lists[0]}, {"parent_id": parent}]
    for round_number in range(3):
        for group in groups:
            list_id = group.get("list_id", lists[1] if "parent_id" in group else None)
            wanted = task_new_position(
                owner_id=alice.better_auth_id, list_id=list_id, parent_id=group.get("parent_id"), top=top
            )
            body = {"title": f"{round_number}", **group, "position": "top" if top else "bottom"}
            response = alice_client.post("/api/tasks", body, format="json")
            assert response.status_code == 201, response.json()
            assert response.json()["position"] == wanted
            assert Task.objects.get(pk=response.json()["id"]).position == wanted


@pytest.mark.parametrize("place", ["middle", 3, None])
def test_it_rejects_a_position_other_than_top_or_bottom(alice_client, place):
    response = alice_client.post("/api/tasks", {"title": "x", "position": place}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["position"][0]["code"] in ("invalid_place", "null")


def test_it_rejects_a_position_on_a_change(alice_client, abc):
    response = alice_client.patch(f"/api/tasks/{abc[0]['id']}", {"position": "top"}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["position"][0]["code"] == "read_only_field"


def test_it_moves_a_task_before_and_after_another_writing_only_that_task(alice_client, abc):
    a, b, c = abc
    response = move(alice_client, c["id"], before=a["id"])
    assert response.status_code == 200
    assert response["ETag"] == f'"{c["id"]}-2"'
    assert in_order(alice_client) == ["c", "a", "b"]
    assert Task.objects.get(pk=a["id"]).version == 1 and Task.objects.get(pk=b["id"]).version == 1
    assert move(alice_client, c["id"], after=b["id"]).status_code == 200
    assert in_order(alice_client) == ["a", "b", "c"]
    assert move(alice_client, a["id"], after=b["id"]).status_code == 200
    assert in_order(alice_client) == ["b", "a", "c"]


def test_a_move_to_where_the_task_stands_changes_nothing(alice_client, abc):
    a, b, _ = abc
    response = move(alice_client, b["id"], after=a["id"])
    assert response.status_code == 200
    assert response["ETag"] == f'"{b["id"]}-1"'


def test_moves_into_one_gap_renumber_the_list_when_it_runs_out(alice_client, abc):
    a, b, c = abc
    # Each move into the gap just after `a` halves it: after 16 there is no integer left.
    for _ in range(20):
        assert move(alice_client, c["id"], after=a["id"]).status_code == 200
        assert move(alice_client, b["id"], after=a["id"]).status_code == 200
    assert in_order(alice_client) == ["a", "b", "c"]
    positions = [task["position"] for task in alice_client.get("/api/tasks", {"sort": "position"}).json()]
    assert len(set(positions)) == 3


def test_a_renumbering_bumps_the_version_of_every_task_whose_position_changed(alice_client, abc):
    a, b, c = abc
    Task.objects.filter(pk=a["id"]).update(position=10)
    Task.objects.filter(pk=b["id"]).update(position=11)
    assert move(alice_client, c["id"], after=a["id"]).status_code == 200
    assert in_order(alice_client) == ["a", "c", "b"]
    tasks = {task.title: task for task in Task.objects.all()}
    assert [tasks[t].position for t in "acb"] == [POSITION_STEP, 2 * POSITION_STEP, 3 * POSITION_STEP]
    assert {title: task.version for title, task in tasks.items()} == {"a": 2, "b": 2, "c": 2}


def test_equal_positions_are_ordered_by_id_and_a_move_between_them_renumbers(alice, alice_client):
    a, b, c = (create(alice_client, title) for title in "abc")
    Task.objects.filter(pk__in=[a["id"], b["id"]]).update(position=POSITION_STEP)
    assert in_order(alice_client) == ["a", "b", "c"]
    assert move(alice_client, c["id"], before=b["id"]).status_code == 200
    assert in_order(alice_client) == ["a", "c", "b"]
    assert len({task.position for task in Task.objects.all()}) == 3


def test_it_moves_a_task_to_the_end_of_another_list_and_its_subtasks_follow(alice, alice_client, abc):
    work = TaskList.objects.create(owner=alice, name="Work")
    there = create(alice_client, "there", list_id=work.pk)
    step = create(alice_client, "step", parent_id=abc[0]["id"])
    response = move(alice_client, abc[0]["id"], list_id=work.pk)
    assert response.status_code == 200 and response.json()["list_id"] == work.pk
    assert in_order(alice_client, list=work.pk, parent="none") == ["there", "a"]
    assert Task.objects.get(pk=step["id"]).list_id == work.pk
    assert move(alice_client, abc[1]["id"], list_id=work.pk, before=there["id"]).status_code == 200
    assert in_order(alice_client, list=work.pk, parent="none") == ["b", "there", "a"]
    assert move(alice_client, abc[1]["id"], list_id=None).status_code == 200
    assert in_order(alice_client, list="none") == ["c", "b"]


def test_it_refuses_an_anchor_in_another_list(alice, alice_client, abc):
    work = TaskList.objects.create(owner=alice, name="Work")
    there = create(alice_client, "there", list_id=work.pk)
    response = move(alice_client, abc[0]["id"], before=there["id"])
    assert response.status_code == 400
    assert response.json()["fields"]["before"][0]["code"] == "not_a_sibling"


def test_it_refuses_both_anchors_and_itself(alice_client, abc):
    a, b, _ = abc
    both = move(alice_client, a["id"], before=b["id"], after=b["id"])
    assert both.status_code == 400 and both.json()["fields"]["after"][0]["code"] == "unexpected"
    itself = move(alice_client, a["id"], before=a["id"])
    assert itself.status_code == 400 and itself.json()["fields"]["before"][0]["code"] == "invalid"
    unknown = move(alice_client, a["id"], sideways=b["id"])
    assert unknown.status_code == 400 and unknown.json()["fields"]["sideways"][0]["code"] == "unknown_field"


def test_it_honours_if_match(alice_client, abc):
    a, b, _ = abc
    stale = move(alice_client, a["id"], headers={"If-Match": f'"{a["id"]}-9"'}, after=b["id"])
    assert stale.status_code == 412
    assert in_order(alice_client) == ["a", "b", "c"]
    fresh = move(alice_client, a["id"], headers={"If-Match": f'"{a["id"]}-1"'}, after=b["id"])
    assert fresh.status_code == 200


def test_it_returns_404_when_moving_another_users_task(bob_client, abc):
    assert move(bob_client, abc[0]["id"], list_id=None).status_code == 404


@pytest.mark.parametrize("side", ["before", "after"])
def test_an_anchor_of_another_users_is_does_not_exist(bob_client, abc, side):
    mine = create(bob_client, "mine")
    response = move(bob_client, mine["id"], **{side: abc[0]["id"]})
    assert response.status_code == 400
    assert response.json()["fields"][side][0]["code"] == "does_not_exist"
    nobodys = move(bob_client, mine["id"], **{side: 10**12})
    assert nobodys.json()["fields"][side][0]["code"] == "does_not_exist"


def test_sort_by_position_reversed_and_with_other_keys(alice_client, abc):
    assert in_order(alice_client, sort="-position") == ["c", "b", "a"]
    assert alice_client.get("/api/tasks", {"sort": "priority,position"}).status_code == 200


def test_a_bulk_move_appends_in_the_current_order(alice, alice_client, abc):
    work = TaskList.objects.create(owner=alice, name="Work")
    create(alice_client, "there", list_id=work.pk)
    a, b, c = abc
    move(alice_client, c["id"], before=a["id"])  # c, a, b
    response = alice_client.post(
        "/api/tasks/bulk", {"action": "move", "ids": [a["id"], b["id"], c["id"]], "list_id": work.pk}, format="json"
    )
    assert response.status_code == 200
    assert in_order(alice_client, list=work.pk) == ["there", "c", "a", "b"]


def test_lists_move_before_and_after(alice_client):
    ids = [alice_client.post("/api/lists", {"name": name}, format="json").json()["id"] for name in "xyz"]
    response = alice_client.post(f"/api/lists/{ids[2]}/move", {"before": ids[0]}, format="json")
    assert response.status_code == 200 and response["ETag"] == f'"{ids[2]}-2.0.0"'
    assert [item["name"] for item in alice_client.get("/api/lists").json()] == ["z", "x", "y"]
    assert alice_client.post(f"/api/lists/{ids[2]}/move", {"after": ids[1]}, format="json").status_code == 200
    assert [item["name"] for item in alice_client.get("/api/lists").json()] == ["x", "y", "z"]
    stale = alice_client.post(
        f"/api/lists/{ids[0]}/move", {"after": ids[1]}, format="json", headers={"If-Match": f'"{ids[0]}-7"'}
    )
    assert stale.status_code == 412


def test_another_users_list_cannot_be_moved_nor_named(alice_client, bob_client):
    alices = alice_client.post("/api/lists", {"name": "a"}, format="json").json()["id"]
    bobs = bob_client.post("/api/lists", {"name": "b"}, format="json").json()["id"]
    assert bob_client.post(f"/api/lists/{alices}/move", {}, format="json").status_code == 404
    response = bob_client.post(f"/api/lists/{bobs}/move", {"before": alices}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["before"][0]["code"] == "does_not_exist"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_racing_moves_into_one_gap_both_land_at_distinct_positions(alice):
    setup = client_for(alice)
    a, b, *movers = (create(setup, title) for title in ("a", "b", "c", "d"))
    barrier = threading.Barrier(2)
    statuses = []

    def move_before_b(task_id):
        client = client_for(alice)
        barrier.wait()
        statuses.append(move(client, task_id, before=b["id"]).status_code)
        connection.close()

    for _ in range(5):
        statuses.clear()
        for task in movers:  # both back to the end, after b
            assert move(setup, task["id"], list_id=None).status_code == 200
        threads = [threading.Thread(target=move_before_b, args=(task["id"],)) for task in movers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200, 200]
        order = in_order(setup)
        assert order[0] == "a" and order[-1] == "b" and sorted(order[1:3]) == ["c", "d"]
        assert len({task.position for task in Task.objects.all()}) == 4


def test_another_users_task_or_list_is_404_whatever_the_move_body(alice_client, bob_client, abc):
    response = move(bob_client, abc[0]["id"], before=abc[1]["id"], after=abc[2]["id"])
    assert response.status_code == 404
    alices = alice_client.post("/api/lists", {"name": "a"}, format="json").json()["id"]
    assert bob_client.post(f"/api/lists/{alices}/move", {"before": 10**12}, format="json").status_code == 404
