"""Fixtures: every app-level test runs once on SQLite and once on real Postgres."""

import logging
import os
import shutil
import socket
import uuid

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from productinfo import create_app, schema
from productinfo.logs import LOGGERS
from productinfo.models import metadata
from tests.fake_supabase import FakeStorageServer
from tests.helpers import PUBLIC_BASE_URL, Auth, Mailbox

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TABLES = ", ".join(table.name for table in metadata.sorted_tables)


def migrated(url: str) -> None:
    engine = create_engine(url)
    schema.upgrade(engine)
    engine.dispose()


@pytest.fixture(autouse=True)
def app_logs_reach_caplog(caplog):
    """Hand the app's log records to pytest: they do not propagate to the root logger."""
    loggers = [logging.getLogger(name) for name in LOGGERS]
    # Until an app is created the loggers also propagate to the root, where caplog would
    # see each record a second time.
    propagation = [logger.propagate for logger in loggers]
    for logger in loggers:
        logger.addHandler(caplog.handler)
        logger.propagate = False
    yield
    for logger, propagate in zip(loggers, propagation, strict=True):
        logger.propagate = propagate
        logger.removeHandler(caplog.handler)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file, copied for each test: faster than migrating every time."""
    path = tmp_path_factory.mktemp("template") / "productinfo.sqlite3"
    migrated(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url():
    """A migrated schema of its own in the test Postgres, so parallel runs do not collide."""
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.connect():
            pass
    except OperationalError as error:
        admin.dispose()
        message = f"Postgres is not reachable at {POSTGRES_URL}: {error.orig}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        # Shared by every run, so that it outlives each run's schema.
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
    search_path = f"-csearch_path={schema},public"
    url = make_url(POSTGRES_URL).update_query_dict({"options": search_path})
    url = url.render_as_string(hide_password=False)
    migrated(url)
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path, sqlite_template):
    """The URL of an empty, migrated database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "productinfo.sqlite3"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def smtp_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture
def mailbox(smtp_server):
    """The messages the app sent during this test."""
    box, _ = smtp_server
    box.messages.clear()
    return box


@pytest.fixture
def make_app(database_url, tmp_path, smtp_server, mailbox):
    """Build apps on the test database, with config overrides."""
    apps = []
    _, smtp_port = smtp_server

    def make(**overrides):
        config = {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "BCRYPT_ROUNDS": 4,
            "MAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp_port,
            "SMTP_SECURITY": "none",
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "RATELIMIT_ENABLED": False,
            **overrides,
        }
        app = create_app(config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["db"].dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(app):
    return Auth(app)


@pytest.fixture
def staff(auth):
    """A client signed in as an approved staff member."""
    return auth.client("staff")


@pytest.fixture
def admin(auth):
    """A client signed in as an admin."""
    return auth.client("admin")


@pytest.fixture
def fetch(app):
    """Query the app's database in a transaction of its own, to check the state after a call."""

    def run(statement, **params):
        if isinstance(statement, str):
            statement = text(statement)
        with app.extensions["db"].engine.connect() as connection:
            return connection.execute(statement, params).mappings().all()

    return run


@pytest.fixture(scope="session")
def running_fake_storage():
    fake = FakeStorageServer()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def supabase_server(running_fake_storage):
    """The contract fake of Supabase Storage, empty and answering normally."""
    running_fake_storage.reset()
    return running_fake_storage


@pytest.fixture
def make_supabase_app(make_app, supabase_server):
    """Build apps storing their photos in the fake's bucket, with config overrides."""
    return lambda **overrides: make_app(**{**supabase_server.app_config(), **overrides})
