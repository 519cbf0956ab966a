"""gunicorn with the repository's config serves the app and finishes in-flight requests on SIGTERM."""

import http.client
import json
import os
import runpy
import select
import signal
import socket
import threading
import time
import urllib.request
import uuid

import pytest

from tests.live import ROOT, start_gunicorn, wait_for


def serve(tmp_path, **env):
    """gunicorn started as the Procfile starts it (one worker), on a free loopback port."""
    environment = {
        **os.environ,
        "WEB_CONCURRENCY": "1",
        "SLOW_SIGNALS_DIR": str(tmp_path),
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "LOG_FORMAT": "json",
        **env,
    }
    server = start_gunicorn("tests.slow_wsgi:application", environment)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gunicorn(tmp_path):
    yield from serve(tmp_path)


@pytest.fixture
def gunicorn_with_short_bounds(tmp_path):
    """Headers must arrive within 2 s (the keep-alive timeout), a body within 2 s of them."""
    for server in serve(tmp_path, GUNICORN_KEEPALIVE="2", API_BODY_TIMEOUT_SECONDS="2"):
        get(server.port, "/healthz")  # the worker has loaded the app: timings start now
        yield server


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
    # More silent connections than a threaded worker has threads (gunicorn's gthread gives each
    # a thread for up to 5 s, so this request would wait for them).
    get(gunicorn.port, "/healthz")  # the worker has loaded the app: timings start now
    idle = silent_connections(gunicorn.port, 4)
    started = time.monotonic()
    assert get(gunicorn.port, "/healthz") == (200, b'{"status":"ok"}')
    assert time.monotonic() - started < 2.5
    # A silent connection that speaks up later is served like any other.
    idle[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert idle[0].recv(4096).startswith(b"HTTP/1.1 200 OK")
    for connection in idle:
        connection.close()


HEADERS_TRICKLE = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-Slow: 1\r\n")
CHUNKED_BODY_TRICKLE = (
    b"POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n",
    b"1\r\n \r\n",
)
LENGTH_BODY_TRICKLE = (
    b"POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
    b" ",
)


class SlowSender(threading.Thread):
    """A client sending its request a piece at a time, every `every` seconds, until the server
    drops it or the test ends (the slow-client attack, with no token)."""

    def __init__(self, port: int, trickle: tuple[bytes, bytes], every: float = 0.5):
        super().__init__(daemon=True)
        self.port, (self.opening, self.piece), self.every = port, trickle, every
        self.done = threading.Event()
        self.answer = b""
        self.opened_at = self.dropped_at = None

    def run(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=20) as connection:
            connection.sendall(self.opening)
            self.opened_at = time.monotonic()
            while not self.done.wait(self.every):
                try:
                    if select.select([connection], [], [], 0)[0]:
                        received = connection.recv(65536)
                        self.answer += received
                        if not received:
                            break
                    connection.sendall(self.piece)
                except OSError:
                    break
            else:
                return
            self.dropped_at = time.monotonic()

    def stop(self):
        self.done.set()
        self.join(timeout=20)


def slow_senders(port: int, *trickles: tuple[bytes, bytes], count: int) -> list[SlowSender]:
    senders = [SlowSender(port, trickle) for trickle in trickles for _ in range(count)]
    for sender in senders:
        sender.start()
    return senders


def timed_get(port: int, path: str) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        assert response.status == 200
    return time.monotonic() - started


def test_slow_senders_do_not_delay_other_requests(gunicorn):
    get(gunicorn.port, "/healthz")  # the worker has loaded the app: timings start now
    senders = slow_senders(gunicorn.port, HEADERS_TRICKLE, CHUNKED_BODY_TRICKLE, count=4)
    time.sleep(1)  # every sender has sent a piece or two by now, and is still sending
    delays = [timed_get(gunicorn.port, "/healthz") for _ in range(5)]
    still_sending = [sender.is_alive() for sender in senders]
    for sender in senders:
        sender.stop()
    assert max(delays) < 1, delays
    assert all(still_sending)  # the delays were measured while all eight were trickling


def test_a_request_whose_headers_do_not_arrive_in_time_is_dropped(gunicorn_with_short_bounds):
    [sender] = slow_senders(gunicorn_with_short_bounds.port, HEADERS_TRICKLE, count=1)
    sender.join(timeout=10)
    assert sender.dropped_at is not None
    assert 1.5 < sender.dropped_at - sender.opened_at < 4
    assert sender.answer == b""  # dropped, not answered: the request never arrived


@pytest.mark.parametrize("trickle", [CHUNKED_BODY_TRICKLE, LENGTH_BODY_TRICKLE], ids=["chunked", "content-length"])
def test_a_request_whose_body_does_not_arrive_in_time_gets_a_408_and_is_dropped(gunicorn_with_short_bounds, trickle):
    [sender] = slow_senders(gunicorn_with_short_bounds.port, trickle, count=1)
    sender.join(timeout=10)
    assert sender.dropped_at is not None
    assert 1.5 < sender.dropped_at - sender.opened_at < 4
    assert sender.answer.startswith(b"HTTP/1.1 408 ")
    body = sender.answer[sender.answer.index(b"{") : sender.answer.rindex(b"}") + 1]  # one chunk
    assert json.loads(body)["code"] == "request_timeout"


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
    for name in [
        "WEB_CONCURRENCY",
        "GUNICORN_TIMEOUT",
        "GUNICORN_GRACEFUL_TIMEOUT",
        "DATABASE_STATEMENT_TIMEOUT_MS",
        "DATABASE_POOL_MAX_SIZE",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORT", "5123")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["bind"] == "0.0.0.0:5123"
    assert config["workers"] == 2
    assert config["worker_class"] == "todo_project.gunicorn_worker.GeventWorker"
    assert config["graceful_timeout"] < 30 <= config["timeout"]
    assert config["accesslog"] is None
    # Half the worker timeout; a pool of 4 database connections per worker.
    assert config["raw_env"] == ["DATABASE_STATEMENT_TIMEOUT_MS=15000", "DATABASE_POOL_MAX_SIZE=4"]


def test_the_config_holds_2000_keep_alive_connections_and_recycles_workers_rarely(monkeypatch):
    for name in ["GUNICORN_WORKER_CONNECTIONS", "GUNICORN_MAX_REQUESTS"]:
        monkeypatch.delenv(name, raising=False)
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    # Even when the kernel hands every connection to one worker.
    assert config["worker_connections"] >= 2000
    assert config["max_requests"] >= 20000 and 0 < config["max_requests_jitter"] < config["max_requests"]


def test_the_procfile_migrates_on_release_and_serves_with_the_config():
    procfile = (ROOT / "Procfile").read_text().splitlines()
    assert "release: python manage.py migrate --noinput" in procfile
    assert "web: gunicorn todo_project.wsgi --config gunicorn.conf.py" in procfile


@pytest.mark.django_db(transaction=True)
def test_many_requests_at_once_share_a_bounded_pool_of_database_connections():
    from concurrent.futures import ThreadPoolExecutor

    import psycopg
    from django.db import connection

    from tests.live import call, new_user_token, start_app

    if connection.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's")
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}?application_name=pool-test"
    # No turn deadline here: a busy machine may keep the last of 200 waiting past the default 10 s.
    app = start_app(database_url=url, workers=1, THROTTLE_READ_RATE="100000/min", DATABASE_TURN_TIMEOUT="120")
    _, token = new_user_token()
    seen, done = [], threading.Event()

    def count_connections():
        with psycopg.connect(
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/postgres", autocommit=True
        ) as admin:
            while not done.is_set():
                seen.append(
                    admin.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pool-test'"
                    ).fetchone()[0]
                )
                time.sleep(0.02)

    counter = threading.Thread(target=count_connections)
    counter.start()
    try:
        with ThreadPoolExecutor(40) as clients:
            statuses = list(
                clients.map(lambda _: call(app.port, "GET", "/api/tasks", token=token, timeout=30).status, range(200))
            )
    finally:
        done.set()
        counter.join(timeout=20)
        app.stop()
    assert statuses == [200] * 200
    assert 0 < max(seen) <= 4  # DATABASE_POOL_MAX_SIZE for the one worker, with 40 requests in flight


