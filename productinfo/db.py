"""The database: a SQLAlchemy Core engine per app, a connection per request, one unit of work.

Features declare their tables on `metadata`; `productinfo/migrations/` is the
one source of the schema (see `productinfo.schema`). The engine is created on
first use, never at import, so a serverless cold start does not open a
connection it may not need (see `productinfo.engines` for how it connects).

A request's writes are one unit of work (`unit_of_work`, wrapped around every
write endpoint): they are committed once, when the endpoint has succeeded, and
rolled back on any error. Services never commit. The one exception is
`persist_now`, for a record that must outlive the failure about to be raised
(a failed sign-in counts towards the limit although the request fails).
"""

import datetime as dt
from collections.abc import Callable
from contextlib import contextmanager
from functools import cached_property

from flask import Flask, current_app, g, request
from sqlalchemy import Connection, DateTime, Engine, MetaData
from sqlalchemy.types import TypeDecorator

from productinfo import engines, schema

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
        return engines.create(self.url, serverless=self.serverless, timeout=self.timeout)

    def check_schema(self, conn: Connection) -> None:
        """Raise MigrationsPending if the database is behind the code; once passed, never again."""
        if not self.schema_checked:
            schema.check(conn)
            self.schema_checked = True

    def dispose(self) -> None:
        """Close every pooled connection."""
        if "engine" in self.__dict__:
            self.engine.dispose()


def init_app(app: Flask) -> None:
    """Attach the database to the app and register its teardown and CLI."""
    app.extensions["db"] = Database(
        app.config["DATABASE_URL"],
        serverless=app.config["ON_VERCEL"],
        timeout=app.config["DATABASE_TIMEOUT_SECONDS"],
    )
    app.teardown_appcontext(_close_connection)
    app.cli.add_command(schema.db_cli)


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
        engines.set_request_timeout(g.get("db_timeout", database.timeout))
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


def end_transaction(conn: Connection) -> None:
    """End the request's transaction before slow work (decoding, calls to photo storage).

    So that no connection sits "idle in transaction" through it, pinning a pooled
    one; the next statement begins a new transaction, which the unit of work
    commits. Call it after reads, or after writes that may stand on their own.
    """
    if conn.in_transaction():
        persist_now(conn)


def _close_connection(_exc=None) -> None:
    # Closing rolls back whatever the request did not commit: no half-written data.
    conn = g.pop("db_connection", None)
    if conn is not None:
        conn.close()
        engines.set_request_timeout(None)


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
