import pytest

from tests.helpers import PASSWORD, assert_error, assert_ok

NEW_PASSWORD = "violet-canyon-drum-93"


def test_me_shows_profile_and_statistics(staff):
    me = assert_ok(staff.get("/users.me"))
    assert me["email"] == staff.user["email"]
    assert me["stats"]["products_added"] == 0
    assert me["stats"]["photos_uploaded"] == 0
    assert me["stats"]["last_activity_at"].endswith("Z")
    assert "password_hash" not in me


def test_history_is_newest_first_and_paginated(staff, auth):
    auth.login(staff.user["email"])
    assert_ok(staff.post("/companies.add", json={"companies": [{"id": 1, "name": "Ifri"}]}))
    first = staff.get("/users.history?limit=2").get_json()
    assert [event["kind"] for event in first["data"]] == ["companies_added", "login"]
    second = staff.get(f"/users.history?limit=2&cursor={first['next_cursor']}").get_json()
    assert [event["kind"] for event in second["data"]] == ["signup"]
    assert second["next_cursor"] is None
    only = assert_ok(staff.get("/users.history?kind=login"))
    assert [event["kind"] for event in only] == ["login"]


@pytest.mark.parametrize("sync", [{}, {"device_id": "3f2b6c1e-8d4a-4f7e-9b0a-2c5d7e9f1a3b"}])
def test_history_credits_only_the_companies_a_request_created(staff, sync):
    assert_ok(staff.post("/companies.add", json={"companies": [{"id": 1, "name": "Ifri"}]}))
    added = staff.post(
        "/companies.add",
        json={"companies": [{"id": 2, "name": " IFRI "}, {"id": 3, "name": "Candia"}], **sync},
    )
    mapping = assert_ok(added)["mapping"]
    candia = mapping["3"]
    events = assert_ok(staff.get("/users.history?kind=companies_added"))
    assert [event["details"]["company_ids"] for event in events][0] == [candia]
    assert_ok(staff.post("/companies.add", json={"companies": [{"id": 4, "name": "candia"}]}))
    assert assert_ok(staff.get("/users.history?kind=companies_added")) == events


def test_history_is_private(staff, auth):
    other = auth.client()
    assert_ok(other.post("/companies.add", json={"companies": [{"id": 1, "name": "Ifri"}]}))
    kinds = [event["kind"] for event in assert_ok(staff.get("/users.history"))]
    assert kinds == ["signup"]


def test_update_name(staff, fetch):
    user = assert_ok(staff.post("/users.update", json={"name": "  Ana B. "}))
    assert user["name"] == "Ana B."
    assert fetch("SELECT name FROM users")[0]["name"] == "Ana B."


def test_update_password_needs_the_current_one(staff):
    response = staff.post("/users.update", json={"password": NEW_PASSWORD})
    assert_error(response, 422, "current_password_required")
    response = staff.post(
        "/users.update", json={"password": NEW_PASSWORD, "current_password": "wrong-one-123"}
    )
    assert_error(response, 422, "wrong_password")


def test_new_password_ends_the_other_sessions(staff, auth, client):
    other = auth.login(staff.user["email"])
    body = {"password": NEW_PASSWORD, "current_password": PASSWORD}
    assert_ok(staff.post("/users.update", json=body))
    assert_ok(staff.get("/users.me"))  # this session goes on
    response = client.get("/users.me", headers={"Authorization": f"Bearer {other['access_token']}"})
    assert_error(response, 401, "session_revoked")
    login = {"email": staff.user["email"], "password": PASSWORD}
    assert_error(client.post("/users.login", json=login), 401, "invalid_credentials")
    assert_ok(client.post("/users.login", json={**login, "password": NEW_PASSWORD}))


def test_new_password_follows_the_rules(staff):
    body = {"password": "password", "current_password": PASSWORD}
    assert_error(staff.post("/users.update", json=body), 422, "password_too_weak")


def test_a_new_email_replaces_the_old_once_verified(staff, mailbox, client):
    old = staff.user["email"]
    body = {"email": "New@Example.com", "current_password": PASSWORD}
    user = assert_ok(staff.post("/users.update", json=body))
    assert (user["email"], user["pending_email"]) == (old, "new@example.com")
    [link] = mailbox.links("new@example.com")
    token = link.split("#token=")[1]
    verified = assert_ok(client.post("/users.signup.verify", json={"token": token}))
    assert (verified["email"], verified["pending_email"]) == ("new@example.com", None)
    assert verified["email_verified"] is True
    [notice] = [m for m in mailbox.messages if m["To"] == old and "changed" in m["Subject"]]
    assert "new@example.com" in notice.get_payload(decode=True).decode()


def test_asking_for_the_current_email_cancels_a_change(staff, mailbox, client):
    change = {"email": "new@example.com", "current_password": PASSWORD}
    assert_ok(staff.post("/users.update", json=change))
    back = {"email": staff.user["email"], "current_password": PASSWORD}
    assert assert_ok(staff.post("/users.update", json=back))["pending_email"] is None
    [link] = mailbox.links("new@example.com")
    stale = client.post("/users.signup.verify", json={"token": link.split("#token=")[1]})
    assert_error(stale, 422, "link_invalid")


def test_new_email_taken_by_someone_else(staff, auth):
    other = auth.signup()
    body = {"email": other["email"], "current_password": PASSWORD}
    assert_error(staff.post("/users.update", json=body), 409, "email_taken")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "nothing_to_update"),
        ({"role": "admin"}, "validation_failed"),
        ({"name": ""}, "validation_failed"),
        ({"email": "nope", "current_password": PASSWORD}, "validation_failed"),
    ],
)
def test_update_rejects(staff, body, code):
    assert_error(staff.post("/users.update", json=body), 422, code)


def test_email_changes_are_capped_like_other_mails(staff, mailbox):
    for n in range(3):
        body = {"email": f"new{n}@example.com", "current_password": PASSWORD}
        assert_ok(staff.post("/users.update", json=body))
    body = {"email": "spam@example.com", "current_password": PASSWORD}
    response = staff.post("/users.update", json=body)
    assert_error(response, 429, "too_many_requests")
    assert "spam@example.com" not in [m["To"] for m in mailbox.messages]
