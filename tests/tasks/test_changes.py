"""GET /api/changes: every write of a task or a list feeds it once, deletions included, behind an opaque cursor."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core import signing
from django.core.management import call_command
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from accounts.models import User
from core.changes import FeedQuerySerializer, Position, cursor_for, feed_query
from core.models import ChangeCounter, Tombstone
from tasks.models import Task, TaskList
from tests.tasks.factories import make_task

RECURRING = {"due_at": "2026-01-05T09:00:00Z", "recurrence": "FREQ=DAILY"}


class Replica:
    """A client's cache kept by the feed alone, as a frontend keeps it."""

    def __init__(self, client, limit: int | None = None):
        self.client, self.limit = client, limit
        self.tasks: dict[int, dict] = {}
        self.lists: dict[int, dict] = {}
        self.cursor: str | None = None
        self.pages: list[dict] = []

    def page(self, cursor: str | None) -> dict:
        params = {key: value for key, value in (("cursor", cursor), ("limit", self.limit)) if value is not None}
        response = self.client.get("/api/changes", params)
        assert response.status_code == 200, response.content
        return response.json()

    def sync(self) -> list[dict]:
        """Follows the feed until it has no more; the pages read."""
        pages = []
        while True:
            page = self.page(self.cursor)
            pages.append(page)
            for task in page["tasks"]:
                self.tasks[task["id"]] = task
            for task_id in page["deleted"]["tasks"]:
                self.tasks.pop(task_id, None)
            for task_list in page["lists"]:
                self.lists[task_list["id"]] = task_list
            for list_id in page["deleted"]["lists"]:
                self.lists.pop(list_id, None)
            self.cursor = page["next_cursor"]
            if not page["has_more"]:
                self.pages = pages
                return pages

    def changes(self) -> tuple[list[int], list[int]]:
        """The ids changed and deleted since the last sync, each as often as the feed named it."""
        pages = self.sync()
        return (
            [task["id"] for page in pages for task in page["tasks"]],
            [task_id for page in pages for task_id in page["deleted"]["tasks"]],
        )

    def list_changes(self) -> tuple[list[int], list[int]]:
        """`changes()` of lists."""
        pages = self.sync()
        return (
            [task_list["id"] for page in pages for task_list in page["lists"]],
            [list_id for page in pages for list_id in page["deleted"]["lists"]],
        )


def listed(client) -> dict[int, dict]:
    return {task["id"]: task for task in client.get("/api/tasks", {"limit": 500}).json()}


def lists_listed(client) -> dict[int, dict]:
    return {task_list["id"]: task_list for task_list in client.get("/api/lists", {"limit": 500}).json()}


@pytest.fixture
def replica(alice_client):
    synced = Replica(alice_client)
    synced.sync()
    return synced


def test_without_a_cursor_it_answers_a_snapshot_of_every_task_as_the_task_routes_show_it(alice_client, alice):
    first = alice_client.post("/api/tasks", {"title": "Buy milk", "tags": ["home"]}, format="json").json()
    second = alice_client.post("/api/tasks", {"title": "Call mum"}, format="json").json()
    page = alice_client.get("/api/changes").json()
    assert page["tasks"] == [first, second]  # oldest change first
    assert page["deleted"] == {"tasks": [], "lists": []}
    assert page["has_more"] is False and page["next_cursor"]


def test_a_new_user_gets_an_empty_snapshot_and_a_cursor_that_works(alice_client):
    page = alice_client.get("/api/changes").json()
    assert page == {
        "tasks": [],
        "lists": [],
        "deleted": {"tasks": [], "lists": []},
        "next_cursor": page["next_cursor"],
        "has_more": False,
    }
    task = alice_client.post("/api/tasks", {"title": "first"}, format="json").json()
    assert alice_client.get("/api/changes", {"cursor": page["next_cursor"]}).json()["tasks"] == [task]


def test_an_unchanged_feed_answers_nothing_and_the_same_cursor(replica):
    page = replica.page(replica.cursor)
    assert page["tasks"] == page["lists"] == [] and page["deleted"] == {"tasks": [], "lists": []}
    assert page["next_cursor"] == replica.cursor and page["has_more"] is False


def test_the_snapshot_leaves_out_deletions_made_before_it(alice_client, alice):
    gone = make_task(alice, title="gone")
    alice_client.delete(f"/api/tasks/{gone.id}")
    kept = make_task(alice, title="kept")
    page = alice_client.get("/api/changes").json()
    assert [task["id"] for task in page["tasks"]] == [kept.id]
    assert page["deleted"] == {"tasks": [], "lists": []}


# Every write path feeds the task it changes exactly once.


def test_a_create_feeds_the_new_task_once(alice_client, replica):
    created = alice_client.post("/api/tasks", {"title": "Buy milk", "completed": True}, format="json").json()
    assert replica.changes() == ([created["id"]], [])
    assert replica.tasks[created["id"]] == created


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("put", {"title": "Buy oat milk"}),
        ("patch", {"title": "Buy oat milk"}),
        ("patch", {"tags": ["home"]}),
        ("patch", {"completed": True}),
    ],
    ids=["put", "patch", "tags", "patch-completed"],
)
def test_an_update_feeds_the_task_once_as_it_now_is(alice_client, alice, method, body):
    task = make_task(alice)
    synced = Replica(alice_client)
    synced.sync()
    answer = getattr(alice_client, method)(f"/api/tasks/{task.id}", body, format="json").json()
    assert synced.changes() == ([task.id], [])
    assert synced.tasks[task.id] == answer


