"""While PostgreSQL is down the API answers a quick JSON 503; when it is back, requests succeed again.

The test runs a throwaway PostgreSQL cluster of its own (never the shared one), serves the app
from it with gunicorn, and stops and restarts that cluster while a client keeps creating tasks.
"""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.live import ROOT, call, free_port, new_user_token, start_app

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def run_as_postgres() -> list[str] | None:
    """The prefix that runs a command as the `postgres` OS user (initdb refuses root), if any."""
    if os.geteuid() != 0:
        return [] if pwd.getpwuid(os.geteuid()).pw_name == "postgres" else None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return ["runuser", "-u", "postgres", "--"]


pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="runs once, in the PostgreSQL run of the suite"),
    pytest.mark.skipif(not (PG_BIN / "pg_ctl").exists(), reason=f"needs PostgreSQL 15's binaries in {PG_BIN}"),
    pytest.mark.skipif(run_as_postgres() is None, reason="needs root or the postgres OS user to run initdb"),
]


class Cluster:
    """A PostgreSQL cluster in a temporary folder, on its own loopback port."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="outage-"))
        shutil.chown(self.folder, user="postgres")
        self.data, self.port = self.folder / "data", free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/app"
        self.pg(["initdb", "--no-sync", "-A", "trust", "-U", "postgres", "-D", str(self.data)])

    def pg(self, command: list[str]) -> None:
        full = [*run_as_postgres(), str(PG_BIN / command[0]), *command[1:]]
        subprocess.run(full, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
        self.pg(["pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"])

    def crash(self) -> None:
        """Stops it the hard way, as a lost server would: no goodbye to the clients."""
        self.pg(["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"])

    def remove(self) -> None:
        subprocess.run(
            [*run_as_postgres(), str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def cluster():
    cluster = Cluster()
    try:
        cluster.start()
        with psycopg.connect(f"postgres://postgres@127.0.0.1:{cluster.port}/postgres", autocommit=True) as admin:
            admin.execute("CREATE DATABASE app")
        env = {**os.environ, "DATABASE_URL": cluster.url, "DJANGO_DEBUG": "true"}
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
        yield cluster
    finally:
        cluster.remove()


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
