"""The change feed sees every write of the manual order and of subtasks: moves, renumberings,
subtasks following their parent, cascaded deletions and the subtasks a recurrence copies."""

from tasks.models import Task, TaskList
from tests.tasks.test_changes import RECURRING, Replica, listed


def create(client, title, **fields) -> dict:
    response = client.post("/api/tasks", {"title": title, **fields}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def without_counts(tasks: dict[int, dict]) -> dict[int, dict]:
    # A parent's counts are computed from its subtasks' rows, which the feed carries themselves.
    return {
        pk: {k: v for k, v in task.items() if k not in ("subtask_count", "open_subtask_count")}
        for pk, task in tasks.items()
    }


def test_a_move_feeds_the_moved_task_once(alice_client):
    a, b, c = (create(alice_client, title) for title in "abc")
    synced = Replica(alice_client)
    synced.sync()
    assert alice_client.post(f"/api/tasks/{c['id']}/move", {"before": a["id"]}, format="json").status_code == 200
    assert synced.changes() == ([c["id"]], [])
    assert synced.tasks == listed(alice_client)


def test_a_renumbering_feeds_every_task_it_renumbered(alice_client):
    a, b, c = (create(alice_client, title) for title in "abc")
    Task.objects.filter(pk=a["id"]).update(position=10)
    Task.objects.filter(pk=b["id"]).update(position=11)
    synced = Replica(alice_client)
    synced.sync()
    assert alice_client.post(f"/api/tasks/{c['id']}/move", {"after": a["id"]}, format="json").status_code == 200
    changed, deleted = synced.changes()
    assert sorted(changed) == sorted([a["id"], b["id"], c["id"]]) and deleted == []
    assert synced.tasks == listed(alice_client)


def test_subtasks_following_their_parent_to_another_list_are_fed(alice, alice_client):
    work = TaskList.objects.create(owner=alice, name="Work")
    parent = create(alice_client, "Pack")
    child = create(alice_client, "socks", parent_id=parent["id"])
    for write in (
        lambda: alice_client.post(f"/api/tasks/{parent['id']}/move", {"list_id": work.pk}, format="json"),
        lambda: alice_client.patch(f"/api/tasks/{parent['id']}", {"list_id": None}, format="json"),
        lambda: alice_client.post(
            "/api/tasks/bulk", {"action": "move", "ids": [parent["id"]], "list_id": work.pk}, format="json"
        ),
    ):
        synced = Replica(alice_client)
        synced.sync()
        assert write().status_code == 200
        changed, deleted = synced.changes()
        assert sorted(changed) == sorted([parent["id"], child["id"]]) and deleted == []
        assert without_counts(synced.tasks) == without_counts(listed(alice_client))


def test_deleting_a_parent_feeds_the_deletion_of_its_subtasks(alice_client):
    for route in ("delete", "bulk"):
        parent = create(alice_client, "Pack")
        child = create(alice_client, "socks", parent_id=parent["id"])
        synced = Replica(alice_client)
        synced.sync()
        if route == "delete":
            assert alice_client.delete(f"/api/tasks/{parent['id']}").status_code == 204
        else:
            body = {"action": "delete", "ids": [parent["id"]]}
            assert alice_client.post("/api/tasks/bulk", body, format="json").status_code == 200
        changed, deleted = synced.changes()
        assert changed == [] and sorted(deleted) == sorted([parent["id"], child["id"]])


def test_a_recurring_parents_next_occurrence_and_its_copied_subtasks_are_fed(alice_client):
    parent = create(alice_client, "Weekly review", **RECURRING)
    create(alice_client, "inbox zero", parent_id=parent["id"])
    synced = Replica(alice_client)
    synced.sync()
    assert alice_client.patch(f"/api/tasks/{parent['id']}/complete", format="json").status_code == 200
    changed, _ = synced.changes()
    following = Task.objects.get(pk=parent["id"]).next_occurrence
    copy = following.subtasks.get()
    assert sorted(changed) == sorted([parent["id"], following.pk, copy.pk])
    assert without_counts(synced.tasks) == without_counts(listed(alice_client))