def test_completing_feeds_the_task_once_and_reopening_again(alice_client, alice):
    task = make_task(alice)
    synced = Replica(alice_client)
    synced.sync()
    alice_client.patch(f"/api/tasks/{task.id}/complete")
    assert synced.changes() == ([task.id], [])
    assert synced.tasks[task.id]["completed"] is True
    alice_client.patch(f"/api/tasks/{task.id}/complete", {"completed": False}, format="json")
    assert synced.changes() == ([task.id], [])
    assert synced.tasks[task.id]["completed"] is False


def test_completing_a_recurring_task_feeds_it_and_its_next_occurrence_once_each(alice_client, alice):
    task = make_task(alice, title="water the plants", due_at=timezone.now(), recurrence="FREQ=DAILY")
    synced = Replica(alice_client)
    synced.sync()
    alice_client.patch(f"/api/tasks/{task.id}/complete")
    spawned = Task.objects.exclude(pk=task.pk).get()
    changed, deleted = synced.changes()
    assert sorted(changed) == sorted([task.id, spawned.id]) and deleted == []
    assert synced.tasks == listed(alice_client)


def test_reopening_feeds_the_task_and_the_deletion_of_its_untouched_next_occurrence(alice_client, alice):
    task = make_task(alice, title="water the plants", due_at=timezone.now(), recurrence="FREQ=DAILY")
    alice_client.patch(f"/api/tasks/{task.id}/complete")
    spawned = Task.objects.exclude(pk=task.pk).get()
    synced = Replica(alice_client)
    synced.sync()
    alice_client.patch(f"/api/tasks/{task.id}/complete", {"completed": False}, format="json")
    assert synced.changes() == ([task.id], [spawned.id])
    assert synced.tasks == listed(alice_client)
    alice_client.patch(f"/api/tasks/{task.id}/complete")
    alice_client.post("/api/tasks/bulk", {"action": "reopen", "ids": [task.id]}, format="json")
    changed, deleted = synced.changes()
    assert changed == [task.id] and len(deleted) == 1
    assert synced.tasks == listed(alice_client)


def test_a_bulk_action_feeds_each_task_once(alice_client, alice):
    tasks = [make_task(alice, title=f"task {i}") for i in range(3)]
    recurring = make_task(alice, title="recurring", due_at=timezone.now(), recurrence="FREQ=WEEKLY")
    synced = Replica(alice_client)
    synced.sync()
    ids = [task.id for task in tasks] + [recurring.id]
    answer = alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": ids}, format="json").json()
    changed, deleted = synced.changes()
    assert sorted(changed) == sorted(ids + answer["created"]) and deleted == []
    assert synced.tasks == listed(alice_client)
    alice_client.post("/api/tasks/bulk", {"action": "delete", "ids": ids}, format="json")
    assert synced.changes() == ([], sorted(ids))
    assert synced.tasks == listed(alice_client)


def test_a_delete_feeds_the_tasks_id_once(alice_client, alice):
    task = make_task(alice)
    synced = Replica(alice_client)
    synced.sync()
    assert alice_client.delete(f"/api/tasks/{task.id}").status_code == 204
    assert synced.changes() == ([], [task.id])
    assert synced.tasks == {}
    assert Tombstone.objects.get().object_id == task.id


def test_a_task_changed_then_deleted_between_two_syncs_is_only_deleted(alice_client, alice, replica):
    task = alice_client.post("/api/tasks", {"title": "brief"}, format="json").json()
    alice_client.patch(f"/api/tasks/{task['id']}", {"title": "briefer"}, format="json")
    alice_client.delete(f"/api/tasks/{task['id']}")
    assert replica.changes() == ([], [task["id"]])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("put", "/api/tasks/{id}", {"title": "Buy milk", "tags": ["Home"]}),
        ("patch", "/api/tasks/{id}", {"title": "Buy milk", "tags": ["HOME"]}),
        ("patch", "/api/tasks/{id}/complete", {"completed": False}),
        ("post", "/api/tasks/bulk", {"action": "reopen", "ids": ["{id}"]}),
    ],
    ids=["put", "patch", "complete", "bulk"],
)
def test_a_write_that_changes_nothing_adds_nothing_to_the_feed(alice_client, alice, method, path, body):
    task = alice_client.post("/api/tasks", {"title": "Buy milk", "tags": ["home"]}, format="json").json()
    synced = Replica(alice_client)
    synced.sync()
    if "ids" in body:
        body = {**body, "ids": [task["id"]]}
    assert getattr(alice_client, method)(path.format(id=task["id"]), body, format="json").status_code == 200
    page = synced.page(synced.cursor)
    assert page["tasks"] == [] and page["next_cursor"] == synced.cursor


def test_a_rejected_write_adds_nothing_to_the_feed(alice_client, alice, replica):
    task = make_task(alice)
    replica.sync()
    assert alice_client.patch(f"/api/tasks/{task.id}", {"title": ""}, format="json").status_code == 400
    assert alice_client.patch(f"/api/tasks/{task.id}", {"title": "x"}, HTTP_IF_MATCH='"0-0"').status_code == 412
    assert replica.page(replica.cursor)["next_cursor"] == replica.cursor


