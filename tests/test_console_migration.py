"""The console's migration keeps the data there already and files past product events by product."""

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from productinfo import schema

BEFORE = "0007"
ROWS = """
INSERT INTO users (id, email, password_hash, role, created_at, updated_at)
    VALUES (1, 'ana@example.com', 'x', 'staff', :now, :now);
INSERT INTO categories (id, name, name_key, created_at, updated_at)
    VALUES (1, 'Food', 'food', :now, :now);
INSERT INTO companies (id, name, name_key, created_at, updated_at)
    VALUES (1, 'Ifri', 'ifri', :now, :now);
INSERT INTO products (id, name, name_key, barcode, barcode_key, category_id, company_id,
                      created_by, created_at, updated_at)
    VALUES (7, 'Water', 'water', '96385074', '00000096385074', 1, 1, 1, :now, :now);
INSERT INTO activity (user_id, kind, details, created_at)
    VALUES (1, 'product_added', '{"product_id": 7}', :now),
           (1, 'login', '{}', :now),
           (1, 'photo_uploaded', '{"photo_id": 3, "product_id": 7}', :now);
"""


@pytest.fixture(params=["sqlite", "postgres"])
def old_database(request, tmp_path):
    """A database at the revision before the console's, in a file or a schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    base = request.getfixturevalue("postgres_url")
    admin = create_engine(base)
    schema = f"old_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema},public"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_upgrade_keeps_rows_and_files_product_events(old_database):
    engine = create_engine(old_database)
    schema.upgrade(engine, BEFORE)
    with engine.begin() as conn:
        for statement in ROWS.split(";"):
            if statement.strip():
                conn.execute(text(statement), {"now": "2026-01-02 03:04:05"})
    schema.upgrade(engine)
    with engine.connect() as conn:
        events = conn.execute(text("SELECT kind, product_id FROM activity ORDER BY id")).all()
        company = conn.execute(text("SELECT name, deleted_at, merged_into_id FROM companies")).one()
        product = conn.execute(text("SELECT name, merged_into_id FROM products")).one()
    assert stamped(engine)
    engine.dispose()
    assert [tuple(e) for e in events] == [
        ("product_added", 7),
        ("login", None),
        ("photo_uploaded", 7),
    ]
    assert tuple(company) == ("Ifri", None, None)
    assert tuple(product) == ("Water", None)


def test_downgrade_and_upgrade_again(old_database):
    engine = create_engine(old_database)
    schema.upgrade(engine)
    _downgrade(engine)
    schema.upgrade(engine)
    with engine.connect() as conn:
        assert schema.current_revision(conn) == schema.head_revision()
    assert stamped(engine)
    engine.dispose()


def stamped(engine) -> bool:
    """Tell whether a new company gets its change_seq: the sync triggers are still there."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO companies (id, name, name_key, created_at, updated_at)"
                " VALUES (99, 'New', 'new', '2026-01-02 03:04:05', '2026-01-02 03:04:05')"
            )
        )
        return (
            conn.execute(text("SELECT change_seq FROM companies WHERE name = 'New'")).scalar() > 0
        )


def _downgrade(engine) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", schema.MIGRATIONS_DIR)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, BEFORE)
        assert schema.current_revision(conn) == BEFORE
