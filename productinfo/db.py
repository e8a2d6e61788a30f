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
import os
from collections.abc import Callable
from contextlib import contextmanager
from functools import cached_property

import click
from flask import Flask, current_app, g, request
from flask.cli import AppGroup
from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event, inspect, text
from sqlalchemy.types import TypeDecorator

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


class Database:
    """Hold the engine of one app, created lazily from its database URL."""

    def __init__(self, url: str, *, serverless: bool):
        self.url = url
        self.serverless = serverless

    @cached_property
    def engine(self) -> Engine:
        """Create the engine on first use."""
        if self.url.startswith("sqlite"):
            return _sqlite_engine(self.url)
        return _postgres_engine(self.url, serverless=self.serverless)

    def dispose(self) -> None:
        """Close every pooled connection."""
        if "engine" in self.__dict__:
            self.engine.dispose()


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 15})

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
        connection.exec_driver_sql("BEGIN")

    return engine


def _postgres_engine(url: str, *, serverless: bool) -> Engine:
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    connect_args = {"connect_timeout": 5, "application_name": "productinfo"}
    # No ping before each checkout (a round trip on every request): a connection the
    # server dropped fails its request with a 503, is discarded, and the next one is new.
    options = {"pool_recycle": 1800}
    # Supabase's transaction pooler (port 6543) hands each transaction to any
    # server connection, so prepared statements would not be found again.
    if serverless or make_url(url).port == 6543:
        connect_args["prepare_threshold"] = None
    # A serverless instance may freeze at any time: hold no idle connections.
    if serverless:
        options = {"poolclass": NullPool}
    return create_engine(url, connect_args=connect_args, **options)


def init_app(app: Flask) -> None:
    """Attach the database to the app and register its teardown and CLI."""
    app.extensions["db"] = Database(app.config["DATABASE_URL"], serverless=app.config["ON_VERCEL"])
    app.teardown_appcontext(_close_connection)
    app.cli.add_command(db_cli)


def get_engine() -> Engine:
    """Return the current app's engine."""
    return current_app.extensions["db"].engine


def connection() -> Connection:
    """Return this request's connection, opening it on first use.

    A read (GET, HEAD) on Postgres runs without a transaction: each statement sees
    its own snapshot, as it would inside one at READ COMMITTED, and BEGIN and
    ROLLBACK, two round trips, are saved.
    """
    if "db_connection" not in g:
        conn = get_engine().connect()
        if request.method in ("GET", "HEAD") and conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
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
        conn.commit()


def _close_connection(_exc=None) -> None:
    # Closing rolls back whatever the request did not commit: no half-written data.
    conn = g.pop("db_connection", None)
    if conn is not None:
        conn.close()


def exists_on(dialect: str):
    """Return an Alembic `include_object` hook that skips indexes made for another database."""

    def include(obj, name, type_, reflected, compare_to):
        # An index restricted with `.ddl_if(dialect=...)` exists only on that database.
        condition = getattr(obj, "_ddl_if", None)
        return condition is None or condition.dialect in (None, dialect)

    return include


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
