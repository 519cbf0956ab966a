"""gunicorn settings for the `web` process (Procfile). Every number can be changed by environment.

Defaults suit a 2-core instance: 2 gevent worker processes, each serving its connections in
greenlets, so a client that sends its request slowly holds a greenlet rather than one of a few
threads (todo_project/gunicorn_worker.py). A worker runs Python on one core at a time and
switches to another request while one waits on PostgreSQL, Redis or a client. Database
connections come from a pool per worker (DATABASE_POOL_MAX_SIZE), so an instance holds at most
workers x that many of them however many requests are waiting.
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "todo_project.gunicorn_worker.GeventWorker"

# A worker that has not come back to its event loop for this long (a request computing without
# pause) is killed and replaced, with the requests it was serving.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Only the web process (the release phase's `migrate` may run long and needs no pool):
raw_env = [
    # Requests' queries get half the worker timeout, so a runaway query fails as a logged
    # error instead of holding a pooled connection.
    f"DATABASE_STATEMENT_TIMEOUT_MS={os.environ.get('DATABASE_STATEMENT_TIMEOUT_MS', timeout * 500)}",
    # Each worker borrows connections from a pool of at most this many, one per request that
    # is using the database at that moment, returned when the request ends (settings.py).
    # Python runs one request at a time per worker; a few connections keep it busy while
    # others wait on PostgreSQL.
    f"DATABASE_POOL_MAX_SIZE={os.environ.get('DATABASE_POOL_MAX_SIZE', '4')}",
]


def post_worker_init(worker):
    """Each new worker (at start, on SIGHUP, after a max_requests recycle) opens its database
    connections before it accepts a request, so its first burst finds them ready."""
    from core.db import open_pool

    open_pool(seconds=5)


# On SIGTERM (a deploy, a scale-down) workers stop accepting and finish in-flight requests for
# up to this long. Platforms send SIGKILL about 30 s after SIGTERM, so stay below that.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
# An idle keep-alive connection (and a new one that has not sent its request yet) stays open
# this long. Longer than the usual proxy and load-balancer idle timeouts (60 s), so the server
# never closes a connection the proxy is about to reuse (that race answers a 502), and a browser
# that waits a few seconds between requests keeps its connection (bench/README.md, "Many
# connections, slow clients and fair database turns"). It also bounds
# how long a request's line and headers may take to arrive; then the connection is dropped.
# A waiting connection costs a greenlet; a graceful stop closes them after 2 s.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
# Open connections a worker holds, idle keep-alive ones included (one greenlet each). At the
# limit a worker stops accepting until one closes: 2,000 per worker lets one 2-worker instance hold 2,000 browsers even
# when the kernel hands most of them to one worker. An idle connection costs a few KB.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "2000"))

# Recycle workers now and then so a slow leak cannot grow for ever; the jitter keeps them
# from all restarting at once. A recycle closes the worker's keep-alive connections (a client
# sending on one as it closes sees an error) and starts a process with cold caches, so it must
# be rare: a worker lives minutes under heavy load, hours under light load. The soak
# (bench/README.md, "Targets", memory) shows RSS flat.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = max_requests // 10

# The app writes one JSON line per request (core.logs); gunicorn's would duplicate it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# The platform manages the process with signals; no control socket is needed in the container.
control_socket_disable = True
