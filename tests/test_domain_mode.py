"""Sign-up by company domain: the mailbox is proven before the account sees or writes anything,
and an address changes only to another one of the company's, once that one is proven too."""

import pytest

from tests.helpers import PASSWORD, Auth, assert_error, assert_ok

DOMAIN = "company.example"
NEW_PASSWORD = "violet-canyon-drum-93"


@pytest.fixture
def domain_app(make_app):
    return make_app(SIGNUP_MODE="domain", SIGNUP_ALLOWED_DOMAINS=[DOMAIN])


def token_of(link: str) -> str:
    return link.split("#token=")[1]


def bearer(user: dict) -> dict:
    return {"Authorization": f"Bearer {user['access_token']}"}


def newcomer(app, email=f"anyone@{DOMAIN}"):
    return assert_ok(
        app.test_client().post("/users.signup", json={"email": email, "password": PASSWORD})
    )


# Everything an account may do before its address is verified, and a sample of the rest.
BEFORE_VERIFICATION = [
    ("GET", "/users.me", None, 200),
    ("POST", "/users.signup.resend", None, 200),
    ("GET", "/users.history", None, 403),
    ("POST", "/users.update", {"name": "Ana"}, 403),
    ("POST", "/users.logoutAll", None, 403),
    ("GET", "/products.history?scope=all", None, 403),
    ("GET", "/categories.get", None, 403),
    ("GET", "/companies.get", None, 403),
    ("POST", "/companies.add", {"companies": [{"id": 1, "name": "Ifri"}]}, 403),
    ("GET", "/sync.pull", None, 403),
    ("GET", "/users.list", None, 403),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), BEFORE_VERIFICATION)
def test_an_unverified_account_sees_and_writes_nothing(
    domain_app, fetch, method, path, body, status
):
    user = newcomer(domain_app)
    response = domain_app.test_client().open(path, method=method, json=body, headers=bearer(user))
    if status == 200:
        assert_ok(response)
    else:
        assert_error(response, 403, "email_unverified")
    assert fetch("SELECT id FROM companies") == []


def test_verifying_the_address_opens_the_account(domain_app, mailbox):
    user = newcomer(domain_app)
    client = domain_app.test_client()
    assert_error(client.get("/categories.get", headers=bearer(user)), 403, "email_unverified")
    [link] = mailbox.links(f"anyone@{DOMAIN}")
    assert_ok(client.post("/users.signup.verify", json={"token": token_of(link)}))
    assert_ok(client.get("/categories.get", headers=bearer(user)))  # the same access token


def test_an_unverified_account_can_still_refresh_and_sign_out(domain_app):
    user = newcomer(domain_app)
    client = domain_app.test_client()
    fresh = assert_ok(client.post("/users.refresh", json={"refresh_token": user["refresh_token"]}))
    assert_ok(client.post("/users.logout", headers=bearer(fresh)))
    assert_error(client.get("/users.me", headers=bearer(fresh)), 401, "session_revoked")


def test_open_mode_does_not_wait_for_verification(staff):
    assert assert_ok(staff.get("/users.me"))["email_verified"] is False
    assert_ok(staff.get("/categories.get"))


def verified_user(app, mailbox, email=f"ana@{DOMAIN}"):
    user = newcomer(app, email)
    token = token_of(mailbox.links(email)[0])
    assert_ok(app.test_client().post("/users.signup.verify", json={"token": token}))
    return user


def test_an_address_change_never_leaves_the_domain(domain_app, mailbox, fetch):
    user = verified_user(domain_app, mailbox)
    change = {"email": "x@elsewhere.example", "current_password": PASSWORD}
    response = domain_app.test_client().post("/users.update", json=change, headers=bearer(user))
    assert_error(response, 403, "email_domain_not_allowed")
    assert [row["email"] for row in fetch("SELECT email FROM users")] == [f"ana@{DOMAIN}"]
    assert "x@elsewhere.example" not in [m["To"] for m in mailbox.messages]


