"""Per-user limits: over them a write is a 409 and nothing is half-written."""

import os
import threading

import pytest
from django.db import connection

from tasks.models import Tag, Task
from tests.auth import client_for
from tests.tasks.factories import make_task


def test_it_refuses_a_task_over_the_per_user_limit(alice_client, alice, bob_client, settings):
    settings.TASKS = {**settings.TASKS, "MAX_TASKS_PER_USER": 2}
    make_task(alice)
    assert alice_client.post("/api/tasks", {"title": "second"}).status_code == 201
    response = alice_client.post("/api/tasks", {"title": "third", "tags": ["new"]})
    assert response.status_code == 409
    assert response.json()["code"] == "task_limit_reached"
    assert Task.objects.filter(owner=alice).count() == 2
    assert not Tag.objects.exists()
    assert bob_client.post("/api/tasks", {"title": "Bob's first"}).status_code == 201  # per user


def test_it_refuses_tags_over_the_per_user_limit_and_changes_nothing(alice_client, alice, settings):
    settings.TASKS = {**settings.TASKS, "MAX_TAGS_PER_USER": 3}
    task_id = alice_client.post("/api/tasks", {"title": "x", "tags": ["a", "b"]}).json()["id"]
    response = alice_client.patch(f"/api/tasks/{task_id}", {"title": "renamed", "tags": ["a", "b", "c", "d"]})
    assert response.status_code == 409
    assert response.json()["code"] == "tag_limit_reached"
    task = Task.objects.get()
    assert task.title == "x"
    assert sorted(t.name for t in task.tags.all()) == ["a", "b"]
    # Reusing existing tags is always fine.
    assert alice_client.patch(f"/api/tasks/{task_id}", {"tags": ["A", "c"]}).status_code == 200


def race(count: int, request) -> list[int]:
    """Runs `request(i)` in `count` threads released at once, each on its own connection; the statuses."""
    barrier = threading.Barrier(count)
    statuses = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            statuses[i] = request(i).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


row_locks = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="in-process threads share SQLite's test database; see the live test"
)


@row_locks
@pytest.mark.django_db(transaction=True)
def test_sixteen_creates_at_once_never_pass_the_task_limit(alice, settings):
    settings.TASKS = {**settings.TASKS, "MAX_TASKS_PER_USER": 5}
    make_task(alice)
    statuses = race(16, lambda i: client_for(alice).post("/api/tasks", {"title": f"t{i}"}))
    assert sorted(statuses) == [201] * 4 + [409] * 12
    assert Task.objects.filter(owner=alice).count() == 5


@row_locks
@pytest.mark.django_db(transaction=True)
def test_sixteen_creates_with_new_tags_at_once_never_pass_the_tag_limit(alice, settings):
    settings.TASKS = {**settings.TASKS, "MAX_TAGS_PER_USER": 5}
    statuses = race(16, lambda i: client_for(alice).post("/api/tasks", {"title": "t", "tags": [f"tag{i}"]}))
    assert sorted(statuses) == [201] * 5 + [409] * 11
    assert Tag.objects.filter(owner=alice).count() == 5


def test_sixteen_creates_at_once_never_pass_the_limits_on_sqlite_either(tmp_path):
    """SQLite has no row locks: its transactions are IMMEDIATE, so two gunicorn workers'
    check-then-insert writes on one database file run one after the other."""
    import sqlite3
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from tests.live import ROOT, call, new_user_token, start_app

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**env, "DATABASE_URL": url}, check=True
    )
    app = start_app(
        database_url=url, TASKS_MAX_PER_USER="5", TASKS_MAX_TAGS_PER_USER="3", THROTTLE_WRITE_RATE="100000/min"
    )
    try:
        _, token = new_user_token()

        def sixteen_creates(body) -> list[int]:
            with ThreadPoolExecutor(16) as clients:
                answers = clients.map(
                    lambda i: call(app.port, "POST", "/api/tasks", token=token, body=body(i), timeout=30), range(16)
                )
                return sorted(answer.status for answer in answers)

        tagged = sixteen_creates(lambda i: {"title": "t", "tags": [f"t{i}"]})
        untagged = sixteen_creates(lambda i: {"title": "t"})
    finally:
        app.stop()
    assert tagged == [201] * 3 + [409] * 13  # 3 tags at most
    assert untagged == [201] * 2 + [409] * 14  # 5 tasks at most
    with sqlite3.connect(tmp_path / "db.sqlite3") as database:
        assert database.execute("SELECT COUNT(*) FROM tasks_tag").fetchone() == (3,)
        assert database.execute("SELECT COUNT(*) FROM tasks_task").fetchone() == (5,)
