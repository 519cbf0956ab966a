"""Two app instances on one PostgreSQL database and one Redis: shared budgets, one task per key, no lost writes."""

import random
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tasks.models import Task
from tests.live import call, new_user_token, start_app
from tests.test_throttling import redis_answers

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="app processes need a database server (PostgreSQL)"),
    pytest.mark.skipif(not redis_answers(), reason="needs Redis on 127.0.0.1:6379"),
    pytest.mark.django_db(transaction=True),
]


def database_url() -> str:
    """The test database, as the app processes reach it."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def two_apps():
    """Starts two instances with the given environment; both are stopped after the test."""
    started = []

    def start(**env):
        for _ in range(2):
            started.append(start_app(database_url=database_url(), REDIS_URL="redis://127.0.0.1:6379/0", **env))
        return [server.port for server in started]

    yield start
    for server in started:
        server.stop()
    errors = [line for server in started for line in server.log if '"level": "error"' in line]
    assert not errors, errors


def test_one_idempotency_key_sent_to_both_instances_creates_one_task(two_apps):
    ports = two_apps()
    user_id, token = new_user_token()
    headers = {"Idempotency-Key": "create-once"}
    barrier = threading.Barrier(len(ports) * 2)

    def send(port):
        barrier.wait()
        return call(port, "POST", "/api/tasks", token=token, body={"title": "Pay rent"}, headers=headers)

    with ThreadPoolExecutor(len(ports) * 2) as pool:
        raced = list(pool.map(send, ports * 2))
    retried = [
        call(port, "POST", "/api/tasks", token=token, body={"title": "Pay rent"}, headers=headers) for port in ports
    ]

    assert {answer.status for answer in raced} <= {201, 409}
    assert [answer.status for answer in retried] == [201, 201]
    task = Task.objects.get(owner_id=user_id)
    assert {answer.body["id"] for answer in raced + retried if answer.status == 201} == {task.id}


def test_a_write_budget_is_shared_by_both_instances(two_apps):
    ports = two_apps(THROTTLE_WRITE_RATE="5/day")
    user_id, token = new_user_token()
    statuses = [call(ports[i % 2], "POST", "/api/tasks", token=token, body={"title": f"t{i}"}).status for i in range(8)]
    assert statuses == [201] * 5 + [429] * 3
    assert Task.objects.filter(owner_id=user_id).count() == 5


def test_a_chunked_body_is_read_and_an_oversized_one_refused(two_apps):
    port = two_apps(API_MAX_BODY_BYTES="1000")[0]
    _, token = new_user_token()

    def chunked(body: bytes):
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conn.request("POST", "/api/tasks", body=iter([body[:10], body[10:]]), headers=headers, encode_chunked=True)
        response = conn.getresponse()
        status = response.status
        response.read()
        conn.close()
        return status

    assert chunked(b'{"title": "sent in chunks"}') == 201
    assert chunked(b'{"title": "' + b"x" * 2000 + b'"}') == 413
    assert Task.objects.filter(title="sent in chunks").count() == 1


def test_hundreds_of_concurrent_mixed_requests_lose_duplicate_and_leak_nothing(two_apps):
    """Several users create, toggle, patch, delete and list at once, on both instances."""
    ports = two_apps()
    users = [new_user_token() for _ in range(4)]
    rng = random.Random(6)

    def send(port, method, path, token, body=None):
        return call(port, method, path, token=token, body=body, timeout=30)

    # Each user creates tasks concurrently with unique titles.
    creates = [(rng.choice(ports), user_id, token, f"{user_id}-{n}") for user_id, token in users for n in range(15)]
    with ThreadPoolExecutor(24) as pool:
        created = list(pool.map(lambda c: (c[1], send(c[0], "POST", "/api/tasks", c[2], {"title": c[3]})), creates))
    assert all(answer.status == 201 for _, answer in created), [a.status for _, a in created]
    tasks_of = defaultdict(list)
    for user_id, answer in created:
        tasks_of[user_id].append(answer.body["id"])

    # Then a mixed storm: toggles, patches, deletes, lists and peeks at other users' tasks.
    plan = []
    for _ in range(300):
        user_id, token = rng.choice(users)
        task_id = rng.choice(tasks_of[user_id])
        kind = rng.choices(["toggle", "patch", "delete", "list", "foreign"], weights=[40, 25, 5, 20, 10])[0]
        plan.append((kind, rng.choice(ports), user_id, token, task_id))

    def run(step):
        kind, port, user_id, token, task_id = step
        if kind == "toggle":
            return step, send(port, "PATCH", f"/api/tasks/{task_id}/complete", token)
        if kind == "patch":
            return step, send(port, "PATCH", f"/api/tasks/{task_id}", token, {"description": "edited"})
        if kind == "delete":
            return step, send(port, "DELETE", f"/api/tasks/{task_id}", token)
        if kind == "list":
            return step, send(port, "GET", "/api/tasks?limit=500", token)
        others = [t for other, ids in tasks_of.items() if other != user_id for t in ids]
        return step, send(port, "PATCH", f"/api/tasks/{rng.choice(others)}", token, {"title": "mine now"})

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(run, plan))

    assert not [answer.status for _, answer in results if answer.status >= 500]
    toggles, writes, deleted, edited = Counter(), Counter(), set(), set()
    targeted_by_a_delete = {task_id for (kind, *_, task_id), _ in results if kind == "delete"}
    for (kind, _, user_id, _, task_id), answer in results:
        if kind == "foreign":
            assert answer.status == 404
        elif kind == "list":
            assert answer.status == 200
            assert {task["user_id"] for task in answer.body} <= {user_id}
        elif kind == "delete" and answer.status == 204:
            deleted.add(task_id)
        elif kind == "toggle" and answer.status == 200:
            writes[task_id] += 1
            toggles[task_id] += 1
        elif kind == "patch" and answer.status == 200:
            # The first edit changes the task; the same edit again changes nothing, its version included.
            writes[task_id] += task_id not in edited
            edited.add(task_id)
        else:
            assert answer.status == 404 and task_id in targeted_by_a_delete

    for user_id, token in users:
        stored = {task.id: task for task in Task.objects.filter(owner_id=user_id)}
        assert set(stored) == set(tasks_of[user_id]) - deleted  # nothing lost, nothing duplicated
        assert Task.objects.filter(owner_id=user_id, title__startswith=user_id).count() == len(stored)
        listed = call(ports[0], "GET", "/api/tasks?limit=500", token=token).body
        assert sorted(task["id"] for task in listed) == sorted(stored)
        for task_id, task in stored.items():
            assert task.completed == (toggles[task_id] % 2 == 1)  # every toggle counted once
            assert task.version == 1 + writes[task_id]  # every write counted once