@pytest.fixture
def gunicorn_with_a_small_anonymous_budget(tmp_path):
    """Three requests a minute per address without a token, counted in Redis; addresses come
    from X-Forwarded-For, so each test spends a budget of its own on the shared Redis."""
    from tests.test_throttling import redis_answers

    if not redis_answers():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    yield from serve(
        tmp_path, THROTTLE_ANON_RATE="3/min", REDIS_URL="redis://127.0.0.1:6379/0", NUM_PROXIES="1", LOG_LEVEL="info"
    )


def raw_exchange(port: int, request: bytes, *, close_after_sending: bool = False) -> bytes:
    """Sends `request` on a new connection and reads until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        if close_after_sending:
            connection.shutdown(socket.SHUT_WR)
        answer = b""
        while received := connection.recv(65536):
            answer += received
    return answer


def chunked(path: str, body: bytes, address: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Forwarded-For: {address}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode() + body


MALFORMED_CHUNKED_BODIES = {
    "bad chunk size": b"zz\r\n{}\r\n0\r\n\r\n",
    "forbidden trailer": b"2\r\n{}\r\n0\r\nContent-Length: 5\r\n\r\n",
    "closed mid-body": b"10\r\n{}",
}


@pytest.mark.parametrize("body", MALFORMED_CHUNKED_BODIES.values(), ids=MALFORMED_CHUNKED_BODIES)
@pytest.mark.parametrize("path", ["/api/tasks", "/healthz"])
def test_a_malformed_chunked_body_is_a_json_400_that_closes_the_connection(
    gunicorn_with_a_small_anonymous_budget, path, body
):
    server = gunicorn_with_a_small_anonymous_budget
    address = f"client-{uuid.uuid4().hex}"  # a budget of its own on the shared Redis
    logged_before = len(server.log)
    # The server closes the connection after its answer (raw_exchange reads until it does).
    answer = raw_exchange(server.port, chunked(path, body, address), close_after_sending=body.endswith(b"{}"))
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer
    assert json.loads(payload[payload.index(b"{") : payload.rindex(b"}") + 1])["code"] == "bad_request"  # one chunk
    wait_for(lambda: len(server.log) > logged_before)
    time.sleep(0.2)  # any traceback would follow its line at once
    new_lines = "".join(server.log[logged_before:])
    assert "Traceback" not in new_lines and '"status": 500' not in new_lines, new_lines


def test_malformed_chunked_bodies_spend_the_anonymous_budget(gunicorn_with_a_small_anonymous_budget):
    address = f"client-{uuid.uuid4().hex}"
    statuses = []
    for _ in range(5):
        answer = raw_exchange(gunicorn_with_a_small_anonymous_budget.port, chunked("/healthz", b"zz\r\n", address))
        statuses.append(int(answer.split(b" ", 2)[1]))
    assert statuses == [400, 400, 400, 429, 429]


@pytest.mark.parametrize(
    "request_bytes, status, code",
    [
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),  # one read
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-A: 1\r\n" * 120 + b"\r\n",
            431,
            "request_header_fields_too_large",
        ),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", 400, "bad_request"),
        (b"NOT A REQUEST\r\n\r\n", 400, "bad_request"),
    ],
    ids=["long URL", "too many headers", "bad header name", "bad request line"],
)
def test_gunicorn_s_own_refusals_are_json(gunicorn, request_bytes, status, code):
    """gunicorn answers these before the app sees a request; the worker (todo_project/
    gunicorn_worker.py) writes them in the API's shape. If an upgrade of gunicorn stops
    calling `gunicorn.util.write_error`, this is what breaks."""
    answer = raw_exchange(gunicorn.port, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), answer[:200]
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body)["code"] == code