def test_the_phase_two_routes_feed_their_writes_too(alice_client, alice, replica):
    created = alice_client.post(f"/api/{alice.better_auth_id}/tasks", {"title": "spec"}, format="json").json()
    alice_client.delete(f"/api/{alice.better_auth_id}/tasks/{make_task(alice).id}")
    changed, deleted = replica.changes()
    assert changed == [created["id"]] and len(deleted) == 1


@pytest.fixture
def operator(client, db):
    client.force_login(User.objects.create_superuser(username="olivia", password="an operator's long password"))
    return client


def test_an_operators_action_in_the_admin_feeds_the_task(operator, alice, replica):
    task = make_task(alice)
    replica.sync()
    operator.post("/admin/tasks/task/", {"action": "complete", "_selected_action": [task.id]})
    assert replica.changes() == ([task.id], [])
    assert replica.tasks[task.id]["completed"] is True


def test_an_operators_edit_in_the_admin_feeds_the_task(operator, alice, replica):
    task = make_task(alice)
    replica.sync()
    form = {"owner": alice.better_auth_id, "title": "fixed by the operator", "description": "", "priority": 0}
    assert operator.post(f"/admin/tasks/task/{task.id}/change/", form).status_code == 302
    assert replica.changes() == ([task.id], [])
    assert replica.tasks[task.id]["title"] == "fixed by the operator"


def test_operators_deletions_in_the_admin_feed_each_owners_tasks(operator, alice, bob, bob_client, replica):
    one, two, his = make_task(alice), make_task(alice), make_task(bob)
    bobs = Replica(bob_client)
    bobs.sync()
    replica.sync()
    operator.post(f"/admin/tasks/task/{one.id}/delete/", {"post": "yes"})
    operator.post(
        "/admin/tasks/task/", {"action": "delete_selected", "_selected_action": [two.id, his.id], "post": "yes"}
    )
    assert not Task.objects.exists()
    assert replica.changes() == ([], [one.id, two.id])
    assert bobs.changes() == ([], [his.id])


# Pages: following next_cursor reproduces the list, whatever happens between pages.


def test_pages_follow_each_other_until_has_more_is_false(alice_client, alice):
    for i in range(7):
        make_task(alice, title=f"task {i}")
    synced = Replica(alice_client, limit=3)
    pages = synced.sync()
    assert [len(page["tasks"]) for page in pages] == [3, 3, 1]
    assert [page["has_more"] for page in pages] == [True, True, False]
    assert synced.tasks == listed(alice_client)


def test_a_bulk_change_larger_than_a_page_is_cut_between_pages_and_none_is_lost(alice_client, alice):
    tasks = [make_task(alice, title=f"task {i}") for i in range(5)]
    synced = Replica(alice_client, limit=2)
    synced.sync()
    ids = [task.id for task in tasks]
    alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": ids}, format="json")  # one change number
    changed, _ = synced.changes()
    assert sorted(changed) == sorted(ids) and len(synced.pages) == 3
    alice_client.post("/api/tasks/bulk", {"action": "delete", "ids": ids[:3]}, format="json")
    assert synced.changes() == ([], sorted(ids[:3]))
    assert synced.tasks == listed(alice_client)


def test_changes_between_pages_of_a_snapshot_still_reach_the_client(alice_client, alice):
    tasks = [make_task(alice, title=f"task {i}") for i in range(6)]
    synced = Replica(alice_client, limit=2)
    first = synced.page(None)
    for task in first["tasks"]:
        synced.tasks[task["id"]] = task
    synced.cursor = first["next_cursor"]
    # Between pages: a task already read is deleted, one already read and one not yet are edited.
    alice_client.delete(f"/api/tasks/{tasks[0].id}")
    alice_client.patch(f"/api/tasks/{tasks[1].id}", {"title": "edited"}, format="json")
    alice_client.patch(f"/api/tasks/{tasks[4].id}", {"title": "edited too"}, format="json")
    make_task(alice, title="new")
    synced.sync()
    assert synced.tasks == listed(alice_client)


def test_a_mix_of_writes_replays_into_exactly_the_list(alice_client, alice):
    synced = Replica(alice_client, limit=4)
    for round_number in range(3):
        ids = [
            alice_client.post("/api/tasks", {"title": f"r{round_number} {i}", **RECURRING}, format="json").json()["id"]
            for i in range(4)
        ]
        alice_client.patch(f"/api/tasks/{ids[0]}/complete")
        alice_client.patch(f"/api/tasks/{ids[1]}", {"tags": ["work"]}, format="json")
        alice_client.delete(f"/api/tasks/{ids[2]}")
        alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": ids[1:2] + ids[3:]}, format="json")
        synced.sync()
        assert synced.tasks == listed(alice_client)


# Query parameters and cursors.


@pytest.mark.parametrize("limit", ["0", "1001", "ten", "-1", "2.5", ""])
def test_it_rejects_a_limit_out_of_range_naming_it(alice_client, limit):
    response = alice_client.get("/api/changes", {"limit": limit})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["limit"]


def test_it_rejects_an_empty_cursor_rather_than_answer_a_snapshot(alice_client):
    response = alice_client.get("/api/changes", {"cursor": ""})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["cursor"]


