"""gunicorn's threaded worker, with new connections waiting for their first request in the poller.

gunicorn's `gthread` worker hands every new connection to a thread at once, and the thread
waits up to 5 s for the first request before giving the connection to the poller. With 2
threads a worker, two silent connections (a browser's speculative preconnect, a client that
opens its pool ahead of time, a slow or hostile client) stall the worker: requests on every
other connection queue behind them. This worker puts a new connection in the poller straight
away, as gunicorn does with an idle keep-alive connection, so a thread only ever takes a
connection that has bytes to read. A silent connection is closed after `keepalive` seconds.

It relies on the worker's own pending-connection path (`pending_conns`,
`on_pending_socket_readable`), so gunicorn is pinned; tests/test_gunicorn.py checks the
behaviour against a live server.
"""

import errno
import selectors
import time
from functools import partial

from gunicorn.workers import gthread


class ThreadWorker(gthread.ThreadWorker):
    def accept(self, listener):
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        client_sock.setblocking(False)  # a thread sets it blocking again before reading
        conn = gthread.TConn(self.cfg, client_sock, client_addr, listener.getsockname())
        conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(client_sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn))

    def _cap_keepalive(self, deadline):
        # On a graceful stop, silent new connections are closed as soon as idle keep-alive ones,
        # not after the whole keep-alive timeout. Capping every entry keeps the deque in order.
        super()._cap_keepalive(deadline)
        for conn in self.pending_conns:
            conn.timeout = min(conn.timeout, deadline)
