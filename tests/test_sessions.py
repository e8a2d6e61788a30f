"""Refresh tokens rotate, replays end the session, and logging out really logs out."""

import datetime as dt

from sqlalchemy import select, update

from productinfo.auth.models import refresh_tokens, sessions
from tests.helpers import assert_error, assert_ok

LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def refresh(client, token):
    return client.post("/users.refresh", json={"refresh_token": token})


def test_refresh_rotates_the_pair(client, auth, fetch):
    user = auth.signup()
    fresh = assert_ok(refresh(client, user["refresh_token"]))
    assert fresh["refresh_token"] != user["refresh_token"]
    assert fresh["access_token"] != user["access_token"]
    assert (
        assert_ok(client.get("/users.me", headers=bearer(fresh["access_token"])))["id"]
        == user["id"]
    )
    assert_ok(refresh(client, fresh["refresh_token"]))
    # Only hashes are stored.
    stored = {row["token_hash"] for row in fetch("SELECT token_hash FROM refresh_tokens")}
    assert user["refresh_token"] not in stored and len(stored) == 3


def test_a_retry_within_the_grace_window_gets_the_same_successor(client, auth, fetch):
    user = auth.signup()
    first = assert_ok(refresh(client, user["refresh_token"]))
    retried = assert_ok(refresh(client, user["refresh_token"]))  # the app lost the first answer
    assert retried["refresh_token"] == first["refresh_token"]
    assert_ok(client.get("/users.me", headers=bearer(retried["access_token"])))
    live = fetch("SELECT id FROM refresh_tokens WHERE used_at IS NULL")
    assert len(live) == 1  # one chain
    assert_ok(refresh(client, retried["refresh_token"]))


def test_a_replay_after_the_successor_was_used_ends_the_session(client, auth):
    user = auth.signup()
    first = assert_ok(refresh(client, user["refresh_token"]))
    second = assert_ok(refresh(client, first["refresh_token"]))
    # Within the grace window, but the chain has moved on: someone else holds the token.
    assert_error(refresh(client, user["refresh_token"]), 401, "session_revoked")
    assert_error(refresh(client, second["refresh_token"]), 401, "session_revoked")
    assert_error(
        client.get("/users.me", headers=bearer(second["access_token"])), 401, "session_revoked"
    )


def test_replay_after_the_grace_window_ends_the_session(client, auth, app, fetch):
    user = auth.signup()
    fresh = assert_ok(refresh(client, user["refresh_token"]))
    with app.extensions["db"].engine.begin() as conn:
        spent = refresh_tokens.c.used_at.is_not(None)
        conn.execute(update(refresh_tokens).where(spent).values(used_at=LONG_AGO))
    assert_error(refresh(client, user["refresh_token"]), 401, "session_revoked")
    # The thief's replay also locks out the tokens issued after it.
    assert_error(refresh(client, fresh["refresh_token"]), 401, "session_revoked")
    assert_error(
        client.get("/users.me", headers=bearer(fresh["access_token"])), 401, "session_revoked"
    )
    kinds = [row["kind"] for row in fetch("SELECT kind FROM activity ORDER BY id")]
    assert kinds[-1] == "session_revoked"


def test_unknown_refresh_token(client):
    assert_error(refresh(client, "made-up-token"), 401, "token_invalid")
    assert_error(client.post("/users.refresh", json={}), 422, "validation_failed")


def test_logout_ends_the_session_at_once(client, auth):
    user = auth.signup()
    other_device = auth.login(user["email"])
    assert_ok(client.post("/users.logout", headers=bearer(user["access_token"])))
    assert_error(
        client.get("/users.me", headers=bearer(user["access_token"])), 401, "session_revoked"
    )
    assert_error(refresh(client, user["refresh_token"]), 401, "session_revoked")
    # Other sessions go on.
    assert_ok(client.get("/users.me", headers=bearer(other_device["access_token"])))


def test_logout_with_only_the_refresh_token(client, auth):
    user = auth.signup()
    assert_ok(client.post("/users.logout", json={"refresh_token": user["refresh_token"]}))
    assert_error(
        client.get("/users.me", headers=bearer(user["access_token"])), 401, "session_revoked"
    )


def test_logout_needs_some_token(client):
    assert_error(client.post("/users.logout"), 401, "not_signed_in")
    assert_error(client.post("/users.logout", json={"refresh_token": "nope"}), 401, "token_invalid")


def test_logout_all_ends_every_session(client, auth):
    user = auth.signup()
    other = auth.login(user["email"])
    assert_ok(client.post("/users.logoutAll", headers=bearer(user["access_token"])))
    for session in (user, other):
        assert_error(
            client.get("/users.me", headers=bearer(session["access_token"])), 401, "session_revoked"
        )
        assert_error(refresh(client, session["refresh_token"]), 401, "session_revoked")


def test_session_lifetime_is_absolute(client, auth, app):
    user = auth.signup()
    with app.extensions["db"].engine.begin() as conn:
        conn.execute(update(sessions).values(expires_at=LONG_AGO))
    assert_error(refresh(client, user["refresh_token"]), 401, "session_expired")
    assert_error(
        client.get("/users.me", headers=bearer(user["access_token"])), 401, "session_expired"
    )


def test_refresh_lifetime_is_configurable(make_app):
    app = make_app(REFRESH_TOKEN_DAYS=1, ACCESS_TOKEN_MINUTES=5)
    data = assert_ok(
        app.test_client().post(
            "/users.signup", json={"email": "a@example.com", "password": "tulip-rocket-harbor-57"}
        )
    )
    assert data["expires_in"] == 300
    with app.extensions["db"].engine.connect() as conn:
        created, expires = conn.execute(select(sessions.c.created_at, sessions.c.expires_at)).one()
    assert expires - created == dt.timedelta(days=1)