def test_a_new_address_signs_in_only_once_verified(domain_app, mailbox):
    user = verified_user(domain_app, mailbox)
    client = domain_app.test_client()
    change = {"email": f"ana.b@{DOMAIN}", "current_password": PASSWORD}
    pending = assert_ok(client.post("/users.update", json=change, headers=bearer(user)))
    assert (pending["email"], pending["pending_email"]) == (f"ana@{DOMAIN}", f"ana.b@{DOMAIN}")
    assert pending["email_verified"] is True
    # Until the new address is proven, the old one is the sign-in identity.
    assert_ok(client.post("/users.login", json={"email": f"ana@{DOMAIN}", "password": PASSWORD}))
    new_login = {"email": f"ana.b@{DOMAIN}", "password": PASSWORD}
    assert_error(client.post("/users.login", json=new_login), 401, "invalid_credentials")

    [link] = mailbox.links(f"ana.b@{DOMAIN}")
    changed = assert_ok(client.post("/users.signup.verify", json={"token": token_of(link)}))
    assert (changed["email"], changed["pending_email"]) == (f"ana.b@{DOMAIN}", None)
    assert_ok(client.post("/users.login", json=new_login))
    old_login = {"email": f"ana@{DOMAIN}", "password": PASSWORD}
    assert_error(client.post("/users.login", json=old_login), 401, "invalid_credentials")


def test_the_old_address_is_told_and_can_undo_the_change(domain_app, mailbox):
    user = verified_user(domain_app, mailbox)
    client = domain_app.test_client()
    intruder = {"email": f"intruder@{DOMAIN}", "current_password": PASSWORD}
    assert_ok(client.post("/users.update", json=intruder, headers=bearer(user)))
    [link] = mailbox.links(f"intruder@{DOMAIN}")
    assert_ok(client.post("/users.signup.verify", json={"token": token_of(link)}))

    [notice] = [m for m in mailbox.messages if "changed" in m["Subject"]]
    assert notice["To"] == f"ana@{DOMAIN}"
    assert f"intruder@{DOMAIN}" in notice.get_payload(decode=True).decode()
    [undo] = [lnk for lnk in mailbox.links(f"ana@{DOMAIN}") if "/users.email.undo#" in lnk]
    page = client.get("/users.email.undo")
    assert page.status_code == 200 and '"/users.email.undo"' in page.get_data(as_text=True)
    restored = assert_ok(client.post("/users.email.undo", json={"token": token_of(undo)}))
    assert (restored["email"], restored["email_verified"]) == (f"ana@{DOMAIN}", True)
    # Whoever changed it is signed out everywhere; the owner signs in with the old address.
    assert_error(client.get("/users.me", headers=bearer(user)), 401, "session_revoked")
    assert_ok(client.post("/users.login", json={"email": f"ana@{DOMAIN}", "password": PASSWORD}))
    again = client.post("/users.email.undo", json={"token": token_of(undo)})
    assert_error(again, 422, "link_invalid")


def test_a_pending_address_taken_meanwhile_is_a_conflict(domain_app, mailbox):
    user = verified_user(domain_app, mailbox)
    client = domain_app.test_client()
    change = {"email": f"bo@{DOMAIN}", "current_password": PASSWORD}
    assert_ok(client.post("/users.update", json=change, headers=bearer(user)))
    newcomer(domain_app, f"bo@{DOMAIN}")  # someone signs up with it first
    link = mailbox.links(f"bo@{DOMAIN}")[0]
    verify = client.post("/users.signup.verify", json={"token": token_of(link)})
    assert_error(verify, 409, "email_taken")


def test_the_last_admin_must_be_verified_in_domain_mode(domain_app, mailbox):
    auth = Auth(domain_app)
    boss = auth.client("admin", email=f"boss@{DOMAIN}")  # create-admin verifies the address
    other = auth.client(email=f"other@{DOMAIN}")
    promote = {"user_id": other.user["id"], "role": "admin"}
    assert_ok(boss.post("/users.setRole", json=promote))
    step_down = {"user_id": boss.user["id"], "role": "staff"}
    assert_error(boss.post("/users.setRole", json=step_down), 409, "last_admin")
