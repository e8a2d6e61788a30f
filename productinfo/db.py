"""The database: a SQLAlchemy Core engine per app, a connection per request, Alembic migrations.

Features declare their tables on `metadata`; `productinfo/migrations/` is the
one source of the schema. The engine is created on first use, never at import,
so a serverless cold start does not open a connection it may not need.

A request's writes are one unit of work (`unit_of_work`, wrapped around every
write endpoint): they are committed once, when the endpoint has succeeded, and
rolled back on any error. Services never commit. The one exception is
`persist_now`, for a record that must outlive the failure about to be raised
(a failed sign-in counts towards the limit although the request fails).
"""

import datetime as dt
import functools
import os
import select
import time
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property

import click
from flask import Flask, current_app, g, request
from flask.cli import AppGroup
from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event, inspect, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.types import TypeDecorator

from productinfo.errors import ServiceUnavailable

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp that goes in and comes out as an aware UTC datetime on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use productinfo.db.utcnow()")
        value = value.astimezone(dt.UTC)
        # SQLite has no time zones: store UTC without an offset.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class MigrationsPending(ServiceUnavailable):
    """The database's schema is older than this code's: someone must run the migrations."""

    code = "migrations_pending"

    def __init__(self, current: str | None, head: str):
        super().__init__(
            f"The database is at revision {current or 'none (it is empty)'}, but this version "
            f"of the app needs revision {head}. Run `{UPGRADE_COMMAND}` against it.",
            data={"database_revision": current, "code_revision": head, "command": UPGRADE_COMMAND},
        )


UPGRADE_COMMAND = "flask --app api/index db upgrade"


class Database:
    """Hold the engine of one app, created lazily from its database URL."""

    def __init__(self, url: str, *, serverless: bool, timeout: float):
        self.url = url
        self.serverless = serverless
        self.timeout = timeout
        self.schema_checked = False

    @cached_property
    def engine(self) -> Engine:
        """Create the engine on first use."""
        if self.url.startswith("sqlite"):
            return _sqlite_engine(self.url)
        return _postgres_engine(self.url, serverless=self.serverless, timeout=self.timeout)

    def check_schema(self, conn: Connection) -> None:
        """Raise MigrationsPending if the database is behind the code; once passed, never again.

        A database ahead of the code (a newer deployment migrated it) is served:
        migrations only add what older code does not use.
        """
        if self.schema_checked:
            return
        current, head = current_revision(conn), head_revision()
        if current is None or current < head:
            raise MigrationsPending(current, head)
        self.schema_checked = True

    def dispose(self) -> None:
        """Close every pooled connection."""
        if "engine" in self.__dict__:
            self.engine.dispose()


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


# How long a SQLite writer waits for the write lock before giving up with a 503.
SQLITE_BUSY_SECONDS = 15
# A connection idle for longer than this may have been dropped by the pooler or the
# network (a serverless instance frozen between requests): ping it before use.
IDLE_PING_SECONDS = 30


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
    # `discard_if_dropped`. A serverless instance keeps one connection while it is
    # warm, more only for requests it serves at the same moment.
    options = {"pool_recycle": 1800}
    if serverless:
        options.update(pool_size=1, max_overflow=4)
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


# The longest wait for one answer of the database during a request; None outside requests
# (migrations and CLI commands may take long).
_request_timeout: ContextVar[float | None] = ContextVar("request_timeout", default=None)


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


def init_app(app: Flask) -> None:
    """Attach the database to the app and register its teardown and CLI."""
    app.extensions["db"] = Database(
        app.config["DATABASE_URL"],
        serverless=app.config["ON_VERCEL"],
        timeout=app.config["DATABASE_TIMEOUT_SECONDS"],
    )
    app.teardown_appcontext(_close_connection)
    app.cli.add_command(db_cli)


def get_engine() -> Engine:
    """Return the current app's engine."""
    return current_app.extensions["db"].engine


