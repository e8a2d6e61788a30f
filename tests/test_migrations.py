"""The migrations are the one source of the schema: they must match the table definitions."""

import sqlite3
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from productinfo import create_app, schema
from productinfo.demo import CATEGORIES, COMPANIES
from productinfo.models import metadata
from tests.helpers import Auth


def test_head_revision_matches_alembic():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", schema.MIGRATIONS_DIR)
    assert ScriptDirectory.from_config(config).get_heads() == [schema.head_revision()]


def test_migrated_schema_matches_the_tables(database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": schema.exists_on(conn.dialect.name)}
        )
        diff = compare_metadata(context, metadata)
    engine.dispose()
    assert diff == []


def test_embedded_database_is_created_migrated_and_seeded(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "BCRYPT_ROUNDS": 4})
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path}/productinfo.sqlite3"
    client = Auth(app).client()
    categories = [c["name"] for c in client.get("/categories.get").get_json()["data"]]
    companies = [c["name"] for c in client.get("/companies.get").get_json()["data"]]
    assert sorted(categories) == sorted(CATEGORIES)
    assert sorted(companies) == sorted(COMPANIES)
    app.extensions["db"].dispose()

    # A second start neither migrates again nor duplicates the demo data.
    with sqlite3.connect(tmp_path / "productinfo.sqlite3") as raw:
        raw.execute("DELETE FROM companies WHERE name = 'Ifri'")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "BCRYPT_ROUNDS": 4})
    client = Auth(app).client(email="second@example.com")
    companies = [c["name"] for c in client.get("/companies.get").get_json()["data"]]
    assert "Ifri" not in companies
    assert len(companies) == len(COMPANIES) - 1
    app.extensions["db"].dispose()