def _validated(params: dict):
    """What the serializer makes of a query: its data, or the fields it names."""
    query = FeedQuerySerializer(data=params)
    return dict(query.validated_data) if query.is_valid() else sorted(query.errors)


def _read(params: dict):
    try:
        return dict(feed_query(params))
    except ValidationError as error:
        return sorted(error.detail)


CURSOR = signing.Signer(salt="core.changes:1").sign_object([12, "tasks.task", 7, 3])


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"cursor": CURSOR},
        {"cursor": CURSOR, "limit": "1"},
        {"cursor": CURSOR, "limit": "1000"},
        {"cursor": CURSOR, "limit": "0012"},
        {"cursor": CURSOR, "limit": "0"},
        {"cursor": CURSOR, "limit": "1001"},
        {"cursor": CURSOR, "limit": "9999"},
        {"cursor": CURSOR, "limit": "12.0"},
        {"cursor": CURSOR, "limit": " 12"},
        {"cursor": CURSOR, "limit": "١٢"},
        {"cursor": CURSOR, "limit": ""},
        {"cursor": CURSOR, "other": "x"},
        {"cursor": ""},
        {"cursor": " " + CURSOR + " "},
        {"cursor": "a" * 300},
        {"cursor": "a" * 301},
        {"cursor": "a\x00b"},
        {"cursor": "a\ud800b"},
        {"cursor": "é"},
        {"limit": "5"},
    ],
)
def test_the_query_reads_as_the_serializer_reads_it(params):
    assert _read(params) == _validated(params)


