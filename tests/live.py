"""The app as production runs it (gunicorn, the repository's config) on loopback, and a small HTTP client."""

import http.client
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass

from tests.auth import ORIGIN, SECRET, claims_for, sign
from tests.test_gunicorn import ROOT, Gunicorn, accepts_connections, free_port, wait_for

# Variables of the environment running the suite that must not leak into the app under test.
NOT_INHERITED = ("DATABASE_", "REDIS_URL", "THROTTLE_", "BETTER_AUTH_", "API_MAX_BODY_BYTES", "NUM_PROXIES")


def start_app(*, database_url: str, workers: int = 2, threads: int = 4, **env: str) -> Gunicorn:
    """gunicorn serving the API on a free loopback port; stop() it when done."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(NOT_INHERITED)}
    environment.update(
        DATABASE_URL=database_url,
        BETTER_AUTH_SECRET=SECRET,
        BETTER_AUTH_URL=ORIGIN,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="false",
        WEB_CONCURRENCY=str(workers),
        GUNICORN_THREADS=str(threads),
        LOG_LEVEL="WARNING",
        **env,
    )
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        [*command, "todo_project.wsgi"], cwd=ROOT, env=environment, stderr=subprocess.PIPE, text=True
    )
    server = Gunicorn(process, port)
    try:
        wait_for(lambda: process.poll() is not None or accepts_connections(port))
        assert process.poll() is None, "".join(server.log)
    except BaseException:
        server.stop()
        raise
    return server


def new_user_token() -> tuple[str, str]:
    """A user id no other run has used (the live servers share Redis) and a token for it."""
    user_id = uuid.uuid4().hex
    return user_id, sign(claims_for(user_id))


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: object
    raw: bytes


def call(port: int, method: str, path: str, *, token: str | None = None, body=None, headers=None, timeout=10) -> Answer:
    """One request on a fresh connection; the body, when JSON, decoded."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    payload = None
    if body is not None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    try:
        connection.request(method, path, body=payload, headers=sent)
        response = connection.getresponse()
        raw = response.read()
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()
    decoded = json.loads(raw) if raw and answer_headers.get("content-type", "").startswith("application/json") else None
    return Answer(response.status, answer_headers, decoded, raw)
