"""A Redis that does not answer (frozen with SIGSTOP) costs a request at most the second the
settings give each cache operation, and throttles let the request through.

The test runs a throwaway redis-server on its own port (never the shared one) under gunicorn.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
from django.db import connection

from tests.live import accepts_connections, call, free_port, new_user_token, start_app, wait_for
from tests.test_live_instances import database_url

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="runs once, in the PostgreSQL run of the suite"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def redis_port():
    port, folder = free_port(), tempfile.mkdtemp(prefix="redis-")
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: accepts_connections(port))
        yield port, server
    finally:
        os.kill(server.pid, signal.SIGCONT)
        server.kill()
        server.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_frozen_redis_costs_a_request_a_second_at_most(redis_port):
    port, server = redis_port
    app = start_app(database_url=database_url(), workers=1, REDIS_URL=f"redis://127.0.0.1:{port}/0")
    _, token = new_user_token()
    try:
        assert call(app.port, "GET", "/api/tasks", token=token).status == 200
        os.kill(server.pid, signal.SIGSTOP)
        timings = []
        for method, body in (("GET", None), ("GET", None), ("POST", {"title": "while Redis is frozen"})):
            started = time.monotonic()
            answer = call(app.port, method, "/api/tasks", token=token, body=body, timeout=30)
            timings.append((answer.status, time.monotonic() - started))
        os.kill(server.pid, signal.SIGCONT)
    finally:
        app.stop()
    print(f"\nfrozen Redis: {', '.join(f'{status} in {took:.2f}s' for status, took in timings)}")
    assert [status for status, _ in timings] == [200, 200, 201]
    assert all(took < 1.5 for _, took in timings)