def test_it_takes_a_limit_of_1000(alice_client):
    assert alice_client.get("/api/changes", {"limit": 1000}).status_code == 200


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "0",
        "eyJhIjoxfQ:abc",
        "WzAsbnVsbCwwLDBd.abc",
        "WzAsbnVsbCwwLDBd.é",
        "x" * 301,
        signing.Signer().sign_object([0, None, 0, 0]),
    ],
    ids=[
        "garbage",
        "a number",
        "a forged signature",
        "a forged signature, today's form",
        "a signature not in ASCII",
        "too long",
        "signed for no user",
    ],
)
def test_it_rejects_a_cursor_it_did_not_issue(alice_client, cursor):
    response = alice_client.get("/api/changes", {"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid_cursor", "validation_failed")


def old_cursor(position: Position, *, user: User) -> str:
    """A cursor as the server wrote them before they were dotted (django.core.signing's form)."""
    signer = signing.Signer(salt=f"core.changes:{user.pk}")
    return signer.sign_object([position.seq, position.kind, position.id, position.since])


@pytest.mark.parametrize("form", ["today's", "old"])
def test_it_rejects_a_cursor_whose_position_was_edited(alice_client, alice, replica, form):
    make_task(alice)
    replica.sync()
    top = ChangeCounter.objects.get(user=alice).seq
    cursor = replica.cursor if form == "today's" else old_cursor(Position(seq=top), user=alice)
    separator = "." if form == "today's" else ":"
    edited = signing.b64_encode(b"[0,null,0,0]").decode() + separator + cursor.rsplit(separator, 1)[1]
    response = alice_client.get("/api/changes", {"cursor": edited})
    assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"


def test_a_cursor_needs_no_escaping_in_a_url(alice_client, alice, replica):
    make_task(alice)
    for cursor in (
        replica.cursor,
        replica.sync()[-1]["next_cursor"],
        cursor_for(Position(7, "tasks.task", 3), user=alice),
    ):
        assert quote(cursor, safe="") == cursor


# Cursors issued before they were dotted: a client that synced before an upgrade carries on.


def test_an_old_cursor_still_reads_the_changes_after_it(alice_client, alice, replica):
    make_task(alice)
    replica.sync()
    cursor = old_cursor(Position(seq=ChangeCounter.objects.get(user=alice).seq), user=alice)
    task = alice_client.post("/api/tasks", {"title": "after the upgrade"}, format="json").json()
    page = replica.page(cursor)
    assert page["tasks"] == [task] and page["next_cursor"] == replica.page(replica.cursor)["next_cursor"]


def test_an_unchanged_poll_with_an_old_cursor_answers_the_same_position_in_todays_form(alice, replica):
    make_task(alice)
    replica.sync()
    position = Position(seq=ChangeCounter.objects.get(user=alice).seq)
    page = replica.page(old_cursor(position, user=alice))
    assert page["tasks"] == [] and page["has_more"] is False
    assert page["next_cursor"] == cursor_for(position, user=alice) == replica.cursor


def test_alices_old_cursor_is_a_400_for_bob(bob_client, alice):
    response = bob_client.get("/api/changes", {"cursor": old_cursor(Position(seq=0), user=alice)})
    assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"


# The secret: cursors are signed with SECRET_KEY and stay good once it moves to the fallbacks.


def test_cursors_signed_before_the_secret_was_rotated_stay_good_through_the_fallbacks(alice, replica, settings):
    old_form = old_cursor(Position(seq=0), user=alice)
    old_secret, settings.SECRET_KEY = settings.SECRET_KEY, "a-new-secret-" + "x" * 50
    settings.SECRET_KEY_FALLBACKS = [old_secret]
    assert replica.page(replica.cursor)["next_cursor"] == replica.cursor
    assert replica.page(old_form)["next_cursor"] == cursor_for(Position(seq=0), user=alice)  # the new secret's


@pytest.mark.parametrize("form", ["today's", "old"])
def test_a_cursor_signed_with_a_secret_no_longer_kept_is_a_400(alice_client, alice, replica, settings, form):
    cursor = replica.cursor if form == "today's" else old_cursor(Position(seq=0), user=alice)
    settings.SECRET_KEY = "a-new-secret-" + "x" * 50
    response = alice_client.get("/api/changes", {"cursor": cursor})
    assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"


def test_the_feed_needs_a_token(client):
    assert client.get("/api/changes").status_code == 401


# Alice and Bob: one user's feed and cursors say nothing of another's.


def test_bob_never_sees_alices_changes(alice_client, bob_client, alice, bob):
    bobs = Replica(bob_client)
    bobs.sync()
    task = alice_client.post("/api/tasks", {"title": "hers"}, format="json").json()
    alice_client.patch(f"/api/tasks/{task['id']}", {"title": "still hers"}, format="json")
    alice_client.delete(f"/api/tasks/{make_task(alice).id}")
    assert bobs.changes() == ([], [])
    assert Replica(bob_client).changes() == ([], [])


def test_alices_cursor_is_a_400_for_bob(alice_client, bob_client, alice, bob, replica):
    make_task(alice)
    response = bob_client.get("/api/changes", {"cursor": replica.cursor})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


def test_a_cursor_of_a_deleted_account_is_refused_to_the_new_account_of_the_same_user(alice_client, alice, replica):
    alice.delete()
    response = alice_client.get("/api/changes", {"cursor": replica.cursor})
    assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"


def test_deleting_a_user_deletes_their_feed(alice_client, alice, bob):
    alice_client.delete(f"/api/tasks/{make_task(alice).id}")
    make_task(bob)
    alice.delete()
    assert not Tombstone.objects.exists()
    assert list(ChangeCounter.objects.values_list("user_id", flat=True)) == [bob.pk]


# Tombstones expire: a cursor older than the ones kept is a 410.


def age_tombstones(days: int) -> None:
    Tombstone.objects.update(deleted_at=timezone.now() - timedelta(days=days))


def test_the_purge_command_removes_tombstones_older_than_the_setting(alice_client, alice, settings):
    settings.SYNC_TOMBSTONE_DAYS = 30
    old, recent = make_task(alice), make_task(alice)
    alice_client.delete(f"/api/tasks/{old.id}")
    age_tombstones(31)
    alice_client.delete(f"/api/tasks/{recent.id}")
    call_command("purge_tombstones", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(Tombstone.objects.values_list("object_id", flat=True)) == [recent.id]


def test_a_cursor_older_than_the_purged_tombstones_is_a_410(alice_client, alice, replica):
    task = make_task(alice)
    alice_client.delete(f"/api/tasks/{task.id}")
    age_tombstones(31)
    call_command("purge_tombstones", stdout=open("/dev/null", "w"))  # noqa: SIM115
    response = alice_client.get("/api/changes", {"cursor": replica.cursor})
    assert response.status_code == 410
    assert response.json()["code"] == "cursor_expired"
    assert "without a cursor" in response.json()["message"]
    # Starting again works, and its cursor is good from then on.
    fresh = Replica(alice_client)
    fresh.sync()
    assert fresh.tasks == listed(alice_client)
    assert fresh.page(fresh.cursor)["next_cursor"] == fresh.cursor


def test_a_cursor_read_past_the_purged_tombstones_stays_good(alice_client, alice):
    task = make_task(alice)
    alice_client.delete(f"/api/tasks/{task.id}")
    synced = Replica(alice_client)
    synced.sync()
    age_tombstones(31)
    call_command("purge_tombstones", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert synced.page(synced.cursor)["next_cursor"] == synced.cursor


def test_purging_one_users_tombstones_leaves_others_cursors_alone(alice_client, bob_client, alice, bob):
    bobs = Replica(bob_client)
    bobs.sync()
    alice_client.delete(f"/api/tasks/{make_task(alice).id}")
    age_tombstones(31)
    call_command("purge_tombstones", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert bob_client.get("/api/changes", {"cursor": bobs.cursor}).status_code == 200


def test_a_cursor_ahead_of_the_feed_is_a_410(alice_client, alice):
    ahead = cursor_for(Position(seq=99), user=alice)
    response = alice_client.get("/api/changes", {"cursor": ahead})
    assert response.status_code == 410 and response.json()["code"] == "cursor_expired"


# Lists: their own writes feed them, and so does every write that changes their counts.


def test_a_bulk_move_feeds_each_moved_task_once(alice_client, alice):
    work = alice_client.post("/api/lists", {"name": "Work"}, format="json").json()
    tasks = [make_task(alice, title=f"task {i}") for i in range(3)]
    synced = Replica(alice_client)
    synced.sync()
    ids = [task.id for task in tasks]
    body = {"action": "move", "ids": ids, "list_id": work["id"]}
    assert alice_client.post("/api/tasks/bulk", body, format="json").status_code == 200
    changed, deleted = synced.changes()
    assert sorted(changed) == sorted(ids) and deleted == []
    assert {task["list_id"] for task in synced.tasks.values()} == {work["id"]}
    assert synced.tasks == listed(alice_client)
    # Moving them where they are changes nothing, and adds nothing.
    assert alice_client.post("/api/tasks/bulk", body, format="json").status_code == 200
    assert synced.page(synced.cursor)["next_cursor"] == synced.cursor


def test_deleting_a_list_feeds_the_deletion_of_each_of_its_tasks(alice_client, alice):
    work = alice_client.post("/api/lists", {"name": "Work"}, format="json").json()
    inside = [
        alice_client.post("/api/tasks", {"title": f"in {i}", "list_id": work["id"]}, format="json").json()["id"]
        for i in range(2)
    ]
    outside = make_task(alice, title="inbox")
    synced = Replica(alice_client)
    synced.sync()
    assert alice_client.delete(f"/api/lists/{work['id']}").status_code == 204
    assert synced.changes() == ([], sorted(inside))
    assert list(synced.tasks) == [outside.id]
    assert synced.tasks == listed(alice_client)


def create_list(client, name: str) -> dict:
    response = client.post("/api/lists", {"name": name}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_list_in_the_snapshot_is_as_the_list_routes_show_it(alice_client, alice):
    work = create_list(alice_client, "Work")
    alice_client.post("/api/tasks", {"title": "in it", "list_id": work["id"]}, format="json")
    page = alice_client.get("/api/changes").json()
    assert page["lists"] == list(lists_listed(alice_client).values())
    assert page["lists"][0]["task_count"] == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "", {"name": "Office"}),
        ("put", "", {"name": "Office", "color": "#ff0000"}),
        ("patch", "", {"color": "#00ff00"}),
        ("post", "/move", {}),
    ],
)
def test_each_write_of_a_list_feeds_it_once_as_it_now_is(alice_client, alice, replica, method, path, body):
    work = create_list(alice_client, "Work")
    create_list(alice_client, "Home")  # so that an empty move puts Work last, a change
    assert replica.list_changes()[0] == [work["id"], work["id"] + 1]
    response = getattr(alice_client, method)(f"/api/lists/{work['id']}{path}", body, format="json")
    assert response.status_code == 200, response.content
    assert replica.list_changes() == ([work["id"]], [])
    assert replica.lists == lists_listed(alice_client)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("patch", "", {"name": "Work"}), ("put", "", {"name": "Work"}), ("post", "/move", {})],
)
def test_a_list_write_that_changes_nothing_adds_nothing(alice_client, alice, replica, method, path, body):
    work = create_list(alice_client, "Work")
    replica.sync()
    response = getattr(alice_client, method)(f"/api/lists/{work['id']}{path}", body, format="json")
    assert response.status_code == 200, response.content
    assert replica.page(replica.cursor)["next_cursor"] == replica.cursor


