"""gunicorn's gevent worker, closing connections that wait for a request as soon as it stops.

A gevent worker serves each connection in a greenlet, so a client that sends its request
slowly (a header line every few seconds, a chunked body a byte at a time) holds a few KB of
memory, not one of a handful of threads: other clients are served meanwhile. gunicorn bounds
the wait for a request line and headers with `keepalive`; the body's bound is the body-size
middleware's (core/middleware.py).

On SIGTERM gunicorn's gevent worker waits for every open connection, idle keep-alive ones
included, for up to `graceful_timeout`. This one gives a request that may already be on its
way a short grace, then closes the connections still waiting for one, as gunicorn's threaded
worker does; requests in flight finish as before. tests/test_gunicorn.py checks both against a
live server.

What gunicorn refuses itself, before the app sees a request (a request line over 4 KB: 414,
over 100 headers: 431, a malformed line or header: 400), it answers in the API's JSON error
shape too, not with its HTML page.
"""

import json
from contextlib import contextmanager

import gevent
from gunicorn import util
from gunicorn.workers import ggevent

# How long a stopping worker still takes a request on a connection that was idle (gunicorn's
# threaded worker keeps such connections 2 s too).
STOP_LINGER_SECONDS = 2.0


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's `util.write_error`, writing the API's error shape: the code is the reason's
    words ("URI Too Long": `uri_too_long`), and gunicorn's detail is left out as the app's
    500s leave theirs."""
    code = "server_error" if status_int == 500 else "_".join(reason.lower().split())
    body = json.dumps({"code": code, "message": f"{reason}."}, separators=(",", ":")).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


# The worker's handle_error looks the function up in gunicorn.util each time.
util.write_error = write_json_error


class GeventWorker(ggevent.GeventWorker):
    def init_process(self):
        self.waiting_for_request = {}  # greenlet -> the Timeout bounding its wait
        super().init_process()

    @contextmanager
    def timeout_ctx(self):
        # gunicorn wraps the read of each request's line and headers in this context.
        timeout = gevent.Timeout(self.cfg.keepalive, False)
        greenlet = gevent.getcurrent()
        self.waiting_for_request[greenlet] = timeout
        try:
            with timeout:
                yield
        finally:
            del self.waiting_for_request[greenlet]

    def handle_exit(self, sig, frame):
        super().handle_exit(sig, frame)
        gevent.spawn_later(STOP_LINGER_SECONDS, self.close_waiting_connections)

    def close_waiting_connections(self):
        # Raising a greenlet's own Timeout ends its wait as if it had expired: the connection
        # closes quietly, with no error answer.
        for greenlet, timeout in list(self.waiting_for_request.items()):
            greenlet.kill(timeout, block=False)
