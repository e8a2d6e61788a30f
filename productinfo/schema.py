"""The schema's version: migrate with Alembic, and refuse to serve a database left behind.

`productinfo/migrations/` is the one source of the schema, on SQLite and Postgres
alike. Revisions are numbered like their files (`0006_...py`, revision "0006").
"""

import functools
import os

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import Connection, Engine, inspect, text

from productinfo.errors import ServiceUnavailable

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")
UPGRADE_COMMAND = "flask --app api/index db upgrade"


class MigrationsPending(ServiceUnavailable):
    """The database's schema is older than this code's: someone must run the migrations."""

    code = "migrations_pending"

    def __init__(self, current: str | None, head: str):
        super().__init__(
            f"The database is at revision {current or 'none (it is empty)'}, but this version "
            f"of the app needs revision {head}. Run `{UPGRADE_COMMAND}` against it.",
            data={"database_revision": current, "code_revision": head, "command": UPGRADE_COMMAND},
        )


def check(conn: Connection) -> None:
    """Raise MigrationsPending if the database is behind the code.

    A database ahead of the code (a newer deployment migrated it) is served:
    migrations only add what older code does not use.
    """
    current, head = current_revision(conn), head_revision()
    if current is None or current < head:
        raise MigrationsPending(current, head)


# SQLite's FTS5 search indexes (migration 0010) and their shadow tables: virtual tables that
# no Table describes.
SEARCH_INDEXES = ("products_search", "companies_search")


def exists_on(dialect: str):
    """Return an Alembic `include_object` hook that skips indexes made for another database,
    and the search indexes."""

    def include(obj, name, type_, reflected, compare_to):
        if type_ == "table" and compare_to is None and name.startswith(SEARCH_INDEXES):
            return False
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
    engine = current_app.extensions["db"].engine
    upgrade(engine, revision)
    with engine.connect() as conn:
        click.echo(
            f"Database at revision {current_revision(conn)} ({engine.url.get_backend_name()})."
        )
