"""While PostgreSQL is down the API answers a quick JSON 503; when it is back, requests succeed again.

The test runs a throwaway PostgreSQL cluster of its own (never the shared one), serves the app
from it with gunicorn, and stops and restarts that cluster while a client keeps creating tasks.
"""

import threading
import time
import uuid

import psycopg
import pytest

from tests.live import call, new_user_token, start_app
from tests.pgcluster import migrated_cluster, pytestmark  # noqa: F401 (the skips)


@pytest.fixture
def cluster():
    with migrated_cluster() as cluster:
        yield cluster


def test_an_outage_is_a_quick_json_503_and_the_api_recovers_by_itself(cluster):
    generous = {"THROTTLE_READ_RATE": "100000/min", "THROTTLE_WRITE_RATE": "100000/min"}
    app = start_app(database_url=cluster.url, workers=1, threads=4, **generous)
    _, token = new_user_token()
    log, stop = [], threading.Event()

    def keep_creating():
        # Each create is retried with its Idempotency-Key until it answers 201: none may be lost or doubled.
        while not stop.is_set():
            title, key = f"task {uuid.uuid4().hex}", uuid.uuid4().hex
            while not stop.is_set():
                started = time.monotonic()
                answer = call(
                    app.port, "POST", "/api/tasks", token=token, body={"title": title}, headers={"Idempotency-Key": key}
                )
                log.append((started, time.monotonic() - started, title, answer))
                if answer.status == 201:
                    break
                time.sleep(0.05)

    writer = threading.Thread(target=keep_creating)
    writer.start()
    try:
        time.sleep(1)
        crashed_at = time.monotonic()
        cluster.crash()
        time.sleep(3)
        down = [call(app.port, "GET", path, token=token) for path in ("/api/tasks", "/readyz", "/api/tags")]
        alive = call(app.port, "GET", "/healthz")
        cluster.start()
        ready_at = time.monotonic()  # the database accepts connections again
        time.sleep(6)
    finally:
        stop.set()
        writer.join(timeout=30)
        app.stop()

    statuses = {answer.status for *_, answer in log}
    first_503 = min(started + took for started, took, _, answer in log if answer.status == 503) - crashed_at
    recovered = (
        min(started + took for started, took, _, answer in log if answer.status == 201 and started > ready_at)
        - ready_at
    )
    slowest = max(took for _, took, _, answer in log if answer.status == 503)
    answered_201 = [title for _, _, title, answer in log if answer.status == 201]
    with psycopg.connect(cluster.url) as db:
        stored = [title for (title,) in db.execute("SELECT title FROM tasks_task")]
    print(
        f"\noutage timeline: first 503 {first_503:.2f}s after the crash, slowest 503 {slowest:.2f}s, "
        f"first 201 {recovered:.2f}s after the database was back; {len(answered_201)} creates answered 201, "
        f"{len(stored)} stored, {len(log)} requests"
    )

    assert statuses <= {201, 409, 503}, statuses  # never a 500
    for *_, answer in log:
        if answer.status == 503:
            assert answer.body["code"] == "database_unavailable"
            assert answer.headers["retry-after"] == "5"
    assert [answer.status for answer in down] == [503, 503, 503]
    assert all(answer.headers["content-type"] == "application/json" for answer in down)
    assert alive.status == 200
    assert first_503 < 3 and slowest < 3
    assert recovered < 5
    assert sorted(stored) == sorted(answered_201)  # nothing lost, nothing doubled
