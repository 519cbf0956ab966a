"""A database that hangs instead of refusing, pooled connections dropped while idle, and new
workers: gunicorn and a throwaway PostgreSQL cluster (never the shared one), locked, frozen
(SIGSTOP) and cut off mid-load.

- Under a lock, /healthz answers at once, /readyz answers 503 within its deadline, and every
  request gets an answer within its deadlines (503 once its statement or its turn times out).
- Frozen, requests answer 503 within the pool's deadline and the query deadline, not never.
- Pooled connections closed by the server while idle cost no request an error.
- A SIGHUP under a steady load (new workers) answers no request with an error.
"""

import concurrent.futures
import os
import signal
import subprocess
import threading
import time

import pytest

from tests.live import call, new_user_token, start_app, wait_for
from tests.pgcluster import migrated_cluster, pytestmark  # noqa: F401 (the skips)

# Short deadlines, so the test takes seconds; production's are longer (settings.py).
DEADLINES = {
    "DATABASE_STATEMENT_TIMEOUT_MS": "2000",
    "DATABASE_QUERY_TIMEOUT": "3",
    "DATABASE_TURN_TIMEOUT": "3",
    "DATABASE_READY_TIMEOUT": "1",
    "THROTTLE_READ_RATE": "100000/min",
    "THROTTLE_WRITE_RATE": "100000/min",
}


@pytest.fixture(scope="module")
def cluster():
    with migrated_cluster() as cluster:
        yield cluster


@pytest.fixture
def app(cluster):
    app = start_app(database_url=cluster.url, workers=1, **DEADLINES)
    try:
        yield app
    finally:
        app.stop()


def timed(port: int, path: str, token: str | None = None, method: str = "GET", body=None):
    started = time.monotonic()
    answer = call(port, method, path, token=token, body=body, timeout=30)
    return time.monotonic() - started, answer


def assert_database_unavailable(answer) -> None:
    assert answer.status == 503, (answer.status, answer.body)
    # A statement the server cancelled has a code of its own and invites no retry; every other
    # deadline is an outage the client may retry after Retry-After.
    if answer.body["code"] == "query_timeout":
        assert "retry-after" not in answer.headers
    else:
        assert answer.body["code"] == "database_unavailable"
        assert answer.headers["retry-after"] == "5"


def test_a_locked_table_answers_liveness_at_once_readiness_503_and_requests_in_bounded_time(cluster, app):
    _, token = new_user_token()
    assert call(app.port, "POST", "/api/tasks", token=token, body={"title": "before"}, timeout=60).status == 201
    pool = concurrent.futures.ThreadPoolExecutor(8)
    with cluster.admin() as admin, admin.transaction():
        admin.execute("LOCK TABLE tasks_task IN ACCESS EXCLUSIVE MODE")
        locked_at = time.monotonic()
        # More requests than the worker's 4 turns: they hold every turn, and 4 more wait.
        lists = [pool.submit(timed, app.port, "/api/tasks", token) for _ in range(8)]
        time.sleep(0.5)
        health = timed(app.port, "/healthz")
        ready = timed(app.port, "/readyz")
        answers = [future.result() for future in lists]
        held = time.monotonic() - locked_at
    after = call(app.port, "GET", "/api/tasks", token=token)
    pool.shutdown()

    print(
        f"\nlocked table: /healthz {health[0]:.2f}s, /readyz {ready[1].status} in {ready[0]:.2f}s, "
        f"lists: first 503 {min(t for t, _ in answers):.2f}s, slowest {max(t for t, _ in answers):.2f}s "
        f"(lock held {held:.1f}s)"
    )
    assert health[1].status == 200 and health[0] < 0.5
    assert_database_unavailable(ready[1])
    assert ready[0] < 1.5
    for took, answer in answers:
        assert_database_unavailable(answer)
        # At most the statement timeout, or a wait for a turn behind requests that took that long.
        assert took < 2 + 3 + 1
    assert after.status == 200


def test_a_frozen_database_answers_503_in_bounded_time_and_recovers(cluster, app):
    _, token = new_user_token()
    assert call(app.port, "POST", "/api/tasks", token=token, body={"title": "before"}, timeout=60).status == 201
    try:
        cluster.freeze()
        pool = concurrent.futures.ThreadPoolExecutor(6)
        writes = [pool.submit(timed, app.port, "/api/tasks", token, "POST", {"title": "frozen"}) for _ in range(3)]
        reads = [pool.submit(timed, app.port, "/api/tasks", token) for _ in range(3)]
        health = timed(app.port, "/healthz")
        ready = timed(app.port, "/readyz")
        answers = [future.result() for future in writes + reads]
        pool.shutdown()
    finally:
        cluster.thaw()
    wait_for(lambda: call(app.port, "GET", "/readyz").status == 200, seconds=15)
    back = call(app.port, "GET", "/api/tasks", token=token)

    print(
        f"\nfrozen database: first 503 {min(t for t, _ in answers):.2f}s, slowest {max(t for t, _ in answers):.2f}s, "
        f"/healthz {health[0]:.2f}s, /readyz {ready[1].status} in {ready[0]:.2f}s"
    )
    assert health[1].status == 200 and health[0] < 0.5
    assert_database_unavailable(ready[1])
    for took, answer in answers:
        assert_database_unavailable(answer)
        assert took < 3 + 3 + 1  # the query deadline, after a wait for a turn at most as long
    assert back.status == 200


