"""Django's PostgreSQL backend with every wait of the web process on the database bounded.

Django's backend builds its psycopg pool itself; this one builds it from the two classes below
and is otherwise Django's (settings.py names it as the engine of a PostgreSQL DATABASE_URL).

- `Pool`: a pooled connection that fails its check before a loan (closed while idle by a
  pooler restart, Neon scaling to zero, `pg_terminate_backend`) is discarded and the next one
  tried at once. psycopg_pool's own loop pauses about a second after a failed check, past the
  0.5 s `DATABASE_POOL_TIMEOUT`, so the request that found dead connections answered 503. The
  check is bounded by what remains of that timeout, and at least 2 s: a frozen server never
  answers it.
- `BoundedConnection`: each round trip of a pooled connection (a query, a commit, a rollback)
  waits at most `DATABASE_QUERY_TIMEOUT` seconds; then the connection, whose state is unknown,
  is closed and the caller gets an `OperationalError` (a 503 `database_unavailable`). The
  server's `statement_timeout` ends a slow query first; this catches a server that does not
  answer at all (a frozen process, a network that drops packets), where TCP keepalives cannot
  help since the server's kernel still acknowledges them.
"""

from contextlib import contextmanager
from time import monotonic

import psycopg
from django.conf import settings
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg import errors
from psycopg_pool import ConnectionPool


class BoundedConnection(psycopg.Connection):
    """A psycopg connection whose every wait for the server ends after `round_trip_timeout`."""

    round_trip_timeout: float | None = None  # seconds; None waits as long as the server takes

    def wait(self, gen, *args, **kwargs):
        if self.round_trip_timeout and "timeout" not in kwargs and len(args) < 2:
            kwargs["timeout"] = self.round_trip_timeout
            try:
                return super().wait(gen, *args, **kwargs)
            except errors._WaitTimeout:  # psycopg's own wait deadline (the name is psycopg's)
                # The query may still be running: the connection cannot be used again.
                self.pgconn.finish()
                raise psycopg.OperationalError(
                    f"the database did not answer within {kwargs['timeout']:g} seconds"
                ) from None
        return super().wait(gen, *args, **kwargs)


@contextmanager
def round_trips_within(conn: BoundedConnection, seconds: float):
    """Bounds `conn`'s round trips by `seconds` instead of its usual limit while the block runs."""
    conn.round_trip_timeout = seconds
    try:
        yield conn
    finally:
        del conn.round_trip_timeout  # the class's limit again


# The longest a loan's check waits for the server (a frozen one never answers it).
CHECK_SECONDS = 2.0


class Pool(ConnectionPool):
    def getconn(self, timeout: float | None = None):
        deadline = monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            # Raises PoolTimeout once the deadline has passed.
            conn = super().getconn(deadline - monotonic())
            try:
                # At least CHECK_SECONDS: on a busy worker a healthy server's answer may wait
                # for the CPU longer than what is left of the pool's timeout.
                with round_trips_within(conn, max(deadline - monotonic(), CHECK_SECONDS)):
                    self.check_connection(conn)
            except Exception:
                self.putconn(conn)  # closed: discarded, and a new one is opened in the background
            else:
                return conn


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not options:
            return None
        if self.alias not in self._connection_pools:
            # As Django's backend does, with the classes above and no check of its own.
            connection_class = type(
                "BoundedConnection",
                (BoundedConnection,),
                {"round_trip_timeout": settings.DATABASE_QUERY_TIMEOUT or None},
            )
            pool = Pool(
                kwargs={**self.get_connection_params(), "autocommit": True},
                open=False,
                configure=self._configure_connection,
                connection_class=connection_class,
                **options,
            )
            self._connection_pools.setdefault(self.alias, pool)
        return self._connection_pools[self.alias]
