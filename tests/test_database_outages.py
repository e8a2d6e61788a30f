"""The database unmigrated, down or frozen: every request answers soon, with a 503 that says why."""

import json
import signal
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from productinfo import db, engines, schema
from tests.conftest import POSTGRES_URL
from tests.helpers import PASSWORD, assert_error, assert_ok
from tests.servers import private_postgres, signal_cluster, waitress

UPGRADE = "flask --app api/index db upgrade"


def newest_revision() -> str:
    """The head revision as Alembic itself reads the migration scripts."""
    config = Config()
    config.set_main_option("script_location", schema.MIGRATIONS_DIR)
    [head] = ScriptDirectory.from_config(config).get_heads()
    return head


@pytest.fixture
def fresh_postgres(postgres_url):
    """An empty database of the test's own on the test Postgres server, never migrated."""
    name = f"test_fresh_{uuid.uuid4().hex[:10]}"
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    server.dispose()


def signup(client):
    return client.post("/users.signup", json={"email": "ana@example.com", "password": PASSWORD})


def test_an_unmigrated_database_is_503_until_upgraded(make_app, fresh_postgres):
    app = make_app(DATABASE_URL=fresh_postgres)
    client = app.test_client()
    body = assert_error(client.get("/health"), 503, "migrations_pending")
    assert body["data"] == {
        "database_revision": None,
        "code_revision": newest_revision(),
        "command": UPGRADE,
    }
    assert UPGRADE in body["message"]
    # Not a 500 from a missing table: every endpoint that needs the schema says the same.
    assert_error(signup(client), 503, "migrations_pending")

    schema.upgrade(app.extensions["db"].engine, "0003")  # an older release's schema
    body = assert_error(client.get("/health"), 503, "migrations_pending")
    assert body["data"]["database_revision"] == "0003"

    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert assert_ok(client.get("/health")) == {"database": "ok", "rate_limits": "off"}
    assert_ok(signup(client))


def test_an_unmigrated_sqlite_file_is_503(make_app, tmp_path):
    # A database named by DATABASE_URL is never migrated behind the operator's back.
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/new.sqlite3")
    body = assert_error(app.test_client().get("/health"), 503, "migrations_pending")
    assert body["data"]["database_revision"] is None


def test_the_schema_is_checked_once_per_process(app, client):
    statements = []
    event.listen(
        app.extensions["db"].engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_: statements.append(statement),
    )
    assert_ok(client.get("/health"))
    assert any("alembic_version" in statement for statement in statements)
    statements.clear()
    for _ in range(3):
        assert_ok(client.get("/health"))
    assert statements and not any("alembic_version" in s for s in statements)