def connection() -> Connection:
    """Return this request's connection, opening it on first use.

    A read (GET, HEAD) on Postgres runs without a transaction: each statement sees
    its own snapshot, as it would inside one at READ COMMITTED, and BEGIN and
    ROLLBACK, two round trips, are saved. A write on SQLite takes the write lock
    as it begins. The first connection of the process checks that the database
    is migrated (503 `migrations_pending` otherwise).
    """
    if "db_connection" not in g:
        database = current_app.extensions["db"]
        _request_timeout.set(g.get("db_timeout", database.timeout))
        conn = database.engine.connect()
        if request.method in ("GET", "HEAD"):
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="AUTOCOMMIT")
        elif conn.dialect.name == "sqlite":
            conn.execution_options(sqlite_immediate=True)
        try:
            database.check_schema(conn)
        except BaseException:
            conn.close()
            raise
        g.db_connection = conn
    return g.db_connection


@contextmanager
def unit_of_work():
    """Commit the request's writes once if the block succeeds; roll them all back on any error.

    Callbacks registered with `after_commit` run after a successful commit, such
    as mail that must only go out once its token is stored.
    """
    try:
        yield
        conn = g.get("db_connection")
        if conn is not None and conn.in_transaction():
            conn.commit()
    except BaseException:
        conn = g.get("db_connection")
        if conn is not None:
            conn.rollback()
        g.pop("after_commit", None)
        raise
    for callback in g.pop("after_commit", []):
        callback()


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the request's unit of work has committed."""
    g.setdefault("after_commit", []).append(callback)


def persist_now(conn: Connection) -> None:
    """Commit what the request wrote so far, because it must stand although the request fails.

    For a trace of a failure (a failed sign-in, a replayed refresh token) that
    the caller records before raising the error that answers the request.
    """
    conn.commit()


def _close_connection(_exc=None) -> None:
    # Closing rolls back whatever the request did not commit: no half-written data.
    conn = g.pop("db_connection", None)
    if conn is not None:
        conn.close()
        _request_timeout.set(None)


def exists_on(dialect: str):
    """Return an Alembic `include_object` hook that skips indexes made for another database."""

    def include(obj, name, type_, reflected, compare_to):
        # An index restricted with `.ddl_if(dialect=...)` exists only on that database.
        condition = getattr(obj, "_ddl_if", None)
        return condition is None or condition.dialect in (None, dialect)

    return include


@functools.cache
def head_revision() -> str:
    """Return the newest migration's revision; revisions are numbered like their files."""
    versions = os.listdir(os.path.join(MIGRATIONS_DIR, "versions"))
    return max(name.split("_", 1)[0] for name in versions if name[:4].isdigit())


def current_revision(conn: Connection) -> str | None:
    """Return the revision the database is at, or None for an empty database."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision` with Alembic."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def ensure_schema(engine: Engine) -> bool:
    """Migrate the database if it is behind; return True if it was empty before."""
    with engine.connect() as conn:
        current = current_revision(conn)
    if current != head_revision():
        upgrade(engine)
    return current is None


db_cli = AppGroup("db", help="Manage the database schema.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade_command(revision: str):
    """Migrate the database to the latest schema (or REVISION)."""
    engine = get_engine()
    upgrade(engine, revision)
    with engine.connect() as conn:
        click.echo(
            f"Database at revision {current_revision(conn)} ({engine.url.get_backend_name()})."
        )


def any_of(conn: Connection, column, values):
    """Return `column IN (values)`; on Postgres as one array parameter, so that thousands
    of values cost one parameter to send, not thousands."""
    values = list(values)
    if conn.dialect.name == "postgresql":
        from sqlalchemy import any_, literal
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(literal(values, ARRAY(column.type)))
    return column.in_(values)


def insert_ignoring_conflicts(conn: Connection, table, *index_elements: str, where=None):
    """Return an INSERT that skips rows clashing with a unique index, on SQLite and Postgres.

    `where` names the condition of a partial unique index.
    """
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing(
        index_elements=list(index_elements), index_where=where
    )
