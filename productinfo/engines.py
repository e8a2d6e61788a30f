"""How the app connects: SQLite that queues its writers, Postgres that never waits for ever.

- **SQLite**: WAL, foreign keys on, and a write takes the write lock as it begins
  (`BEGIN IMMEDIATE`), waiting up to `SQLITE_BUSY_SECONDS` for it.
- **Postgres**: a request gives up on an answer after its timeout (a frozen server or
  a network partition would otherwise hold it for ever); a pooled connection that the
  server or the pooler closed while idle is replaced before use, without a round trip;
  no prepared statements behind Supabase's transaction pooler; the connections a warm
  serverless instance needed are kept (one, or a few under concurrent requests).
"""

import select
import time
from contextvars import ContextVar
from functools import cached_property

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError

# How long a SQLite writer waits for the write lock before giving up with a 503.
SQLITE_BUSY_SECONDS = 15

# A connection idle for longer than this may have been dropped by the pooler or the
# network (a serverless instance frozen between requests): ping it before use.
IDLE_PING_SECONDS = 30

# The longest wait for one answer of the database during a request; None outside requests
# (migrations and CLI commands may take long).
_request_timeout: ContextVar[float | None] = ContextVar("request_timeout", default=None)


def create(url: str, *, serverless: bool, timeout: float) -> Engine:
    """Create the engine of a database URL."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return _postgres_engine(url, serverless=serverless, timeout=timeout)


def set_request_timeout(seconds: float | None) -> None:
    """Bound each wait for the database in this thread's request; None: no bound (CLI)."""
    _request_timeout.set(seconds)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})

    # SQLAlchemy's recipe for real transactions on pysqlite: let SQLAlchemy emit
    # BEGIN itself, so SAVEPOINTs and transactional DDL work.
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # A write takes the write lock as it begins, and waits for it (up to the busy
        # timeout): a deferred BEGIN would fail at its first write with "database is
        # locked" whenever another writer committed in between, which no wait can cure.
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _postgres_engine(url: str, *, serverless: bool, timeout: float) -> Engine:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    # Connecting must fail fast too: a frozen server completes the TCP handshake but
    # never answers, and /health must answer within a few seconds.
    connect_args = {"connect_timeout": 3, "application_name": "productinfo"}
    transaction_pooler = parsed.port == 6543
    # Supabase's transaction pooler (port 6543) hands each transaction to any
    # server connection, so prepared statements would not be found again, and no
    # session setting (such as a startup statement_timeout) would stick.
    if serverless or transaction_pooler:
        connect_args["prepare_threshold"] = None
    if not transaction_pooler:
        # Added to the URL's own options (a search_path, say), which this would replace.
        options = [parsed.query.get("options", ""), f"-c statement_timeout={int(timeout * 1000)}"]
        connect_args["options"] = " ".join(option for option in options if option)
    # No ping before each checkout (a round trip on every request): see
    # `discard_if_dropped`. A warm serverless instance keeps the connections it
    # needed: one while requests come one at a time, up to four when Fluid compute
    # gives it several at once; a burst beyond that opens more, closed after use.
    options = {"pool_recycle": 1800}
    if serverless:
        options.update(pool_size=4, max_overflow=4)
    engine = create_engine(url, connect_args=connect_args, **options)

    @event.listens_for(engine, "do_connect")
    def connect(_dialect, _record, cargs, cparams):
        return _TimedConnection.connect(*cargs, **cparams)

    @event.listens_for(engine, "checkout")
    def discard_if_dropped(dbapi_connection, record, _proxy):
        # A pooled connection the server or the pooler closed while it sat idle is
        # found without a round trip: its socket turned readable (the goodbye, or the
        # end of the stream). One idle for long (a serverless instance frozen between
        # requests) may have been cut off silently: that one is pinged. Either way the
        # pool discards it and opens a new one, and the request never sees it.
        idle = time.monotonic() - record.info.get("checked_in", time.monotonic())
        try:
            if select.select([dbapi_connection.fileno()], [], [], 0)[0]:
                raise ConnectionError("closed by the server while idle")
            if idle > IDLE_PING_SECONDS:
                engine.dialect.do_ping(dbapi_connection)
                dbapi_connection.rollback()  # end the transaction the ping began
        except Exception as error:
            raise DisconnectionError() from error

    @event.listens_for(engine, "checkin")
    def mark_idle(_dbapi_connection, record):
        record.info["checked_in"] = time.monotonic()

    return engine


def _timed_connection_class():
    import psycopg
    from psycopg import errors

    class TimedConnection(psycopg.Connection):
        """A psycopg connection that gives up on an answer after the request's timeout.

        libpq waits for an answer for ever; a server that is frozen or cut off by a
        network partition would hold the request, and its thread, until it came back.
        The server's own statement_timeout cannot help then: it is not running.
        """

        def wait(self, gen, interval=0.1, timeout=None):
            limit = _request_timeout.get() if timeout is None else timeout
            try:
                return super().wait(gen, interval=interval, timeout=limit)
            except errors._WaitTimeout:
                # The connection is in an unknown state: close it so that the pool
                # discards it (SQLAlchemy sees a closed connection as a disconnect).
                self.pgconn.finish()
                raise psycopg.OperationalError(
                    f"the database did not answer within {limit:g} s"
                ) from None

    return TimedConnection


class _LazyConnectionClass:
    """Build the psycopg connection class on first use: psycopg loads only on Postgres."""

    @cached_property
    def cls(self):
        return _timed_connection_class()

    def connect(self, *args, **kwargs):
        return self.cls.connect(*args, **kwargs)


_TimedConnection = _LazyConnectionClass()
