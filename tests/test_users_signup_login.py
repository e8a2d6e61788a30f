import statistics
import time

import pytest

from tests.helpers import PASSWORD, assert_error, assert_ok

SIGNED_IN_FIELDS = {
    "id",
    "email",
    "pending_email",
    "name",
    "role",
    "email_verified",
    "approved",
    "disabled",
    "created_at",
    "access_token",
    "refresh_token",
    "expires_in",
}


def signup(client, **body):
    return client.post(
        "/users.signup", json={"email": "ana@example.com", "password": PASSWORD, **body}
    )


def test_signup_answers_the_account_and_tokens(client, fetch):
    data = assert_ok(signup(client, email="  Ana@Example.COM ", name="Ana"))
    assert set(data) == SIGNED_IN_FIELDS
    assert data["email"] == "ana@example.com"
    assert (data["name"], data["role"], data["email_verified"]) == ("Ana", "staff", False)
    assert data["expires_in"] == 15 * 60
    assert len(data["refresh_token"]) >= 40
    [user] = fetch("SELECT email, password_hash FROM users")
    assert user["email"] == "ana@example.com"
    assert user["password_hash"].startswith("$2b$04$")  # bcrypt at the test cost
    assert PASSWORD not in str(data) and user["password_hash"] not in str(data)
    kinds = [row["kind"] for row in fetch("SELECT kind FROM activity")]
    assert kinds == ["signup"]


def test_signup_with_form_data(client):
    data = assert_ok(
        client.post("/users.signup", data={"email": "bo@example.com", "password": PASSWORD})
    )
    assert data["email"] == "bo@example.com"


def test_signup_with_a_taken_email_is_a_conflict(client, fetch):
    assert_ok(signup(client))
    assert_error(signup(client, email="ANA@example.com"), 409, "email_taken")
    assert len(fetch("SELECT id FROM users")) == 1


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"password": "short1!"}, "password", "password_too_short"),
        ({"password": "é" * 37}, "password", "password_too_long"),  # 74 bytes in UTF-8
        ({"password": "x" * 73}, "password", "password_too_long"),
        ({"password": "password123"}, "password", "password_too_weak"),
        ({"password": "qwertyuiop"}, "password", "password_too_weak"),
        ({"password": "ana@example.com1"}, "password", "password_too_weak"),
        ({"password": "x" * 2000}, "password", "validation_failed"),
        ({"email": "not-an-email"}, "email", "validation_failed"),
        ({"email": ""}, "email", "validation_failed"),
        ({"name": ""}, "name", "validation_failed"),
    ],
)
def test_signup_rejects_bad_input_with_a_reason(client, fetch, body, field, code):
    error = assert_error(signup(client, **body), 422, code)
    assert list(error["errors"]) == [field]
    assert fetch("SELECT id FROM users") == []


def test_too_long_password_message_names_the_limit(client):
    error = assert_error(signup(client, password="é" * 37), 422, "password_too_long")
    assert "72 bytes" in error["errors"]["password"]


def test_password_is_never_read_from_the_query_string(client, fetch):
    response = client.post(f"/users.signup?email=q@example.com&password={PASSWORD}")
    assert_error(response, 422, "validation_failed")
    response = client.post(f"/users.login?email=q@example.com&password={PASSWORD}")
    assert_error(response, 422, "validation_failed")
    assert fetch("SELECT id FROM users") == []


def test_login_answers_a_new_session(client, auth):
    auth.signup(email="ana@example.com")
    data = assert_ok(
        client.post("/users.login", data={"email": " ANA@example.com", "password": PASSWORD})
    )
    assert set(data) == SIGNED_IN_FIELDS
    me = client.get("/users.me", headers={"Authorization": f"Bearer {data['access_token']}"})
    assert assert_ok(me)["email"] == "ana@example.com"


def test_password_is_unicode_normalized(client, auth):
    auth.signup(email="ana@example.com", password="Ｔulip-rocket-harbor-57")  # full-width T
    assert_ok(
        client.post(
            "/users.login", json={"email": "ana@example.com", "password": "Tulip-rocket-harbor-57"}
        )
    )


def without_request_id(response):
    body = response.get_json()
    body.pop("request_id")
    return response.status_code, body


def test_unknown_email_and_wrong_password_answer_alike(client, auth):
    auth.signup(email="ana@example.com")
    wrong = client.post(
        "/users.login", json={"email": "ana@example.com", "password": "wrong-password-1"}
    )
    unknown = client.post(
        "/users.login", json={"email": "nobody@example.com", "password": "wrong-password-1"}
    )
    malformed = client.post("/users.login", json={"email": "not an email", "password": "x"})
    assert_error(wrong, 401, "invalid_credentials")
    assert without_request_id(wrong) == without_request_id(unknown) == without_request_id(malformed)
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")


def test_over_long_password_at_login_is_a_plain_failure(client, auth):
    auth.signup(email="ana@example.com")
    response = client.post("/users.login", json={"email": "ana@example.com", "password": "é" * 100})
    assert_error(response, 401, "invalid_credentials")


def test_unknown_email_costs_as_much_as_a_wrong_password(make_app):
    """Without the dummy hash an unknown email would answer about a hundred times faster."""
    app = make_app(BCRYPT_ROUNDS=10)
    client = app.test_client()
    assert_ok(signup(client))

    def median_seconds(email):
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            client.post("/users.login", json={"email": email, "password": "wrong-password-1"})
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    known, unknown = median_seconds("ana@example.com"), median_seconds("nobody@example.com")
    assert unknown > known / 2, (known, unknown)
