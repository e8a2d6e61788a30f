"""Roles, approval, disabling and the admin-only endpoints."""

import threading
import time

import pytest
from sqlalchemy import text

from productinfo.auth import admin as administration
from tests.helpers import PASSWORD, Auth, assert_error, assert_ok

ADMIN_ENDPOINTS = [
    ("GET", "/users.list", None),
    ("POST", "/users.setRole", {"user_id": 1, "role": "admin"}),
    ("POST", "/users.disable", {"user_id": 1}),
    ("POST", "/users.enable", {"user_id": 1}),
    ("POST", "/users.approve", {"user_id": 1}),
    ("POST", "/categories.add", {"name": "Dairy"}),
    ("POST", "/categories.update", {"id": 1, "name": "Dairy"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ENDPOINTS)
def test_admin_endpoints_refuse_staff_and_strangers(staff, client, fetch, method, path, body):
    assert_error(staff.open(path, method=method, json=body), 403, "admin_only")
    assert_error(client.open(path, method=method, json=body), 401, "not_signed_in")
    assert fetch("SELECT id FROM categories") == []
    assert [row["role"] for row in fetch("SELECT role FROM users")] == ["staff"]


def test_list_users(admin, auth):
    auth.signup(email="b@example.com")
    users = assert_ok(admin.get("/users.list"))
    assert [u["email"] for u in users] == [admin.user["email"], "b@example.com"]
    assert [u["role"] for u in users] == ["admin", "staff"]
    assert all("password_hash" not in u for u in users)
    admins = assert_ok(admin.get("/users.list?role=admin"))
    assert [u["email"] for u in admins] == [admin.user["email"]]


def test_role_change_takes_effect_on_the_next_request(admin, staff):
    assert_error(staff.get("/users.list"), 403, "admin_only")
    promoted = assert_ok(
        admin.post("/users.setRole", json={"user_id": staff.user["id"], "role": "admin"})
    )
    assert promoted["role"] == "admin"
    assert_ok(staff.get("/users.list"))  # same access token
    assert_ok(admin.post("/users.setRole", json={"user_id": staff.user["id"], "role": "staff"}))
    assert_error(staff.get("/users.list"), 403, "admin_only")


def test_the_last_admin_cannot_step_down(admin):
    body = {"user_id": admin.user["id"], "role": "staff"}
    assert_error(admin.post("/users.setRole", json=body), 409, "last_admin")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_admins_disabling_each_other_at_once_leave_one(app, admin, auth, fetch):
    other = auth.client("admin", email="other-admin@example.com")
    answers = []
    with app.extensions["db"].engine.connect() as conn:
        # The admin's request, caught before its commit...
        administration.set_disabled(
            conn,
            app.extensions["accounts"],
            admin_id=admin.user["id"],
            user_id=other.user["id"],
            disabled=True,
        )
        # ...while the other admin's request disables the first one.
        body = {"user_id": admin.user["id"]}
        thread = threading.Thread(
            target=lambda: answers.append(other.post("/users.disable", json=body))
        )
        thread.start()
        waiting = 0
        for _ in range(100):
            waiting = conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar()
            if waiting:
                break
            time.sleep(0.05)
        conn.commit()
    thread.join()
    assert waiting, "the second request did not wait for the first"
    assert_error(answers[0], 409, "last_admin")
    assert fetch("SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL") == [
        {"id": admin.user["id"]}
    ]


def test_a_disabled_admin_can_be_demoted(admin, auth):
    other = auth.client("admin", email="other-admin@example.com")
    assert_ok(admin.post("/users.disable", json={"user_id": other.user["id"]}))
    demoted = assert_ok(
        admin.post("/users.setRole", json={"user_id": other.user["id"], "role": "staff"})
    )
    assert demoted["role"] == "staff"


def test_set_role_rejects(admin):
    assert_error(
        admin.post("/users.setRole", json={"user_id": 999, "role": "staff"}), 404, "user_not_found"
    )
    body = {"user_id": admin.user["id"], "role": "owner"}
    assert_error(admin.post("/users.setRole", json=body), 422, "validation_failed")


def test_disabled_user_is_locked_out_at_once(admin, staff, client, fetch):
    assert_ok(admin.post("/users.disable", json={"user_id": staff.user["id"]}))
    assert_error(staff.get("/categories.get"), 403, "account_disabled")
    login = {"email": staff.user["email"], "password": PASSWORD}
    assert_error(client.post("/users.login", json=login), 403, "account_disabled")
    refresh = {"refresh_token": staff.user["refresh_token"]}
    assert_error(client.post("/users.refresh", json=refresh), 401, "session_revoked")

    assert_ok(admin.post("/users.enable", json={"user_id": staff.user["id"]}))
    assert_ok(client.post("/users.login", json=login))
    kinds = [
        row["kind"]
        for row in fetch("SELECT kind FROM activity WHERE actor_id IS NOT NULL ORDER BY id")
    ]
    assert kinds == ["account_disabled", "account_enabled"]


def test_admin_cannot_disable_themselves(admin):
    assert_error(
        admin.post("/users.disable", json={"user_id": admin.user["id"]}), 409, "cannot_disable_self"
    )


def test_admin_actions_show_in_both_histories(admin, staff):
    assert_ok(admin.post("/users.setRole", json={"user_id": staff.user["id"], "role": "admin"}))
    [event] = [e for e in assert_ok(staff.get("/users.history")) if e["kind"] == "role_changed"]
    assert (event["actor_id"], event["details"]) == (admin.user["id"], {"role": "admin"})
    history = assert_ok(admin.get("/users.history"))
    [seen_by_admin] = [e for e in history if e["actor_id"] == admin.user["id"]]
    assert seen_by_admin["user_id"] == staff.user["id"]  # whom it concerned


def test_approval_mode(make_app):
    app = make_app(SIGNUP_MODE="approval")
    auth = Auth(app)
    admin = auth.client("admin", email="boss@example.com")
    newcomer = auth.client(email="new@example.com")
    assert assert_ok(newcomer.get("/users.me"))["approved"] is False
    assert_error(newcomer.get("/categories.get"), 403, "approval_pending")
    pending = assert_ok(admin.get("/users.list?status=pending"))
    assert [u["email"] for u in pending] == ["new@example.com"]
    assert_ok(admin.post("/users.approve", json={"user_id": newcomer.user["id"]}))
    assert_ok(newcomer.get("/categories.get"))


def test_domain_mode(make_app):
    client = make_app(SIGNUP_MODE="domain", SIGNUP_ALLOWED_DOMAINS=["company.dz"]).test_client()
    outsider = client.post("/users.signup", json={"email": "me@gmail.com", "password": PASSWORD})
    assert_error(outsider, 403, "signup_domain_not_allowed")
    assert_ok(client.post("/users.signup", json={"email": "me@Company.DZ", "password": PASSWORD}))


def test_rename_category(admin):
    dairy = assert_ok(admin.post("/categories.add", json={"name": "Dairy"}))
    assert_ok(admin.post("/categories.add", json={"name": "Food"}))
    renamed = assert_ok(
        admin.post("/categories.update", json={"id": dairy["id"], "name": "Dairy products"})
    )
    assert renamed["name"] == "Dairy products"
    assert renamed["updated_at"] >= dairy["updated_at"]
    conflict = admin.post("/categories.update", json={"id": dairy["id"], "name": "FOOD"})
    assert_error(conflict, 409, "category_exists")
    assert_error(
        admin.post("/categories.update", json={"id": 999, "name": "X"}), 404, "category_not_found"
    )
    same = admin.post("/categories.update", json={"id": dairy["id"], "name": "dairy PRODUCTS"})
    assert assert_ok(same)["name"] == "dairy PRODUCTS"


def test_an_admin_who_cannot_act_is_not_the_last_admin(make_app):
    app = make_app(SIGNUP_MODE="approval")
    auth = Auth(app)
    boss = auth.client("admin", email="boss@example.com")
    newcomer = auth.client(email="new@example.com")  # waiting for approval
    promote = {"user_id": newcomer.user["id"], "role": "admin"}
    assert_ok(boss.post("/users.setRole", json=promote))
    step_down = {"user_id": boss.user["id"], "role": "staff"}
    assert_error(boss.post("/users.setRole", json=step_down), 409, "last_admin")
    assert_error(newcomer.get("/users.list"), 403, "approval_pending")
    assert_ok(boss.post("/users.approve", json={"user_id": newcomer.user["id"]}))
    assert_ok(boss.post("/users.setRole", json=step_down))
    assert_ok(newcomer.get("/users.list"))
