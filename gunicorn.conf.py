"""gunicorn settings for the `web` process (Procfile). Every number can be changed by environment.

Defaults suit a 2-core instance: 2 worker processes with 2 threads each. A second thread keeps
a worker busy while the first waits on PostgreSQL; more threads only take turns at the GIL: in
the benchmark (bench/README.md) 2 x 2 served as many requests as 2 x 4 with a p99 a quarter
to a third lower. Each thread keeps its own database connection (DATABASE_CONN_MAX_AGE), so an
instance holds up to workers x threads of them.
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gunicorn's gthread worker, except that a new connection waits for its first request in the
# poller rather than in one of the two threads (todo_project/gunicorn_worker.py).
worker_class = "todo_project.gunicorn_worker.ThreadWorker"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))

# A request still running after this long is killed with its worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Requests' queries get half that, so a runaway query fails as a logged 500 before its worker
# is killed. Only the web process: `migrate` in the release phase may run long.
raw_env = [f"DATABASE_STATEMENT_TIMEOUT_MS={os.environ.get('DATABASE_STATEMENT_TIMEOUT_MS', timeout * 500)}"]
# On SIGTERM (a deploy, a scale-down) workers stop accepting and finish in-flight requests for
# up to this long. Platforms send SIGKILL about 30 s after SIGTERM, so stay below that.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
# An idle keep-alive connection (and a new one that has not sent its request yet) stays open
# this long. Longer than the usual proxy and load-balancer idle timeouts (60 s), so the server
# never closes a connection the proxy is about to reuse (that race answers a 502), and a browser
# that waits a few seconds between requests keeps its connection: with 5 s, 2,000 connections
# waiting 4-8 s between requests got over 1,500 socket errors (bench/README.md). Idle
# connections sit in the worker's poller, not in a thread; a graceful stop closes them first.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
# Open connections a worker holds, idle keep-alive ones included (gthread parks them in its
# poller, not in a thread). At the limit a worker stops accepting and closes idle ones, so
# clients see resets: 2,000 per worker lets one 2-worker instance hold 2,000 browsers even
# when the kernel hands most of them to one worker. An idle connection costs a few KB.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "2000"))

# Recycle workers now and then so a slow leak cannot grow for ever; the jitter keeps them
# from all restarting at once. A recycle closes the worker's keep-alive connections (a client
# sending on one as it closes sees an error: 221 of them in one benchmark run with 2,000
# connections at 20,000) and starts a process with cold caches, so it must be rare: at 300
# requests/s a worker lives about 5 minutes, at 10 requests/s about 3 hours. The soak
# (bench/README.md) shows RSS flat.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = max_requests // 10

# The app writes one JSON line per request (todo_project.logs); gunicorn's would duplicate it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# The platform manages the process with signals; no control socket is needed in the container.
control_socket_disable = True
