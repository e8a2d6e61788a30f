"""The migrations are the one source of the schema: they must match the table definitions."""

import sqlite3

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

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
