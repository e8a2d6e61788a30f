"""Verification and reset links: really mailed, single use, expiring, and never enumerating."""

import datetime as dt

from sqlalchemy import update

from productinfo.auth.models import email_tokens
from tests.helpers import PASSWORD, PUBLIC_BASE_URL, assert_error, assert_ok

NEW_PASSWORD = "violet-canyon-drum-93"


def token_of(link):
    return link.split("#token=")[1]


def expire_links(app):
    with app.extensions["db"].engine.begin() as conn:
        conn.execute(update(email_tokens).values(expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))


def test_signup_mails_a_verification_link_that_works_once(client, auth, mailbox):
    user = auth.signup(email="ana@example.com")
    [message] = mailbox.messages
    assert message["Subject"] == "Confirm your email address"
    [link] = mailbox.links("ana@example.com")
    assert link.startswith(f"{PUBLIC_BASE_URL}/users.signup.verify#token=")

    verified = client.post("/users.signup.verify", json={"token": token_of(link)})
    assert assert_ok(verified)["email_verified"] is True
    again = client.post("/users.signup.verify", json={"token": token_of(link)})
    assert_error(again, 422, "link_invalid")
    me = client.get("/users.me", headers={"Authorization": f"Bearer {user['access_token']}"})
    assert assert_ok(me)["email_verified"] is True


def test_link_pages_read_the_token_from_the_fragment(client):
    for path, api in [
        ("/users.signup.verify", "/users.signup.verify"),
        ("/users.resetpass", "/users.resetpass"),
    ]:
        page = client.get(path)
        assert page.status_code == 200 and page.mimetype == "text/html"
        html = page.get_data(as_text=True)
        assert "location.hash" in html and f'"{api}"' in html
        nonce = page.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
        assert f'<script nonce="{nonce}">' in html


def test_expired_verification_link(client, auth, mailbox, app):
    auth.signup(email="ana@example.com")
    expire_links(app)
    [link] = mailbox.links("ana@example.com")
    assert_error(
        client.post("/users.signup.verify", json={"token": token_of(link)}), 422, "link_expired"
    )


def test_resend_verification(staff, mailbox):
    assert assert_ok(staff.post("/users.signup.resend")) is None
    first, second = mailbox.links(staff.user["email"])
    assert first != second
    assert_ok(staff.post("/users.signup.verify", json={"token": token_of(second)}))
    assert_error(staff.post("/users.signup.resend"), 409, "already_verified")


def test_forgot_password_answers_alike_and_mails_only_real_accounts(client, auth, mailbox):
    auth.signup(email="ana@example.com")
    mailbox.messages.clear()
    known = client.post("/users.forgetpass", json={"email": "Ana@example.com"})
    unknown = client.post("/users.forgetpass", json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_json() == unknown.get_json()
    assert [m["To"] for m in mailbox.messages] == ["ana@example.com"]


def test_reset_link_works_once_and_ends_every_session(client, auth, mailbox):
    user = auth.signup(email="ana@example.com")
    other = auth.login("ana@example.com")
    assert_ok(client.post("/users.forgetpass", data={"email": "ana@example.com"}))
    [link] = [lnk for lnk in mailbox.links("ana@example.com") if "/users.resetpass#" in lnk]
    assert link.startswith(f"{PUBLIC_BASE_URL}/users.resetpass#token=")

    body = {"token": token_of(link), "password": NEW_PASSWORD}
    assert_ok(client.post("/users.resetpass", data=body))
    assert_error(client.post("/users.resetpass", json=body), 422, "link_invalid")
    for session in (user, other):
        response = client.get(
            "/users.me", headers={"Authorization": f"Bearer {session['access_token']}"}
        )
        assert_error(response, 401, "session_revoked")
    login = {"email": "ana@example.com", "password": PASSWORD}
    assert_error(client.post("/users.login", json=login), 401, "invalid_credentials")
    signed_in = assert_ok(client.post("/users.login", json={**login, "password": NEW_PASSWORD}))
    assert signed_in["email_verified"] is True  # the reset link proved the mailbox


def test_reset_needs_a_good_password(client, auth, mailbox):
    auth.signup(email="ana@example.com")
    assert_ok(client.post("/users.forgetpass", json={"email": "ana@example.com"}))
    link = mailbox.links("ana@example.com")[-1]
    response = client.post(
        "/users.resetpass", json={"token": token_of(link), "password": "12345678"}
    )
    assert_error(response, 422, "password_too_weak")


def test_reset_link_expires(client, auth, mailbox, app):
    auth.signup(email="ana@example.com")
    assert_ok(client.post("/users.forgetpass", json={"email": "ana@example.com"}))
    expire_links(app)
    link = mailbox.links("ana@example.com")[-1]
    response = client.post(
        "/users.resetpass", json={"token": token_of(link), "password": NEW_PASSWORD}
    )
    assert_error(response, 422, "link_expired")


def test_a_verification_token_cannot_reset_a_password(client, auth, mailbox):
    auth.signup(email="ana@example.com")
    [link] = mailbox.links("ana@example.com")
    response = client.post(
        "/users.resetpass", json={"token": token_of(link), "password": NEW_PASSWORD}
    )
    assert_error(response, 422, "link_invalid")


def test_links_in_a_mailbox_the_account_gave_up_stop_working(client, auth, mailbox):
    user = auth.signup(email="ana@example.com")
    assert_ok(client.post("/users.forgetpass", json={"email": "ana@example.com"}))
    verify, reset = mailbox.links("ana@example.com")
    change = {"email": "ana.b@example.com", "current_password": PASSWORD}
    headers = {"Authorization": f"Bearer {user['access_token']}"}
    assert_ok(client.post("/users.update", json=change, headers=headers))
    [new] = mailbox.links("ana.b@example.com")
    assert_ok(client.post("/users.signup.verify", json={"token": token_of(new)}))

    stale = {"token": token_of(reset), "password": NEW_PASSWORD}
    assert_error(client.post("/users.resetpass", json=stale), 422, "link_invalid")
    stale = {"token": token_of(verify)}
    assert_error(client.post("/users.signup.verify", json=stale), 422, "link_invalid")
    login = {"email": "ana.b@example.com", "password": PASSWORD}
    assert_ok(client.post("/users.login", json=login))


def test_mails_are_capped_per_account_alike_for_unknown_accounts(client, auth, mailbox):
    auth.signup(email="ana@example.com")
    for email in ("ana@example.com", "nobody@example.com"):
        for _ in range(3):
            assert_ok(client.post("/users.forgetpass", json={"email": email}))
        response = client.post("/users.forgetpass", json={"email": email})
        assert_error(response, 429, "too_many_requests")
        assert 0 < int(response.headers["Retry-After"]) <= 3600
