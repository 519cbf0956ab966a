"""The app as production runs it (gunicorn, the repository's config) on loopback, and a small HTTP client."""

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.auth import ORIGIN, SECRET, claims_for, sign

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {condition.__name__}")
        time.sleep(0.05)


def accepts_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class Gunicorn:
    """A running gunicorn whose stderr is collected line by line as it comes."""

    def __init__(self, process: subprocess.Popen, port: int):
        self.process, self.port, self.log = process, port, []
        self._reader = threading.Thread(target=lambda: self.log.extend(process.stderr), daemon=True)
        self._reader.start()

    def logged(self, text: str) -> bool:
        return any(text in line for line in self.log)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=20)
        self._reader.join(timeout=20)


def start_gunicorn(app: str, env: dict[str, str]) -> Gunicorn:
    """gunicorn with the repository's config serving `app` on a free loopback port, once it accepts connections."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", app]
    server = Gunicorn(subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True), port)
    try:
        wait_for(lambda: server.process.poll() is not None or accepts_connections(port))
        assert server.process.poll() is None, "".join(server.log)
    except BaseException:
        server.stop()
        raise
    return server


# Variables of the environment running the suite that must not leak into the app under test.
NOT_INHERITED = ("DATABASE_", "REDIS_URL", "THROTTLE_", "BETTER_AUTH_", "API_MAX_BODY_BYTES", "NUM_PROXIES", "CORS_")


def start_app(*, database_url: str, workers: int = 2, threads: int = 4, **env: str) -> Gunicorn:
    """gunicorn serving the API on a free loopback port; stop() it when done."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(NOT_INHERITED)}
    environment.update(
        DATABASE_URL=database_url,
        BETTER_AUTH_SECRET=SECRET,
        BETTER_AUTH_URL=ORIGIN,
        CORS_ALLOWED_ORIGINS=ORIGIN,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="false",
        WEB_CONCURRENCY=str(workers),
        GUNICORN_THREADS=str(threads),
        LOG_LEVEL="WARNING",
        **env,
    )
    return start_gunicorn("todo_project.wsgi", environment)


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
