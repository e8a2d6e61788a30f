"""Nothing logs a password, a token or an Authorization header."""

import contextlib
import io
import logging
import re
import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from productinfo.db import connection
from tests.helpers import PASSWORD, assert_error, assert_ok

NEW_PASSWORD = "violet-canyon-drum-93"


def test_account_flows_log_no_secrets(app, client, mailbox, caplog):
    caplog.set_level(logging.DEBUG)
    user = assert_ok(
        client.post("/users.signup", json={"email": "ana@example.com", "password": PASSWORD})
    )
    bearer = {"Authorization": f"Bearer {user['access_token']}"}
    refreshed = assert_ok(
        client.post("/users.refresh", json={"refresh_token": user["refresh_token"]})
    )
    client.post("/users.login", json={"email": "ana@example.com", "password": "a-wrong-password-9"})
    assert_ok(client.post("/users.forgetpass", json={"email": "ana@example.com"}))
    reset_token = mailbox.links("ana@example.com")[-1].split("#token=")[1]
    assert_ok(
        client.post("/users.resetpass", json={"token": reset_token, "password": NEW_PASSWORD})
    )
    client.get("/users.me", headers=bearer)

    logged = caplog.text
    secrets = [
        PASSWORD,
        NEW_PASSWORD,
        "a-wrong-password-9",
        user["access_token"],
        user["refresh_token"],
        refreshed["refresh_token"],
        reset_token,
        "Bearer",
    ]
    for secret in secrets:
        assert secret not in logged
    assert "POST /users.login 401" in logged  # the log did record the calls


@contextlib.contextmanager
def captured(app):
    """Catch what the app's own log handler writes, as it would reach stderr."""
    # The app's stream handler; pytest's capturing handler is of a subclass.
    [handler] = [h for h in app.logger.handlers if type(h) is logging.StreamHandler]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


@pytest.fixture
def app_log(app):
    with captured(app) as stream:
        yield stream


LINE_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) \[")


def test_a_path_cannot_forge_a_log_line(client, app_log):
    forged = "2099-01-01 00:00:00,000 ERROR [-] productinfo: admin password is hunter2"
    client.get("/x%0d%0a" + forged.replace(" ", "%20") + "%0b%1b[31m%e2%80%a8")
    lines = app_log.getvalue().splitlines()
    assert lines and all(LINE_START.match(line) for line in lines), lines
    [line] = [line for line in lines if "hunter2" in line]
    assert line.startswith(line[:23] + " INFO [")  # the access log line, escaped
    assert "/x\\r\\n2099-01-01" in line and "\\x0b\\x1b[31m\\u2028" in line


# Kept out of the routes' source lines, which a traceback quotes.
LEAKED_EMAIL, LEAKED_HASH = "leak@example.com", "$2b$04$leakedhash"


@pytest.fixture
def failing_routes(app):
    """Endpoints that hit real database errors whose messages carry their parameters."""

    @app.post("/test.duplicate")
    def duplicate():
        insert = text(
            "INSERT INTO users (email, password_hash, role, created_at, updated_at) "
            "VALUES (:email, :hash, 'staff', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
        values = {"email": LEAKED_EMAIL, "hash": LEAKED_HASH}
        connection().execute(insert, values)
        connection().execute(insert, values)

    @app.post("/test.bad-column")
    def bad_column():
        query = text("SELECT no_such_column FROM users WHERE email = :email")
        connection().execute(query, {"email": LEAKED_EMAIL})

    return app


@pytest.mark.parametrize("path", ["/test.duplicate", "/test.bad-column"])
def test_database_errors_are_logged_without_values(failing_routes, app_log, path):
    response = failing_routes.test_client().post(path)
    # An unknown column is a 500; SQLite reports it as an OperationalError, like an outage.
    assert_error(response, 409 if "duplicate" in path else response.status_code)
    assert response.status_code in (409, 500, 503)
    logged = app_log.getvalue()
    assert "Error" in logged  # the error was logged: by its class...
    for leak in ("leak@example.com", "leakedhash", "[parameters", "DETAIL", "Key (email)"):
        assert leak not in logged, logged
    assert all(LINE_START.match(line) for line in logged.splitlines())


def with_options(url: str, option: str) -> str:
    """Add a libpq `options` setting to a database URL."""
    parsed = make_url(url)
    options = f"{parsed.query.get('options', '')} {option}".strip()
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("ending", ["statement_timeout", "terminated"])
def test_a_signup_cut_short_by_the_database_logs_no_values(database_url, make_app, ending):
    timeout = "-cstatement_timeout=300"
    url = with_options(database_url, timeout) if ending == "statement_timeout" else database_url
    app = make_app(DATABASE_URL=url)
    engine = create_engine(database_url)
    holder = engine.connect()
    # Statistics views show one snapshot per transaction: watch from outside the holder's.
    watcher = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        answers, log = sign_up_behind(holder, watcher, app, ending)
    finally:
        holder.rollback()
        holder.close()
        watcher.close()
        engine.dispose()
    assert_error(answers[0], 503, "database_unavailable")
    logged = log.getvalue()
    assert "database unavailable on POST /users.signup" in logged
    for leak in ("ana@example.com", "$2b$", "[parameters", "[SQL", "DETAIL"):
        assert leak not in logged, logged


def sign_up_behind(holder, watcher, app, ending: str):
    """Sign up while `holder` inserts the same address uncommitted; return (answers, log)."""
    holder.execute(
        text(
            "INSERT INTO users (email, password_hash, role, created_at, updated_at) "
            "VALUES ('ana@example.com', 'x', 'staff', now(), now())"
        )
    )
    holder_pid = holder.execute(text("SELECT pg_backend_pid()")).scalar()
    answers = []
    body = {"email": "ana@example.com", "password": PASSWORD}
    with captured(app) as log:
        thread = threading.Thread(
            target=lambda: answers.append(app.test_client().post("/users.signup", json=body))
        )
        thread.start()
        if ending == "terminated":
            blocked = []
            for _ in range(200):
                blocked = watcher.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE :h = ANY(pg_blocking_pids(pid))"),
                    {"h": holder_pid},
                ).all()
                if blocked:
                    break
                time.sleep(0.05)
            watcher.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": blocked[0].pid})
        thread.join(timeout=30)
    return answers, log
