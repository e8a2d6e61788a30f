from tests.helpers import PASSWORD, assert_error, assert_ok


def test_create_admin_creates_a_verified_admin(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-admin", "Boss@Example.com"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Admin boss@example.com (user 1): created" in result.output
    signed_in = assert_ok(
        client.post("/users.login", json={"email": "boss@example.com", "password": PASSWORD})
    )
    assert (signed_in["role"], signed_in["email_verified"], signed_in["approved"]) == (
        "admin",
        True,
        True,
    )


def verify(client, mailbox, email):
    token = mailbox.links(email)[0].split("#token=")[1]
    assert_ok(client.post("/users.signup.verify", json={"token": token}))


def test_create_admin_promotes_an_existing_account_without_asking_a_password(
    app, auth, client, mailbox
):
    user = auth.signup(email="ana@example.com")
    verify(client, mailbox, "ana@example.com")
    result = app.test_cli_runner().invoke(args=["create-admin", "ana@example.com"])
    assert result.exit_code == 0, result.output
    assert "Admin ana@example.com (user 1): made admin." in result.output
    assert auth.login("ana@example.com")["role"] == "admin"
    assert user["role"] == "staff"


def test_create_admin_refuses_weak_passwords_and_bad_emails(app, fetch):
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["create-admin", "boss@example.com", "--password", "password1"])
    assert weak.exit_code != 0 and "common password" in weak.output
    bad = runner.invoke(args=["create-admin", "not-an-email", "--password", PASSWORD])
    assert bad.exit_code != 0 and "EMAIL" in bad.output
    assert fetch("SELECT id FROM users") == []


def test_create_admin_takes_back_an_address_a_stranger_signed_up_with(app, client, auth, fetch):
    stranger = auth.signup(email="boss@example.com", password="stranger-owns-this-77")
    chosen = "violet-canyon-drum-93"
    result = app.test_cli_runner().invoke(
        args=["create-admin", "boss@example.com", "--password", chosen]
    )
    assert result.exit_code == 0, result.output
    assert "not verified" in result.output
    assert "password set" in result.output and "1 session ended" in result.output
    wrong = {"email": "boss@example.com", "password": "stranger-owns-this-77"}
    assert_error(client.post("/users.login", json=wrong), 401, "invalid_credentials")
    signed_in = assert_ok(client.post("/users.login", json={**wrong, "password": chosen}))
    assert (signed_in["role"], signed_in["email_verified"]) == ("admin", True)
    headers = {"Authorization": f"Bearer {stranger['access_token']}"}
    assert_error(client.get("/users.me", headers=headers), 401, "session_revoked")
    [event] = fetch("SELECT details FROM activity WHERE kind = 'account_reclaimed'")
    assert "cli" in str(event["details"])


def test_create_admin_asks_for_the_password_of_an_unverified_account(app, auth):
    auth.signup(email="boss@example.com")
    result = app.test_cli_runner().invoke(
        args=["create-admin", "boss@example.com"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Password" in result.output
    assert auth.login("boss@example.com")["role"] == "admin"


def test_create_admin_leaves_a_verified_account_its_password(app, auth, mailbox, client):
    auth.signup(email="ana@example.com")
    verify(client, mailbox, "ana@example.com")
    result = app.test_cli_runner().invoke(
        args=["create-admin", "ana@example.com", "--password", "violet-canyon-drum-93"]
    )
    assert result.exit_code == 0, result.output
    assert "password is left as it is" in result.output
    assert auth.login("ana@example.com")["role"] == "admin"
