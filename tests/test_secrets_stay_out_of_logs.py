"""Nothing logs a password, a token or an Authorization header."""

import logging

from tests.helpers import PASSWORD, assert_ok

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
