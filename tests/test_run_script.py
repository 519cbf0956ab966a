"""scripts/run.sh: writes .env once, then serves through gunicorn as the Procfile does, on $PORT."""

import http.client
import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from tests.live import ROOT, accepts_connections, call, free_port, wait_for

# One worker runs the whole module, so run.sh starts twice per run, not twice per worker.
pytestmark = pytest.mark.xdist_group("run-script")

# Variables of the environment running the suite that would win over the .env under test.
NOT_INHERITED = ("DJANGO_", "BETTER_AUTH_", "DATABASE_", "LOG_", "REDIS_URL", "THROTTLE_", "API_MAX_BODY_BYTES")


class RunScript:
    """scripts/run.sh started in its own process group, its output collected in a file."""

    def __init__(self, directory: Path, port: int):
        self.port, self.output = port, directory / f"run-{port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(NOT_INHERITED)}
        env.update(
            DOTENV_FILE=str(directory / ".env"),
            DATABASE_URL=f"sqlite:///{directory / 'db.sqlite3'}",
            PORT=str(port),
            WEB_CONCURRENCY="1",
        )
        with self.output.open("w") as output:
            self.process = subprocess.Popen(
                ["scripts/run.sh"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self) -> str:
        return self.output.read_text()

    def answers(self) -> bool:
        """Whether a worker answers, not only the listening socket (gunicorn's master binds it first)."""
        if not accepts_connections(self.port):
            return False
        try:
            return call(self.port, "GET", "/healthz").status == 200
        except OSError:
            return False

    def wait_until_serving(self) -> None:
        def serving_or_exited() -> bool:
            return self.process.poll() is not None or self.answers()

        wait_for(serving_or_exited, seconds=90)
        assert self.process.poll() is None, self.log()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory):
    """run.sh started twice on a fresh checkout's state: the first start writes .env, the second
    must keep it; the second one serves the tests."""
    directory = tmp_path_factory.mktemp("run_sh")
    first = RunScript(directory, free_port())
    try:  # the first start only needs to get as far as writing .env
        wait_for(lambda: first.process.poll() is not None or (directory / ".env").exists(), seconds=90)
    finally:
        first.stop()
    dotenv = (directory / ".env").read_text()
    server = RunScript(directory, free_port())
    try:
        server.wait_until_serving()
        yield server, dotenv
    finally:
        server.stop()


def token_from_banner(server: RunScript) -> str:
    return re.search(r"Bearer ([\w.-]+)", server.log()).group(1)


def post_chunked(port: int, path: str, chunks: list[bytes], token: str) -> tuple[int, dict]:
    """A POST whose body is sent with `Transfer-Encoding: chunked` (no Content-Length), as fetch
    does for a streamed body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        connection.request("POST", path, body=iter(chunks), headers=headers, encode_chunked=True)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_it_writes_a_dotenv_with_fresh_development_secrets_and_keeps_it(dev_server):
    server, written_first = dev_server
    dotenv = server.output.with_name(".env")
    values = dict(re.findall(r"^(DJANGO_DEBUG|DJANGO_SECRET_KEY|BETTER_AUTH_SECRET)=(\S*)", written_first, re.M))
    assert values["DJANGO_DEBUG"] == "true"
    assert len(values["DJANGO_SECRET_KEY"]) >= 50 and len(values["BETTER_AUTH_SECRET"]) >= 50
    assert values["DJANGO_SECRET_KEY"] != values["BETTER_AUTH_SECRET"]
    assert values["BETTER_AUTH_SECRET"] not in (ROOT / ".env.example").read_text()
    assert dotenv.read_text() == written_first  # the second start kept it
    assert dotenv.stat().st_mode & 0o077 == 0  # secrets: the owner's only


def test_it_serves_through_gunicorn_with_reload_on_the_given_port(dev_server):
    server, _ = dev_server
    log = server.log()
    assert f"Listening at: http://127.0.0.1:{server.port}" in log
    assert "Reloader is on" in log


def test_a_chunked_post_creates_the_task_and_is_logged_once(dev_server):
    server, _ = dev_server
    status, body = post_chunked(server.port, "/api/tasks", [b'{"title"', b': "x"}'], token_from_banner(server))
    assert (status, body["title"]) == (201, "x")
    wait_for(lambda: "POST task-list 201" in server.log(), seconds=10)
    assert server.log().count("POST task-list 201") == 1


def test_a_chunked_body_over_the_limit_is_a_413(dev_server):
    server, _ = dev_server
    chunks = [b'{"title": "x", "description": "', *[b"a" * 10_000] * 7, b'"}']
    status, body = post_chunked(server.port, "/api/tasks", chunks, token_from_banner(server))
    assert (status, body["code"]) == (413, "request_too_large")
