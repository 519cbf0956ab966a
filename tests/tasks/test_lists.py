"""Lists: /api/lists and /api/lists/{id}, a task's `list_id`, the `list=` filter, bulk `move`."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from tasks.models import Task, TaskList
from tasks.positions import POSITION_STEP
from tasks.serializers import StrictModelSerializer
from tests.tasks.factories import make_task


def make_list(owner, name="Work", **fields) -> TaskList:
    return TaskList.objects.create(owner=owner, name=name, **fields)


@pytest.mark.parametrize("slash", ["", "/"])
def test_it_creates_lists_in_order_with_counts(alice_client, slash):
    first = alice_client.post(f"/api/lists{slash}", {"name": " Work ", "color": "#A1B2C3"}, format="json")
    assert first.status_code == 201
    assert first["Location"].endswith(f"/api/lists/{first.json()['id']}")
    assert first["ETag"] == f'"{first.json()["id"]}-1.0.0"'  # its version, its counts
    second = alice_client.post(f"/api/lists{slash}", {"name": "Home"}, format="json")
    assert {k: first.json()[k] for k in ("name", "color", "position", "task_count", "open_count")} == {
        "name": "Work",
        "color": "#a1b2c3",
        "position": POSITION_STEP,
        "task_count": 0,
        "open_count": 0,
    }
    assert second.json()["position"] == 2 * POSITION_STEP and second.json()["color"] is None
    listed = alice_client.get(f"/api/lists{slash}")
    assert [item["name"] for item in listed.json()] == ["Work", "Home"]
    assert listed["X-Total-Count"] == "2"


def test_it_counts_a_lists_tasks_and_open_ones(alice_client, alice):
    work = make_list(alice)
    make_task(alice, list=work)
    make_task(alice, list=work, completed=True)
    make_task(alice)
    assert (
        alice_client.get(f"/api/lists/{work.pk}").json()["task_count"],
        alice_client.get("/api/lists").json()[0]["open_count"],
    ) == (2, 1)


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"name": "   "}, "name", "blank"),
        ({"name": "x" * 101}, "name", "max_length"),
        ({"name": 5}, "name", "invalid"),
        ({"name": "work"}, "name", "unique"),
        ({"name": "a", "color": "red"}, "color", "invalid_color"),
        ({"name": "a", "position": 3}, "position", "read_only_field"),
        ({"name": "a", "nme": 3}, "nme", "unknown_field"),
    ],
)
def test_it_rejects_a_bad_list(alice_client, alice, body, field, code):
    make_list(alice, "Work")
    response = alice_client.post("/api/lists", body, format="json")
    assert response.status_code == 400
    assert response.json()["fields"][field][0]["code"] == code


def test_another_users_list_name_is_no_conflict(bob_client, alice):
    make_list(alice, "Work")
    assert bob_client.post("/api/lists", {"name": "work"}, format="json").status_code == 201


def test_it_refuses_a_list_past_the_limit(alice_client, alice, settings):
    settings.TASKS = {**settings.TASKS, "MAX_LISTS_PER_USER": 1}
    make_list(alice)
    response = alice_client.post("/api/lists", {"name": "Another"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "list_limit_reached")


def test_it_renames_with_if_match_and_refuses_a_stale_copy(alice_client, alice):
    work = make_list(alice)
    etag = alice_client.get(f"/api/lists/{work.pk}")["ETag"]
    assert alice_client.get(f"/api/lists/{work.pk}", HTTP_IF_NONE_MATCH=etag).status_code == 304
    renamed = alice_client.patch(f"/api/lists/{work.pk}", {"name": "Job"}, format="json", HTTP_IF_MATCH=etag)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Job"
    stale = alice_client.put(f"/api/lists/{work.pk}", {"name": "Other"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["current"]["name"] == "Job" and stale.json()["code"] == "precondition_failed"
    unchanged = alice_client.patch(f"/api/lists/{work.pk}", {"name": "Job"}, format="json")
    assert unchanged["ETag"] == renamed["ETag"]


def test_put_without_a_color_clears_it(alice_client, alice):
    work = make_list(alice, color="#000000")
    assert alice_client.put(f"/api/lists/{work.pk}", {"name": "Work"}, format="json").json()["color"] is None


def test_an_idempotency_key_replays_a_list_create(alice_client):
    first = alice_client.post("/api/lists", {"name": "Work"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = alice_client.post("/api/lists", {"name": "Work"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 201 and again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert TaskList.objects.count() == 1


def test_a_key_used_for_a_task_is_not_replayed_for_a_list(alice_client):
    alice_client.post("/api/tasks", {"title": "Work"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = alice_client.post("/api/lists", {"title": "Work"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 422


def test_deleting_a_list_deletes_its_tasks(alice_client, alice):
    work, home = make_list(alice), make_list(alice, "Home")
    gone, kept, inbox = make_task(alice, list=work), make_task(alice, list=home), make_task(alice)
    assert alice_client.delete(f"/api/lists/{work.pk}").status_code == 204
    assert alice_client.get(f"/api/tasks/{gone.pk}").status_code == 404
    assert set(Task.objects.values_list("pk", flat=True)) == {kept.pk, inbox.pk}


@pytest.mark.parametrize(
    ("method", "body"), [("get", None), ("put", {"name": "x"}), ("patch", {"name": "x"}), ("delete", None)]
)
@pytest.mark.parametrize("slash", ["", "/"])
def test_another_users_list_is_a_404(bob_client, alice, method, body, slash):
    work = make_list(alice)
    make_task(alice, list=work)
    response = getattr(bob_client, method)(f"/api/lists/{work.pk}{slash}", body, format="json")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert TaskList.objects.get().name == "Work" and Task.objects.count() == 1


def test_bob_does_not_see_alices_lists(bob_client, alice):
    make_list(alice)
    assert bob_client.get("/api/lists").json() == []


# A task's list_id


@pytest.mark.parametrize("path", ["/api/tasks", "/api/{alice}/tasks"])
def test_a_task_goes_in_a_list_on_create_put_and_patch(alice_client, alice, path):
    base = path.format(alice=alice.better_auth_id)
    work, home = make_list(alice), make_list(alice, "Home")
    created = alice_client.post(base, {"title": "t", "list_id": work.pk}, format="json").json()
    assert created["list_id"] == work.pk
    url = f"{base}/{created['id']}"
    assert alice_client.get(url).json()["list_id"] == work.pk
    assert alice_client.get(base).json()[0]["list_id"] == work.pk
    assert alice_client.get(base, {"status": "all"}).json()[0]["list_id"] == work.pk
    patched = alice_client.patch(url, {"list_id": home.pk}, format="json")
    assert patched.json()["list_id"] == home.pk and patched.json() != created
    assert alice_client.put(url, {"title": "t"}, format="json").json()["list_id"] is None
    assert alice_client.patch(f"{url}/complete", format="json").json()["list_id"] is None


@pytest.mark.parametrize("method", ["post", "put", "patch"])
@pytest.mark.parametrize("whose", ["bob", "nobody", "string", "true"])
def test_a_list_id_not_the_callers_is_refused_the_same_way(alice_client, alice, bob, method, whose):
    bobs = make_list(bob)
    task = make_task(alice)
    value = {"bob": bobs.pk, "nobody": bobs.pk + 1000, "string": str(bobs.pk), "true": True}[whose]
    url = "/api/tasks" if method == "post" else f"/api/tasks/{task.pk}"
    response = getattr(alice_client, method)(url, {"title": "t", "list_id": value}, format="json")
    assert response.status_code == 400
    expected = "invalid" if whose in ("string", "true") else "does_not_exist"
    assert response.json()["fields"]["list_id"] == [
        {"code": expected, "message": response.json()["fields"]["list_id"][0]["message"]}
    ]
    if whose in ("bob", "nobody"):
        assert response.json()["fields"]["list_id"][0]["message"] == "No list of yours has this id."
    task.refresh_from_db()
    assert task.list_id is None and task.version == 1


def test_the_list_filter_takes_ids_and_none(alice_client, alice):
    work, home = make_list(alice), make_list(alice, "Home")
    in_work, in_home, in_inbox = make_task(alice, list=work), make_task(alice, list=home), make_task(alice)

    def ids(*values):
        response = alice_client.get("/api/tasks", {"list": list(values)})
        assert response.status_code == 200, response.json()
        return {task["id"] for task in response.json()}

    assert ids(work.pk) == {in_work.pk}
    assert ids(work.pk, home.pk) == {in_work.pk, in_home.pk}
    assert ids("none") == {in_inbox.pk}
    assert ids("none", home.pk) == {in_inbox.pk, in_home.pk}
    stats = alice_client.get("/api/tasks/stats", {"list": work.pk}).json()
    assert stats["total"] == 1
    assert alice_client.get(f"/api/{alice.better_auth_id}/tasks", {"list": "none"}).json()[0]["id"] == in_inbox.pk


@pytest.mark.parametrize("path", ["/api/tasks", "/api/tasks/stats"])
def test_the_list_filter_refuses_another_users_and_malformed_lists(alice_client, alice, bob, path):
    bobs = make_list(bob)
    make_list(alice)
    response = alice_client.get(path, {"list": bobs.pk})
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    for bad in ("abc", "-1", "0", ""):
        response = alice_client.get(path, {"list": bad})
        assert response.status_code == 400 and "list" in response.json()["fields"], bad


def test_bulk_move_moves_and_bumps_versions(alice_client, alice, bob):
    work = make_list(alice)
    tasks = [make_task(alice), make_task(alice, list=work)]
    ids = [task.pk for task in tasks]
    response = alice_client.post("/api/tasks/bulk", {"action": "move", "ids": ids, "list_id": work.pk}, format="json")
    assert response.status_code == 200 and response.json()["changed"] == 1
    assert [(t.list_id, t.version) for t in Task.objects.order_by("pk")] == [(work.pk, 2), (work.pk, 1)]
    back = alice_client.post("/api/tasks/bulk", {"action": "move", "ids": ids, "list_id": None}, format="json")
    assert back.json()["changed"] == 2
    bobs = make_list(bob)
    foreign = alice_client.post("/api/tasks/bulk", {"action": "move", "ids": ids, "list_id": bobs.pk}, format="json")
    assert foreign.status_code == 400 and foreign.json()["fields"]["list_id"][0]["code"] == "does_not_exist"
    missing = alice_client.post("/api/tasks/bulk", {"action": "move", "ids": ids}, format="json")
    assert missing.status_code == 400
    stray = alice_client.post("/api/tasks/bulk", {"action": "delete", "ids": ids, "list_id": None}, format="json")
    assert stray.status_code == 400 and Task.objects.count() == 2


def test_bob_cannot_move_alices_tasks_or_put_his_in_her_list(bob_client, alice, bob):
    work = make_list(alice)
    hers, his = make_task(alice), make_task(bob)
    assert (
        bob_client.post(
            "/api/tasks/bulk", {"action": "move", "ids": [hers.pk], "list_id": None}, format="json"
        ).status_code
        == 404
    )
    assert bob_client.patch(f"/api/tasks/{his.pk}", {"list_id": work.pk}, format="json").status_code == 400


def test_a_relation_named_in_meta_fields_is_refused_when_the_class_is_built():
    with pytest.raises(ImproperlyConfigured, match="'list_id'"):

        class Naive(StrictModelSerializer):
            class Meta:
                model = Task
                fields = ["id", "title", "list"]


def test_a_foreign_key_named_by_its_id_is_a_strict_id_scoped_to_the_caller():
    class WithList(StrictModelSerializer):
        class Meta:
            model = Task
            fields = ["id", "list_id"]

    field = WithList().fields["list_id"]
    assert isinstance(field, serializers.IntegerField) and field.allow_null and not field.read_only


def test_deleting_a_list_forgets_the_key_that_created_it_and_its_tasks_keys(alice_client):
    from core.models import IdempotencyKey

    created = alice_client.post("/api/lists", {"name": "Work"}, format="json", HTTP_IDEMPOTENCY_KEY="list-key")
    work = created.json()["id"]
    alice_client.post("/api/tasks", {"title": "t", "list_id": work}, format="json", HTTP_IDEMPOTENCY_KEY="task-key")
    alice_client.post("/api/tasks", {"title": "kept"}, format="json", HTTP_IDEMPOTENCY_KEY="kept-key")
    assert alice_client.delete(f"/api/lists/{work}").status_code == 204
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["kept-key"]
