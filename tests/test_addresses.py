"""One normal form of an email address, whichever way it was typed and whichever path reads it."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from productinfo.auth.addresses import normalize_email
from productinfo.config import ConfigError
from tests.helpers import PASSWORD, assert_error, assert_ok

NFD = "rene\u0301@example.com"  # e and a combining acute accent
NFC = "ren\u00e9@example.com"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (NFD, NFC),
        ("ＡＮＡ@ｅｘａｍｐｌｅ．ｃｏｍ", "ana@example.com"),  # full width
        ("o\ufb01ce@example.com", "ofice@example.com"),  # the ﬁ ligature
        ("Ana@XN--BCHER-KVA.example", "ana@bücher.example"),  # IDNA, decoded
        ("  Ana@Example.COM ", "ana@example.com"),
        ("STRASSE@example.com", "strasse@example.com"),
        ("Straße@example.com", "straße@example.com"),  # ß is not ss
        ("Iı@example.com", "iı@example.com"),  # I is i; the dotless ı stays itself
    ],
)
def test_the_normal_form(typed, stored):
    assert normalize_email(typed) == stored


LOCAL = st.text(alphabet="aAbBİIıiß._-ﬁｅＥé\u0301\u03070", min_size=1, max_size=12)
DOMAIN = st.sampled_from(["example.com", "EXAMPLE.com", "ｅｘａｍｐｌｅ.com", "bücher.example"])


@given(LOCAL, DOMAIN)
def test_the_normal_form_is_its_own_normal_form(local, domain):
    try:
        normal = normalize_email(f"{local}@{domain}")
    except ValueError:
        return
    assert normalize_email(normal) == normal


def signup(client, email):
    return client.post("/users.signup", json={"email": email, "password": PASSWORD})


def login(client, email, password=PASSWORD):
    return client.post("/users.login", json={"email": email, "password": password})


def test_an_address_signs_in_exactly_as_it_signed_up(client):
    assert assert_ok(signup(client, NFD))["email"] == NFC
    assert_ok(login(client, NFD))
    assert_ok(login(client, NFC))
    assert_ok(login(client, "RENÉ@example.com"))


@pytest.mark.parametrize(
    ("first", "second"),
    [("ana@example.com", "ａｎａ@example.com"), ("ofice@example.com", "o\ufb01ce@example.com")],
)
def test_variants_of_one_address_are_one_account(client, fetch, first, second):
    assert_ok(signup(client, first))
    assert_error(signup(client, second), 409, "email_taken")
    assert_ok(login(client, second))
    assert len(fetch("SELECT id FROM users")) == 1


def test_a_malformed_address_at_sign_in_is_a_plain_401(client):
    for email in ("not an email", "a@b@c", "ａ" * 400, "\ufdfa" * 300 + "@example.com"):
        assert_error(login(client, email, "whatever-1"), 401, "invalid_credentials")


def test_forgotten_password_reads_the_same_address(client, mailbox):
    assert_ok(signup(client, NFC))
    mailbox.messages.clear()
    assert_ok(client.post("/users.forgetpass", json={"email": NFD}))
    assert [m["Subject"] for m in mailbox.messages] == ["Reset your password"]


def test_allowed_domains_are_read_in_the_same_form(make_app):
    app = make_app(SIGNUP_MODE="domain", SIGNUP_ALLOWED_DOMAINS=["XN--BCHER-KVA.example"])
    assert_ok(signup(app.test_client(), "ana@BÜCHER.example"))
    assert_error(signup(app.test_client(), "ana@buecher.example"), 403)


def test_create_admin_reads_the_same_address(app, client, auth):
    auth.signup(email=NFC)
    result = app.test_cli_runner().invoke(args=["create-admin", NFD, "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert assert_ok(login(client, NFC))["role"] == "admin"


def test_an_allowed_domain_that_is_not_one_stops_the_start(make_app):
    with pytest.raises(ConfigError, match="SIGNUP_ALLOWED_DOMAINS"):
        make_app(SIGNUP_MODE="domain", SIGNUP_ALLOWED_DOMAINS=["not a domain"])
