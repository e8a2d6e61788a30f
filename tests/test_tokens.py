"""Every kind of bad access token is refused with a code the app can switch on."""

import datetime as dt
import warnings

import jwt
import pytest

from productinfo.db import utcnow
from productinfo.security import tokens
from tests.helpers import assert_error, assert_ok

KEY = "test-secret-key-that-is-long-enough-0123456789"


def claims(user, **changes):
    now = utcnow()
    base = {
        "iss": tokens.ISSUER,
        "aud": tokens.AUDIENCE,
        "sub": str(user["id"]),
        "sid": jwt.decode(user["access_token"], options={"verify_signature": False})["sid"],
        "typ": "access",
        "iat": now,
        "exp": now + dt.timedelta(minutes=5),
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def hs512(payload):
    """Sign with the app's own key but another algorithm (the key is short for HS512)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(payload, KEY, "HS512")


def call(client, authorization):
    return client.get("/categories.get", headers={"Authorization": authorization})


def test_a_good_token_works(client, auth):
    user = auth.signup()
    assert_ok(call(client, f"Bearer {user['access_token']}"))
    assert_ok(call(client, f"bearer {user['access_token']}"))


def test_no_token(client):
    response = client.get("/categories.get")
    assert_error(response, 401, "not_signed_in")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="productinfo"'


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda user: "Basic dXNlcjpwYXNz", "token_invalid"),
        (lambda user: "Bearer", "token_invalid"),
        (lambda user: "Bearer not.a.jwt", "token_invalid"),
        (lambda user: f"Bearer {user['refresh_token']}", "token_invalid"),
        (
            lambda user: (
                "Bearer "
                + jwt.encode(claims(user), "another-key-of-sufficient-length-0123456", "HS256")
            ),
            "token_invalid",
        ),
        (lambda user: "Bearer " + hs512(claims(user)), "token_invalid"),
        (lambda user: "Bearer " + jwt.encode(claims(user), None, "none"), "token_invalid"),
        (
            lambda user: "Bearer " + jwt.encode(claims(user, aud="someone-else"), KEY, "HS256"),
            "token_invalid",
        ),
        (
            lambda user: "Bearer " + jwt.encode(claims(user, iss="someone-else"), KEY, "HS256"),
            "token_invalid",
        ),
        (
            lambda user: "Bearer " + jwt.encode(claims(user, typ="refresh"), KEY, "HS256"),
            "token_invalid",
        ),
        (
            lambda user: "Bearer " + jwt.encode(claims(user, sid=None), KEY, "HS256"),
            "token_invalid",
        ),
        (
            lambda user: "Bearer " + jwt.encode(claims(user, exp=None), KEY, "HS256"),
            "token_invalid",
        ),
        (lambda user: "Bearer " + jwt.encode(claims(user, sid="1"), KEY, "HS256"), "token_invalid"),
        (
            lambda user: (
                "Bearer " + jwt.encode(claims(user, sub=str(user["id"] + 1)), KEY, "HS256")
            ),
            "token_invalid",
        ),
        (lambda user: "Bearer " + jwt.encode(claims(user, sid=999), KEY, "HS256"), "token_invalid"),
        (
            lambda user: (
                "Bearer "
                + jwt.encode(
                    claims(
                        user,
                        iat=utcnow() - dt.timedelta(hours=1),
                        exp=utcnow() - dt.timedelta(minutes=1),
                    ),
                    KEY,
                    "HS256",
                )
            ),
            "token_expired",
        ),
    ],
    ids=[
        "basic-scheme",
        "empty",
        "garbage",
        "refresh-token-as-access",
        "other-key",
        "other-algorithm",
        "alg-none",
        "wrong-audience",
        "wrong-issuer",
        "wrong-type",
        "no-session",
        "no-expiry",
        "session-as-string",
        "other-user",
        "unknown-session",
        "expired",
    ],
)
def test_bad_tokens(client, auth, make, code):
    user = auth.signup()
    response = call(client, make(user))
    assert_error(response, 401, code)


def test_revoked_session(client, auth):
    user = auth.signup()
    headers = {"Authorization": f"Bearer {user['access_token']}"}
    assert_ok(client.post("/users.logout", headers=headers))
    assert_error(client.get("/categories.get", headers=headers), 401, "session_revoked")


def odd_claim(user, **changes):
    return "Bearer " + jwt.encode(claims(user, **changes), KEY, "HS256")


@pytest.mark.parametrize(
    "changes",
    [
        {"sub": "²"},  # a digit to str.isdigit, not to int()
        {"sub": "١"},  # an Arabic-Indic one: no other spelling of a user id is accepted
        {"sub": "1" * 5000},  # past Python's limit on converting digits
        {"sub": "9" * 40},  # beyond any id
        {"sub": "0"},
        {"sub": " 1"},
        {"sid": True},  # a JSON boolean, which Python counts as an int
        {"sid": 10**30},
        {"sid": -1},
        {"sid": 2**31},
    ],
    ids=[
        "superscript-digit",
        "arabic-indic-digit",
        "5000-digits",
        "40-digits",
        "zero",
        "space",
        "boolean-session",
        "huge-session",
        "negative-session",
        "session-past-32-bits",
    ],
)
def test_claims_of_the_wrong_type_or_size_are_invalid(client, auth, changes):
    user = auth.signup()
    assert_error(call(client, odd_claim(user, **changes)), 401, "token_invalid")
