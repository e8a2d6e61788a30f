from tests.helpers import PASSWORD, assert_ok


def test_create_admin_creates_a_verified_admin(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-admin", "Boss@Example.com"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.com" in result.output
    signed_in = assert_ok(
        client.post("/users.login", json={"email": "boss@example.com", "password": PASSWORD})
    )
    assert (signed_in["role"], signed_in["email_verified"], signed_in["approved"]) == (
        "admin",
        True,
        True,
    )


def test_create_admin_promotes_an_existing_account_without_asking_a_password(app, auth):
    user = auth.signup(email="ana@example.com")
    result = app.test_cli_runner().invoke(args=["create-admin", "ana@example.com"])
    assert result.exit_code == 0, result.output
    assert "Made admin ana@example.com" in result.output
    assert auth.login("ana@example.com")["role"] == "admin"
    assert user["role"] == "staff"


def test_create_admin_refuses_weak_passwords_and_bad_emails(app, fetch):
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["create-admin", "boss@example.com", "--password", "password1"])
    assert weak.exit_code != 0 and "common password" in weak.output
    bad = runner.invoke(args=["create-admin", "not-an-email", "--password", PASSWORD])
    assert bad.exit_code != 0 and "EMAIL" in bad.output
    assert fetch("SELECT id FROM users") == []
