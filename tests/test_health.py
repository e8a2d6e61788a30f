from datetime import timedelta

from productinfo import __version__
from productinfo.db import utcnow
from productinfo.security import tokens
from tests.helpers import assert_error, assert_ok


def test_index_names_service_and_version(client):
    assert assert_ok(client.get("/")) == {
        "name": "productinfo",
        "version": __version__,
        "docs": "/docs",
    }


def test_health_checks_the_database(client):
    assert assert_ok(client.get("/health")) == {"database": "ok", "rate_limits": "off"}


def test_database_down_is_503_in_the_envelope(make_app):
    app = make_app(DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/test")
    client = app.test_client()
    body = assert_error(client.get("/health"), 503, "database_unavailable")
    assert "unavailable" in body["message"]
    # A well-signed token: checking its session needs the database, which is down.
    token = tokens.encode_access(
        user_id=1,
        session_id=1,
        key=app.config["SECRET_KEY"],
        now=utcnow(),
        lifetime=timedelta(minutes=5),
    )
    response = client.get("/categories.get", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 503, "database_unavailable")


def test_unreadable_sqlite_file_is_503(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/missing-dir/db.sqlite3")
    assert_error(app.test_client().get("/health"), 503, "database_unavailable")