def test_a_renumbering_move_of_lists_feeds_each_renumbered_list(alice_client, alice, replica):
    lists = [create_list(alice_client, f"list {i}") for i in range(3)]
    first, second, last = (task_list["id"] for task_list in lists)
    for _ in range(20):  # until the gap between the first two runs out
        alice_client.post(f"/api/lists/{last}/move", {"after": first}, format="json")
        alice_client.post(f"/api/lists/{second}/move", {"after": first}, format="json")
    replica.sync()
    assert replica.lists == lists_listed(alice_client)
    assert [task_list["id"] for task_list in sorted(replica.lists.values(), key=lambda t: t["position"])] == [
        first,
        second,
        last,
    ]


def test_deleting_a_list_feeds_its_deletion_and_its_tasks(alice_client, alice, replica):
    work, home = create_list(alice_client, "Work"), create_list(alice_client, "Home")
    task = alice_client.post("/api/tasks", {"title": "in it", "list_id": work["id"]}, format="json").json()
    replica.sync()
    assert alice_client.delete(f"/api/lists/{work['id']}").status_code == 204
    pages = replica.sync()
    assert [page["deleted"] for page in pages] == [{"tasks": [task["id"]], "lists": [work["id"]]}]
    assert [page["lists"] for page in pages] == [[]]
    assert list(replica.lists) == [home["id"]] and replica.tasks == {}


