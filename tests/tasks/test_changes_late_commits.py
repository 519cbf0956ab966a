"""The change feed never skips a change that commits late (PostgreSQL, real transactions).

The classic failure of a feed read by timestamp or by a global sequence: write A takes its
number, write B takes a later one and commits, a client syncs (its cursor now past B), then A
commits with the earlier number and the client never sees it. Here a user's writes run one at a
time: each takes the owner's row lock before anything else and its change number under the lock
of the owner's counter row (core.changes), so B waits for A, whichever lock A is held on, and a
sync meanwhile sees neither.
"""

import threading
import time

import psycopg
import pytest
from django.db import connection

from tests.auth import client_for
from tests.tasks.factories import make_task
from tests.tasks.test_changes import Replica, listed

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and concurrent writers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def other_connection():
    """A connection of the test database's own, outside Django: another process's transaction."""
    with psycopg.connect(**connection.get_connection_params()) as held:
        yield held


def waiting_on_locks() -> int:
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as watcher:
        row = watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
    return row[0]


def until_waiting_on_locks(count: int, *, unless_done: threading.Thread | None = None) -> None:
    """Returns once `count` transactions wait for a lock (polled: the database says when), or
    once the thread `unless_done` has finished."""
    deadline = time.monotonic() + 10
    while waiting_on_locks() < count and (unless_done is None or unless_done.is_alive()):
        assert time.monotonic() < deadline, f"fewer than {count} writers ever waited for a lock"
        time.sleep(0.01)


class Write(threading.Thread):
    """A request in a thread of its own, with its own database connection, as another worker."""

    def __init__(self, user, method: str, path: str, body: dict):
        super().__init__()
        self.user, self.method, self.path, self.body = user, method, path, body
        self.status = None

    def run(self):
        try:
            client = client_for(self.user)
            self.status = getattr(client, self.method)(self.path, self.body, format="json").status_code
        finally:
            connection.close()


def test_a_write_held_open_on_its_row_is_fed_to_a_client_that_synced_meanwhile(alice, other_connection):
    a, b = make_task(alice, title="a"), make_task(alice, title="b")
    client = client_for(alice)
    synced = Replica(client)
    synced.sync()
    # Another connection holds task A's row: write A waits for it, its transaction open.
    other_connection.execute("SELECT id FROM tasks_task WHERE id = %s FOR UPDATE", [a.id])
    write_a = Write(alice, "patch", f"/api/tasks/{a.id}", {"title": "a, edited"})
    write_a.start()
    until_waiting_on_locks(1)
    # Write B, of the same user, waits for A rather than committing ahead of it...
    write_b = Write(alice, "patch", f"/api/tasks/{b.id}", {"title": "b, edited"})
    write_b.start()
    until_waiting_on_locks(2, unless_done=write_b)
    # ...so a client that syncs meanwhile moves its cursor past neither.
    meanwhile = synced.changes()
    other_connection.commit()
    write_a.join()
    write_b.join()
    assert (write_a.status, write_b.status) == (200, 200)
    assert meanwhile == ([], [])
    # The next sync from the client's cursor has A, then B.
    assert synced.changes() == ([a.id, b.id], [])
    assert synced.tasks == listed(client)


def test_a_write_holding_its_change_number_holds_back_the_users_later_writes(alice, other_connection):
    a, b = make_task(alice, title="a"), make_task(alice, title="b")
    client = client_for(alice)
    synced = Replica(client)
    synced.sync()
    # Write A takes its change number, then waits (its new tag is being inserted by another
    # transaction): it holds the number, uncommitted, as a slow writer would.
    other_connection.execute("INSERT INTO tasks_tag (user_id, name) VALUES (%s, 'home')", [alice.better_auth_id])
    write_a = Write(alice, "patch", f"/api/tasks/{a.id}", {"title": "a, edited", "tags": ["home"]})
    write_a.start()
    until_waiting_on_locks(1)
    # Write B, of the same user, waits for A to commit rather than committing ahead of it...
    write_b = Write(alice, "patch", f"/api/tasks/{b.id}", {"title": "b, edited"})
    write_b.start()
    until_waiting_on_locks(2, unless_done=write_b)
    # ...so a sync meanwhile sees neither, and its cursor stays before both.
    meanwhile = synced.changes()
    other_connection.rollback()
    write_a.join()
    write_b.join()
    assert (write_a.status, write_b.status) == (200, 200)
    changed, _ = synced.changes()
    assert changed == [a.id, b.id]  # both, in the order they committed
    assert synced.tasks == listed(client)
    assert meanwhile == ([], [])


def test_another_users_writes_do_not_wait_for_a_held_one(alice, bob, other_connection):
    a = make_task(alice, title="a")
    other_connection.execute("INSERT INTO tasks_tag (user_id, name) VALUES (%s, 'home')", [alice.better_auth_id])
    write_a = Write(alice, "patch", f"/api/tasks/{a.id}", {"title": "a, edited", "tags": ["home"]})
    write_a.start()
    until_waiting_on_locks(1)
    bobs = client_for(bob)
    assert bobs.post("/api/tasks", {"title": "his"}, format="json").status_code == 201
    assert [task["title"] for task in bobs.get("/api/changes").json()["tasks"]] == ["his"]
    other_connection.rollback()
    write_a.join()
    assert write_a.status == 200