def get(url: str, token: str | None = None) -> tuple[int, dict, float]:
    """GET over HTTP; return (status, body, seconds taken)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as r:
            return r.status, json.load(r), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, json.load(error), time.monotonic() - started


def test_a_frozen_database_fails_fast_and_recovers(tmp_path):
    with private_postgres() as (url, postmaster):
        engine = create_engine(url)
        schema.upgrade(engine)
        engine.dispose()
        env = {
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "BCRYPT_ROUNDS": "4",
            "DATABASE_TIMEOUT_SECONDS": "3",
        }
        with waitress(env, tmp_path / "waitress.log", threads=4) as base:
            body = json.dumps({"email": "ana@example.com", "password": PASSWORD}).encode()
            request = urllib.request.Request(
                f"{base}/users.signup", body, {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                token = json.load(response)["data"]["access_token"]
            assert get(f"{base}/categories.get", token)[0] == 200  # a pooled connection

            signal_cluster(postmaster, signal.SIGSTOP)  # the database stops answering
            try:
                with ThreadPoolExecutor(8) as pool:
                    # More database requests than waitress has threads...
                    reads = [pool.submit(get, f"{base}/categories.get", token) for _ in range(6)]
                    health = pool.submit(get, f"{base}/health")
                    # ...and one that needs no database.
                    index = pool.submit(get, f"{base}/")
                    answers = [future.result() for future in reads]
                    health_status, health_body, health_seconds = health.result()
                    index_status, _, _ = index.result()
            finally:
                signal_cluster(postmaster, signal.SIGCONT)

            for status, answer, seconds in answers:
                assert (status, answer["code"]) == (503, "database_unavailable")
                # The answer wait (3 s) and a new connection's wait (3 s), plus a queue wait.
                assert seconds < 15, seconds
            assert (health_status, health_body["code"]) == (503, "database_unavailable")
            assert health_seconds < 5 + 3, health_seconds  # within 5 s of a free thread
            assert index_status == 200

            # Once the database answers again, so does the app: broken connections were dropped.
            assert get(f"{base}/health")[0] == 200
            assert get(f"{base}/categories.get", token)[0] == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_mistake_in_the_sql_on_sqlite_is_a_500_not_a_retry(app, staff, database_url):
    # SQLite reports "no such table" as an OperationalError, like a locked file; a retry
    # cannot cure it, so the app must not tell the client to retry.
    with sqlite3.connect(make_url(database_url).database) as conn:
        conn.execute("DROP TABLE sync_mappings")
    response = staff.post(
        "/companies.add",
        json={"device_id": str(uuid.uuid4()), "companies": [{"id": 1, "name": "Ifri"}]},
    )
    assert_error(response, 500, "internal_error")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_locked_sqlite_file_is_a_503(monkeypatch, make_app, database_url):
    monkeypatch.setattr(engines, "SQLITE_BUSY_SECONDS", 0.2)
    client = make_app().test_client()
    holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds the file
    try:
        assert_error(signup(client), 503, "database_unavailable")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_ok(signup(client))


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def terminate(pid: int) -> None:
    """End a server connection from outside, as a pooler or a restart would, and wait until
    it is gone: the server process ends a moment after it is told to."""
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
        deadline = time.monotonic() + 10
        while conn.execute(alive, {"pid": pid}).scalar() and time.monotonic() < deadline:
            time.sleep(0.02)
    server.dispose()
    time.sleep(0.1)  # and its goodbye has reached the client's socket


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("serverless", [False, True])
def test_a_pooled_connection_the_server_closed_is_replaced_unseen(database_url, serverless):
    database = db.Database(database_url, serverless=serverless, timeout=5)
    first = backend_pid(database.engine)
    assert backend_pid(database.engine) == first  # one connection, kept while warm
    terminate(first)
    # The next use gets a new connection instead of failing on the dead one.
    assert backend_pid(database.engine) != first
    database.dispose()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_serverless_instance_keeps_the_connections_its_concurrent_requests_needed(database_url):
    """Fluid compute hands one warm instance several requests at once: each wave of four
    finds the connections of the one before, instead of connecting again."""
    database = db.Database(database_url, serverless=True, timeout=5)
    all_in = threading.Barrier(4)

    def hold_one(_):
        with database.engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            all_in.wait(timeout=10)  # the four are open at the same moment
            return pid

    with ThreadPoolExecutor(4) as pool:
        first = set(pool.map(hold_one, range(4)))
        second = set(pool.map(hold_one, range(4)))
    assert len(first) == 4
    assert second == first
    database.dispose()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_request_after_the_server_closed_its_connection_succeeds(app, staff):
    assert_ok(staff.get("/categories.get"))
    terminate(backend_pid(app.extensions["db"].engine))
    assert_ok(staff.get("/categories.get"))


class CuttableProxy:
    """A TCP relay to the test Postgres whose open connections can be cut off silently, as a
    network or a NAT that forgets them does: nothing more passes, and no goodbye is sent."""

    def __init__(self, target: tuple[str, int]):
        self.target, self.cut_off = target, threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held, self.cuts = [], []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            cut = threading.Event()
            self.held += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._relay, args=(a, b, cut), daemon=True).start()
            self.cuts.append(cut)

    @staticmethod
    def _relay(source, sink, cut):
        try:
            while (data := source.recv(65536)) and not cut.is_set():
                sink.sendall(data)
        except OSError:  # closed at the end of the test
            pass
        # Once cut, what arrives is dropped on the floor, the sockets left open.

    def cut_open_connections(self):
        for cut in self.cuts:
            cut.set()

    def close(self):
        self.listener.close()
        for held in self.held:
            held.close()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_connection_the_network_dropped_silently_is_replaced_unseen(monkeypatch, database_url):
    parsed = make_url(database_url)
    proxy = CuttableProxy((parsed.host, parsed.port or 5432))
    through = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    database = db.Database(through, serverless=True, timeout=1)
    try:
        engines.set_request_timeout(1)
        first = backend_pid(database.engine)
        proxy.cut_open_connections()
        # An instance frozen between requests for longer than the ping threshold.
        monkeypatch.setattr(engines, "IDLE_PING_SECONDS", 0)
        time.sleep(0.05)
        started = time.monotonic()
        assert backend_pid(database.engine) != first
        assert time.monotonic() - started < 5  # the ping gave up within the timeout
    finally:
        engines.set_request_timeout(None)
        database.dispose()
        proxy.close()