def test_a_query_in_flight_when_the_database_freezes_ends_at_the_query_deadline(cluster, app):
    _, token = new_user_token()
    assert call(app.port, "GET", "/api/tasks", token=token, timeout=60).status == 200
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        with cluster.admin() as admin, admin.transaction():
            # The list waits on the lock: its query is in flight when the server freezes.
            admin.execute("LOCK TABLE tasks_task IN ACCESS EXCLUSIVE MODE")
            listing = pool.submit(timed, app.port, "/api/tasks", token)
            time.sleep(0.5)
            cluster.freeze()
            took, answer = listing.result()
            cluster.thaw()
    finally:
        cluster.thaw()
        pool.shutdown()
    print(f"\nfrozen mid-query: 503 after {took:.2f}s")
    assert_database_unavailable(answer)
    assert took < 3 + 1
    wait_for(lambda: call(app.port, "GET", "/api/tasks", token=token).status == 200, seconds=15)


def test_pooled_connections_closed_while_idle_fail_no_request(cluster):
    app = start_app(database_url=cluster.url, workers=2, **DEADLINES)
    _, token = new_user_token()
    try:
        wait_for(lambda: len(backends(cluster)) == 2 * 4, seconds=60)  # both workers' pools are open
        with cluster.admin() as admin:
            terminated = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = 'app' AND pid <> pg_backend_pid()"
            ).fetchone()[0]
        statuses = [call(app.port, "GET", "/api/tasks", token=token).status for _ in range(8)]
    finally:
        app.stop()
    print(f"\ndropped connections: {terminated} backends terminated, then {statuses}")
    assert terminated >= 8  # both workers' pools were open
    assert statuses == [200] * 8


def backends(cluster) -> set[int]:
    """The app's connections the cluster holds (the admin's own left out)."""
    with cluster.admin() as admin:
        query = "SELECT pid FROM pg_stat_activity WHERE datname = 'app' AND pid <> pg_backend_pid()"
        return {pid for (pid,) in admin.execute(query)}


def test_each_new_worker_opens_its_connections_before_its_first_request(cluster):
    app = start_app(database_url=cluster.url, workers=2, **DEADLINES)
    try:
        wait_for(lambda: len(backends(cluster)) == 2 * 4, seconds=60)  # no request sent yet
        first = backends(cluster)
        os.kill(app.process.pid, signal.SIGHUP)  # a reload: new workers, the old ones leave
        wait_for(lambda: len(backends(cluster) - first) == 2 * 4, seconds=60)
    finally:
        app.stop()


def test_behind_a_pooler_each_worker_checks_the_roles_statement_timeout_at_start(cluster):
    # DATABASE_POOLED: no startup option, as behind PgBouncer; the role's setting is what counts.
    pooled = {**DEADLINES, "DATABASE_POOLED": "true"}
    app = start_app(database_url=cluster.url, workers=1, **pooled)
    try:
        wait_for(lambda: app.logged("statement_timeout is 0 ms, not 2000 ms"), seconds=60)
    finally:
        app.stop()
    with cluster.admin() as admin:
        admin.execute("ALTER ROLE postgres SET statement_timeout = '2s'")
    try:
        app = start_app(database_url=cluster.url, workers=1, **pooled)
        try:
            wait_for(lambda: len(backends(cluster)) == 4, seconds=60)  # the pool is open: the check ran
            assert call(app.port, "GET", "/readyz").status == 200
        finally:
            app.stop()
        assert not app.logged("statement_timeout is")
    finally:
        with cluster.admin() as admin:
            admin.execute("ALTER ROLE postgres RESET statement_timeout")


def workers(app) -> list[str]:
    return subprocess.run(["pgrep", "-P", str(app.process.pid)], capture_output=True, text=True).stdout.split()


def test_a_reload_under_load_answers_every_request(cluster):
    # The web process's own deadlines: a 3 s turn is too short for a busy machine under load.
    app = start_app(database_url=cluster.url, workers=2, THROTTLE_READ_RATE="100000/min")
    _, token = new_user_token()
    statuses, errors, stop = [], [], threading.Event()

    def keep_listing():
        while not stop.is_set():
            try:
                statuses.append(call(app.port, "GET", "/api/tasks", token=token).status)
            except OSError as error:
                errors.append(repr(error))

    clients = [threading.Thread(target=keep_listing) for _ in range(16)]
    try:
        wait_for(lambda: len(backends(cluster)) == 2 * 4, seconds=60)  # both workers serve
        for client in clients:
            client.start()
        time.sleep(1)
        before = len(statuses)
        workers_before = workers(app)
        os.kill(app.process.pid, signal.SIGHUP)

        def every_worker_replaced() -> bool:
            now = workers(app)
            return len(now) == 2 and not set(workers_before) & set(now)

        # The new workers start and take over; the old ones finish and leave (slower on a busy machine).
        wait_for(every_worker_replaced, seconds=60)
        time.sleep(1)  # the load goes on against the new workers alone
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=30)
        app.stop()
    not_ok = [status for status in statuses if not 200 <= status < 300]
    print(f"\nSIGHUP under load: {len(statuses)} requests ({before} before it), non-2xx {not_ok}, errors {errors}")
    assert not_ok == [] and errors == []