def test_a_snapshot_leaves_out_lists_deleted_before_it(alice_client, alice):
    gone = create_list(alice_client, "Gone")
    alice_client.delete(f"/api/lists/{gone['id']}")
    assert alice_client.get("/api/changes").json()["deleted"] == {"tasks": [], "lists": []}


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda c, work, task: c.post("/api/tasks", {"title": "new", "list_id": work}), id="create"),
        pytest.param(lambda c, work, task: c.patch(f"/api/tasks/{task}/complete"), id="complete"),
        pytest.param(lambda c, work, task: c.patch(f"/api/tasks/{task}", {"completed": True}), id="patch-completed"),
        pytest.param(lambda c, work, task: c.delete(f"/api/tasks/{task}"), id="delete"),
        pytest.param(lambda c, work, task: c.patch(f"/api/tasks/{task}", {"list_id": None}), id="patch-out"),
        pytest.param(lambda c, work, task: c.post(f"/api/tasks/{task}/move", {"list_id": None}), id="move-out"),
        pytest.param(
            lambda c, work, task: c.post("/api/tasks/bulk", {"action": "complete", "ids": [task]}), id="bulk-complete"
        ),
        pytest.param(
            lambda c, work, task: c.post("/api/tasks/bulk", {"action": "move", "ids": [task], "list_id": None}),
            id="bulk-move",
        ),
        pytest.param(
            lambda c, work, task: c.post("/api/tasks/bulk", {"action": "delete", "ids": [task]}), id="bulk-delete"
        ),
        pytest.param(
            lambda c, work, task: c.post("/api/tasks", {"title": "sub", "parent_id": task}), id="create-subtask"
        ),
    ],
)
def test_a_task_write_that_changes_a_lists_counts_feeds_the_list_once(alice_client, alice, replica, write):
    work = create_list(alice_client, "Work")
    task = alice_client.post("/api/tasks", {"title": "in it", "list_id": work["id"]}, format="json").json()
    replica.sync()
    etag = alice_client.get(f"/api/lists/{work['id']}").headers["ETag"]
    alice_client.default_format = "json"
    assert write(alice_client, work["id"], task["id"]).status_code in (200, 201, 204)
    assert replica.list_changes()[0] == [work["id"]]
    assert replica.lists == lists_listed(alice_client)
    assert replica.tasks == listed(alice_client)
    # Its counts changed, so its ETag did: a conditional GET is not answered 304 with the old ones.
    assert alice_client.get(f"/api/lists/{work['id']}", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_task_moved_between_lists_feeds_both(alice_client, alice, replica):
    work, home = create_list(alice_client, "Work"), create_list(alice_client, "Home")
    task = alice_client.post("/api/tasks", {"title": "in it", "list_id": work["id"]}, format="json").json()
    replica.sync()
    alice_client.patch(f"/api/tasks/{task['id']}", {"list_id": home["id"]}, format="json")
    assert sorted(replica.list_changes()[0]) == sorted([work["id"], home["id"]])
    assert [replica.lists[pk]["task_count"] for pk in (work["id"], home["id"])] == [0, 1]


def test_a_task_write_that_leaves_the_counts_alone_carries_its_list_as_it_was(alice_client, alice, replica):
    work = create_list(alice_client, "Work")
    task = alice_client.post("/api/tasks", {"title": "in it", "list_id": work["id"]}, format="json").json()
    replica.sync()
    etag = alice_client.get(f"/api/lists/{work['id']}").headers["ETag"]
    alice_client.patch(f"/api/tasks/{task['id']}", {"title": "renamed", "priority": "high"}, format="json")
    # The page that reports a task carries its list (no list row is written when a task changes);
    # here its body is the same, and so is its ETag.
    assert replica.list_changes() == ([work["id"]], [])
    assert replica.lists == lists_listed(alice_client)
    assert alice_client.get(f"/api/lists/{work['id']}", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert replica.changes() == ([], [])  # read by list_changes' sync already
    assert replica.tasks[task["id"]]["title"] == "renamed"


def test_a_page_carries_each_list_of_its_tasks_once_and_no_other(alice_client, alice, replica):
    work, home = create_list(alice_client, "Work"), create_list(alice_client, "Home")
    ids = [
        alice_client.post("/api/tasks", {"title": f"t{i}", "list_id": work["id"]}, format="json").json()["id"]
        for i in range(3)
    ]
    inbox = alice_client.post("/api/tasks", {"title": "inbox"}, format="json").json()["id"]
    replica.sync()
    alice_client.post("/api/tasks/bulk", {"action": "complete", "ids": [*ids, inbox]}, format="json")
    pages = replica.sync()
    assert [[body["id"] for body in page["lists"]] for page in pages] == [[work["id"]]]
    assert replica.lists[work["id"]]["open_count"] == 0 and replica.lists[home["id"]]["open_count"] == 0
    assert replica.lists == lists_listed(alice_client)


def test_an_operators_list_deletion_in_the_admin_feeds_it_and_its_tasks(operator, alice, alice_client, replica):
    work = create_list(alice_client, "Work")
    task = alice_client.post("/api/tasks", {"title": "in it", "list_id": work["id"]}, format="json").json()
    replica.sync()
    assert operator.post(f"/admin/tasks/tasklist/{work['id']}/delete/", {"post": "yes"}).status_code == 302
    pages = replica.sync()
    assert [page["deleted"] for page in pages] == [{"tasks": [task["id"]], "lists": [work["id"]]}]
    assert replica.lists == {} and replica.tasks == {}


def test_bob_never_sees_alices_lists(alice_client, bob_client, alice, bob):
    create_list(alice_client, "Work")
    bobs = Replica(bob_client)
    bobs.sync()
    work = create_list(alice_client, "Home")
    alice_client.delete(f"/api/lists/{work['id']}")
    assert bobs.list_changes() == ([], []) and bobs.lists == {}


def test_a_mix_of_list_and_task_writes_replays_into_exactly_both_lists(alice_client, alice):
    synced = Replica(alice_client, limit=3)
    alice_client.default_format = "json"
    for round_number in range(3):
        work = create_list(alice_client, f"Work {round_number}")
        home = create_list(alice_client, f"Home {round_number}")
        ids = [
            alice_client.post("/api/tasks", {"title": f"t{i}", "list_id": work["id"], **RECURRING}).json()["id"]
            for i in range(4)
        ]
        alice_client.post("/api/tasks", {"title": "sub", "parent_id": ids[0]})
        alice_client.patch(f"/api/tasks/{ids[0]}/complete")
        alice_client.post("/api/tasks/bulk", {"action": "move", "ids": ids[1:3], "list_id": home["id"]})
        alice_client.delete(f"/api/tasks/{ids[3]}")
        alice_client.patch(f"/api/lists/{home['id']}", {"color": "#123456"})
        alice_client.post(f"/api/lists/{home['id']}/move", {"before": work["id"]})
        if round_number == 1:
            alice_client.delete(f"/api/lists/{work['id']}")
        synced.sync()
        assert synced.tasks == listed(alice_client)
        assert synced.lists == lists_listed(alice_client)


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda c, parent, sub: c.patch(f"/api/tasks/{sub}/complete"), id="complete"),
        pytest.param(lambda c, parent, sub: c.delete(f"/api/tasks/{sub}"), id="delete"),
        pytest.param(lambda c, parent, sub: c.patch(f"/api/tasks/{sub}", {"parent_id": None}), id="unparent"),
        pytest.param(
            lambda c, parent, sub: c.post("/api/tasks/bulk", {"action": "complete", "ids": [sub]}), id="bulk-complete"
        ),
        pytest.param(
            lambda c, parent, sub: c.post("/api/tasks/bulk", {"action": "delete", "ids": [sub]}), id="bulk-delete"
        ),
    ],
)
def test_a_subtask_write_that_changes_its_parents_counts_feeds_the_parent(alice_client, alice, replica, write):
    alice_client.default_format = "json"
    parent = alice_client.post("/api/tasks", {"title": "parent"}).json()
    sub = alice_client.post("/api/tasks", {"title": "step", "parent_id": parent["id"]}).json()
    replica.sync()
    etag = alice_client.get(f"/api/tasks/{parent['id']}").headers["ETag"]
    assert write(alice_client, parent["id"], sub["id"]).status_code in (200, 204)
    assert parent["id"] in replica.changes()[0]
    assert replica.tasks == listed(alice_client)
    # Its counts changed, so its ETag did: a conditional GET is not answered 304 with the old ones.
    assert alice_client.get(f"/api/tasks/{parent['id']}", HTTP_IF_NONE_MATCH=etag).status_code == 200


