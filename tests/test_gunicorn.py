"""gunicorn with the repository's config serves the app and finishes in-flight requests on SIGTERM."""

import http.client
import json
import os
import runpy
import signal
import socket
import threading
import time
import urllib.request

import pytest

from tests.live import ROOT, start_gunicorn, wait_for


@pytest.fixture
def gunicorn(tmp_path):
    """gunicorn started as the Procfile starts it, on a free loopback port."""
    env = {
        **os.environ,
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "SLOW_SIGNALS_DIR": str(tmp_path),
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "LOG_FORMAT": "json",
    }
    server = start_gunicorn("tests.slow_wsgi:application", env)
    try:
        yield server
    finally:
        server.stop()


def get(port: int, path: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=20) as response:
        return response.status, response.read()


def test_it_serves_the_app_and_logs_json_without_an_access_log(gunicorn):
    assert get(gunicorn.port, "/healthz") == (200, b'{"status":"ok"}')
    gunicorn.process.terminate()
    assert gunicorn.process.wait(timeout=20) == 0
    gunicorn.stop()
    lines = [json.loads(line) for line in gunicorn.log if line.startswith("{")]
    assert [(line["route"], line["status"]) for line in lines if "route" in line] == [("healthz", 200)]
    assert not gunicorn.logged('"GET /healthz')  # gunicorn's access log format


def test_an_idle_keep_alive_connection_is_still_open_seconds_later(gunicorn):
    """A client waiting between requests (a browser, a proxy's pool) keeps its connection: a
    closed one costs it a reconnect, or an error when its request crosses the close."""
    connection = http.client.HTTPConnection("127.0.0.1", gunicorn.port, timeout=20)
    connection.request("GET", "/healthz")
    assert connection.getresponse().read() == b'{"status":"ok"}'
    socket_before = connection.sock
    time.sleep(6)  # longer than gunicorn's default keep-alive of 5 s
    connection.request("GET", "/healthz")
    assert connection.getresponse().status == 200
    assert connection.sock is socket_before  # the same connection, not a reconnect
    connection.close()


def silent_connections(port: int, count: int) -> list[socket.socket]:
    """Connections that are open and send nothing (a browser's preconnect, a slow client)."""
    return [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(count)]


def test_silent_connections_do_not_hold_up_other_requests(gunicorn):
    # More silent connections than the worker has threads; gunicorn's own gthread worker gives
    # each a thread for up to 5 s, so this request would wait for them.
    idle = silent_connections(gunicorn.port, 4)
    started = time.monotonic()
    assert get(gunicorn.port, "/healthz") == (200, b'{"status":"ok"}')
    assert time.monotonic() - started < 2.5
    # A silent connection that speaks up later is served like any other.
    idle[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert idle[0].recv(4096).startswith(b"HTTP/1.1 200 OK")
    for connection in idle:
        connection.close()


def test_sigterm_does_not_wait_for_silent_connections(gunicorn):
    idle = silent_connections(gunicorn.port, 2)
    assert get(gunicorn.port, "/healthz")[0] == 200  # the worker has taken them in by now
    started = time.monotonic()
    gunicorn.process.terminate()
    assert gunicorn.process.wait(timeout=20) == 0
    assert time.monotonic() - started < 10  # not the keep-alive timeout, nor the graceful one (25 s)
    for connection in idle:
        connection.close()


def test_sigterm_finishes_the_in_flight_request_then_exits(gunicorn, tmp_path):
    result = {}
    slow = threading.Thread(target=lambda: result.update(answer=get(gunicorn.port, "/slow")))
    slow.start()
    wait_for(lambda: (tmp_path / "started").exists())

    gunicorn.process.send_signal(signal.SIGTERM)
    wait_for(lambda: gunicorn.logged("Handling signal: term"))  # shutting down...
    (tmp_path / "release").touch()  # ...and only now does the in-flight request finish

    slow.join(timeout=20)
    assert result["answer"] == (200, b"finished")
    assert gunicorn.process.wait(timeout=20) == 0


def test_the_config_binds_port_and_sizes_for_two_cores(monkeypatch):
    for name in ["WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_TIMEOUT", "GUNICORN_GRACEFUL_TIMEOUT", "DATABASE_STATEMENT_TIMEOUT_MS"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORT", "5123")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["bind"] == "0.0.0.0:5123"
    assert (config["workers"], config["threads"]) == (2, 2)
    assert config["worker_class"] == "todo_project.gunicorn_worker.ThreadWorker"
    assert config["graceful_timeout"] < 30 <= config["timeout"]
    assert config["accesslog"] is None
    assert config["raw_env"] == ["DATABASE_STATEMENT_TIMEOUT_MS=15000"]  # half the worker timeout


def test_the_config_holds_2000_keep_alive_connections_and_recycles_workers_rarely(monkeypatch):
    for name in ["GUNICORN_THREADS", "GUNICORN_WORKER_CONNECTIONS", "GUNICORN_MAX_REQUESTS"]:
        monkeypatch.delenv(name, raising=False)
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    # Even when the kernel hands every connection to one worker.
    assert config["worker_connections"] >= 2000
    assert config["max_requests"] >= 20000 and 0 < config["max_requests_jitter"] < config["max_requests"]


def test_the_procfile_migrates_on_release_and_serves_with_the_config():
    procfile = (ROOT / "Procfile").read_text().splitlines()
    assert "release: python manage.py migrate --noinput" in procfile
    assert "web: gunicorn todo_project.wsgi --config gunicorn.conf.py" in procfile