def test_db_upgrade_command_migrates_a_new_database(tmp_path):
    url = f"sqlite:///{tmp_path}/fresh.sqlite3"
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path), "BCRYPT_ROUNDS": 4})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"revision {schema.head_revision()}" in result.output
    client = Auth(app).client()
    assert client.get("/categories.get").get_json()["data"] == []
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert len(client.get("/categories.get").get_json()["data"]) == len(CATEGORIES)
    app.extensions["db"].dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request, tmp_path):
    """The URL of a database with no schema at all, to migrate step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/steps.sqlite3"
        return
    base = request.getfixturevalue("postgres_url")  # skips, or fails under CI, without Postgres
    schema = f"steps_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    options = {"options": f"-csearch_path={schema},public"}
    yield make_url(base).update_query_dict(options).render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


ADD_USER = text(
    "INSERT INTO users (id, email, password_hash, role, created_at, updated_at) "
    "VALUES (:id, :email, 'x', 'staff', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


def users_before_normal_form(url: str, emails: list[str]):
    """Migrate to 0006, the schema before the normal form, and store these addresses as is."""
    engine = create_engine(url)
    schema.upgrade(engine, "0006")
    with engine.begin() as conn:
        for n, email in enumerate(emails, start=1):
            conn.execute(ADD_USER, {"id": n, "email": email})
    return engine


def test_stored_addresses_take_their_normal_form(empty_database_url):
    typed = ["ａｎａ@example.com", "o\ufb01ce@example.com", "rene\u0301@example.com", "bo@x.dz"]
    engine = users_before_normal_form(empty_database_url, typed)
    schema.upgrade(engine)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT email FROM users ORDER BY id")).scalars().all()
    engine.dispose()
    assert stored == ["ana@example.com", "ofice@example.com", "rené@example.com", "bo@x.dz"]


def test_two_accounts_that_would_share_an_address_stop_the_migration(empty_database_url):
    typed = ["ana@example.com", "bo@example.com", "ａｎａ@example.com"]
    engine = users_before_normal_form(empty_database_url, typed)
    with pytest.raises(RuntimeError, match=r"users 1, 3 would all be 'ana@example.com'"):
        schema.upgrade(engine)
    with engine.connect() as conn:
        assert schema.current_revision(conn) == "0006"
        stored = conn.execute(text("SELECT email FROM users ORDER BY id")).scalars().all()
    assert stored == typed  # nothing changed
    with engine.begin() as conn:  # an admin gives one of them another address
        conn.execute(text("UPDATE users SET email = 'ana.2@example.com' WHERE id = 3"))
    schema.upgrade(engine)
    with engine.connect() as conn:
        assert schema.current_revision(conn) == schema.head_revision()
    engine.dispose()


NOW = "2026-11-22 10:00:00"
BEFORE_0009 = [
    "INSERT INTO categories (id, name, name_key, created_at, updated_at) VALUES"
    " (1, 'Lait', 'lait', :now, :now), (2, 'ＬＡＩＴ', 'ｌａｉｔ', :now, :now)",
    "INSERT INTO companies (id, name, name_key, created_at, updated_at) VALUES"
    " (1, 'Ifri', 'ifri', :now, :now), (2, 'Trèfle', 'trèfle', :now, :now),"
    " (3, 'ＩＦＲＩ', 'ｉｆｒｉ', :now, :now), (4, 'Tre\u0300fle', 'tre\u0300fle', :now, :now)",
    "INSERT INTO products (id, name, name_key, barcode, barcode_key, category_id, company_id,"
    " created_by, created_at, updated_at, deleted_at) VALUES"
    " (1, 'Diet Coke', 'diet coke', '049000006346', '00049000006346', 1, 1, 1, :now, :now, NULL),"
    " (2, 'Diet Coke small', 'diet coke small', '04963406', '00000004963406', 1, 1, 1, :now,"
    " :now, NULL),"
    " (3, 'Lben', 'lben', '٦١٣٠٢٣٤٠٠٠٠٧٢', '٦١٣٠٢٣٤٠٠٠٠٧٢', 1, 2, 1, :now, :now, NULL),"
    " (4, 'ＬＢＥＮ', 'ｌｂｅｎ', '6130234000010', '06130234000010', 1, 2, 1, :now, :now, NULL),"
    " (5, 'Gone', 'gone', '6130234\u2013000010', '6130234\u2013000010', 1, 2, 1, :now, :now,"
    " :now)",
    "INSERT INTO photos (id, product_id, sha256, key, thumbnail_key, content_type, width, height,"
    " size, created_by, created_at) VALUES"
    " (1, 3, :sha256, 'ab/c.jpg', 'ab/c-thumb.webp', 'image/jpeg', 1, 1, 1, 1, :now)",
    "INSERT INTO sync_mappings (user_id, device_id, kind, local_id, server_id, created_at)"
    " VALUES (1, :device, 'company', '7', 3, :now), (1, :device, 'product', 'p1', 3, :now),"
    " (1, :device, 'photo', 'ph1', 1, :now)",
]


def test_keys_are_recomputed_and_twins_reported_never_merged(empty_database_url, caplog):
    from productinfo.catalog.service import name_key
    from productinfo.ledger import fingerprint

    engine = users_before_normal_form(empty_database_url, ["ana@example.com"])
    schema.upgrade(engine, "0008")
    params = {"now": NOW, "sha256": "e3b0" * 16, "device": "3f2b6c1e-8d4a-4f7e-9b0a-2c5d7e9f1a3b"}
    with engine.begin() as conn:
        for statement in BEFORE_0009:
            conn.execute(text(statement), params)
    schema.upgrade(engine)
    with engine.connect() as conn:
        rows = lambda query: [tuple(row) for row in conn.execute(text(query))]  # noqa: E731
        categories = rows("SELECT id, name, name_key FROM categories ORDER BY id")
        companies = rows("SELECT id, name_key FROM companies ORDER BY id")
        products = rows("SELECT id, name_key, barcode, barcode_key FROM products ORDER BY id")
        mappings = rows("SELECT kind, fingerprint FROM sync_mappings ORDER BY kind")
    engine.dispose()
    # Nothing merged: every row is there, with its name as typed; the oldest keeps the key.
    assert categories == [(1, "Lait", "lait"), (2, "ＬＡＩＴ", "lait\x1f2")]
    assert companies == [(1, "ifri"), (2, "trèfle"), (3, "ifri\x1f3"), (4, "trèfle\x1f4")]
    assert products == [
        (1, "diet coke", "049000006346", "00049000006346"),
        (2, "diet coke small", "04963406", "00049000006346\x1f2"),
        (3, "lben", "6130234000072", "06130234000072"),
        (4, "lben", "6130234000010", "06130234000010"),
        (5, "gone", "6130234000010", "06130234000010"),  # deleted: shares the key freely
    ]
    assert mappings == [
        ("company", fingerprint(name_key("ＩＦＲＩ"))),
        ("photo", fingerprint("e3b0" * 16)),
        ("product", None),
    ]
    warnings = [r.getMessage() for r in caplog.records if r.name == "productinfo.migrations"]
    assert warnings == [
        "Categories 1, 2 now read as one ('lait'): 1 keeps it, the others keep keys of their "
        "own until an admin merges or corrects them",
        "Companies 1, 3 now read as one ('ifri'): 1 keeps it, the others keep keys of their "
        "own until an admin merges or corrects them",
        "Companies 2, 4 now read as one ('trèfle'): 2 keeps it, the others keep keys of their "
        "own until an admin merges or corrects them",
        "Live products 1, 2 now read as one ('00049000006346'): 1 keeps it, the others keep "
        "keys of their own until an admin merges or corrects them",
    ]


def _searched(engine, term: str) -> list[int]:
    from productinfo.products import search
    from productinfo.products.queries import EVERY

    with engine.connect() as conn:
        found = search.found_ids(conn, term, filters=EVERY, cursor=None, limit=50)
        return sorted(conn.execute(found).scalars().all())


def _search_tables(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(name for name in inspect(conn).get_table_names() if "_search" in name)


def test_search_indexes_cover_the_rows_there_already_and_go_on_downgrade(empty_database_url):
    engine = users_before_normal_form(empty_database_url, ["ana@example.com"])
    schema.upgrade(engine, "0008")  # the rows of 0009's test, their keys recomputed by it
    with engine.begin() as conn:
        for statement in BEFORE_0009[:3]:
            conn.execute(text(statement), {"now": NOW})
    sqlite = engine.dialect.name == "sqlite"
    schema.upgrade(engine)
    # Found by name (diet coke), by maker (ifri, trèfle), by both; the deleted one is not.
    assert _searched(engine, "coke") == [1, 2]
    assert _searched(engine, "ifri") == [1, 2]
    assert _searched(engine, "lben") == [3, 4]
    assert _searched(engine, "trèfle") == [3, 4]
    assert _searched(engine, "gone") == []
    assert bool(_search_tables(engine)) is sqlite

    _downgrade_to(engine, "0009")
    assert _search_tables(engine) == []
    schema.upgrade(engine)
    assert _searched(engine, "diet coke small") == [2]
    engine.dispose()


def _downgrade_to(engine, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", schema.MIGRATIONS_DIR)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