def counted_now(alice) -> tuple[dict, dict]:
    """Each list's and each task's counts as COUNT(*) finds them now."""
    lists = {
        task_list.pk: (
            Task.objects.filter(list=task_list).count(),
            Task.objects.filter(list=task_list, completed=False).count(),
        )
        for task_list in TaskList.objects.filter(owner=alice)
    }
    tasks = {
        task.pk: (Task.objects.filter(parent=task).count(), Task.objects.filter(parent=task, completed=False).count())
        for task in Task.objects.filter(owner=alice)
    }
    return lists, tasks


def test_the_stored_counts_stay_what_counting_finds_through_every_kind_of_write(alice_client, alice):
    synced = Replica(alice_client, limit=7)
    alice_client.default_format = "json"
    work, home = create_list(alice_client, "Work"), create_list(alice_client, "Home")
    parent = alice_client.post("/api/tasks", {"title": "parent", "list_id": work["id"], **RECURRING}).json()
    steps = [
        alice_client.post("/api/tasks", {"title": f"step {i}", "parent_id": parent["id"], **RECURRING}).json()
        for i in range(3)
    ]
    other = alice_client.post("/api/tasks", {"title": "other", "list_id": work["id"]}).json()
    writes = [
        lambda: alice_client.patch(f"/api/tasks/{steps[0]['id']}/complete"),  # a recurring subtask: its copy
        lambda: alice_client.patch(f"/api/tasks/{parent['id']}", {"list_id": home["id"]}),  # subtasks follow
        lambda: alice_client.post(f"/api/tasks/{parent['id']}/move", {"list_id": work["id"]}),
        lambda: alice_client.post("/api/tasks/bulk", {"action": "move", "ids": [parent["id"]], "list_id": home["id"]}),
        lambda: alice_client.patch(f"/api/tasks/{parent['id']}/complete"),  # its copy, with the subtasks copied
        lambda: alice_client.patch(f"/api/tasks/{steps[1]['id']}", {"parent_id": None}),
        lambda: alice_client.patch(f"/api/tasks/{other['id']}", {"parent_id": parent["id"]}),
        lambda: alice_client.post(
            "/api/tasks/bulk", {"action": "complete", "ids": [parent["id"]], "include_subtasks": True}
        ),
        lambda: alice_client.patch(f"/api/tasks/{parent['id']}/complete"),  # reopened: its untouched copy goes
        lambda: alice_client.post("/api/tasks/bulk", {"action": "delete", "ids": [steps[2]["id"]]}),
        lambda: alice_client.delete(f"/api/tasks/{parent['id']}"),
        lambda: alice_client.delete(f"/api/lists/{home['id']}"),
    ]
    for write in writes:
        assert write().status_code in (200, 201, 204)
        lists, tasks = counted_now(alice)
        synced.sync()
        shown_lists = {pk: (body["task_count"], body["open_count"]) for pk, body in lists_listed(alice_client).items()}
        shown_tasks = {
            pk: (body["subtask_count"], body["open_subtask_count"]) for pk, body in listed(alice_client).items()
        }
        assert (shown_lists, shown_tasks) == (lists, tasks)
        assert (synced.lists, synced.tasks) == (lists_listed(alice_client), listed(alice_client))
