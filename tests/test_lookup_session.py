"""The barcode lookup reads the caller's session in its own query: it refuses every caller the
other endpoints refuse, with the same code, whatever the barcode, on any instance."""

import datetime as dt

import pytest
from sqlalchemy import delete, select, update

from productinfo.auth.models import refresh_tokens, sessions, users
from productinfo.db import utcnow
from tests.helpers import Auth, add_product, assert_error, assert_ok, make_catalogue

BARCODE = "6130234000010"
ABSENT = "6130234000027"
BAD_CHECK_DIGIT = "6130234000011"


def run(app, statement):
    with app.extensions["db"].engine.begin() as conn:
        conn.execute(statement)


def end_session(app, user):
    run(app, update(sessions).where(sessions.c.user_id == user["id"]).values(revoked_at=utcnow()))


def expire_session(app, user):
    past = utcnow() - dt.timedelta(days=1)
    run(app, update(sessions).where(sessions.c.user_id == user["id"]).values(expires_at=past))


def forget_session(app, user):
    theirs = select(sessions.c.id).where(sessions.c.user_id == user["id"])
    run(app, delete(refresh_tokens).where(refresh_tokens.c.session_id.in_(theirs)))
    run(app, delete(sessions).where(sessions.c.user_id == user["id"]))


def disable(app, user):
    run(app, update(users).where(users.c.id == user["id"]).values(disabled_at=utcnow()))


def unapprove(app, user):
    run(app, update(users).where(users.c.id == user["id"]).values(approved_at=None))


# What befalls the caller's account or session, and the refusal every endpoint then gives.
REFUSALS = [
    (end_session, 401, "session_revoked"),
    (expire_session, 401, "session_expired"),
    (forget_session, 401, "token_invalid"),
    (disable, 403, "account_disabled"),
    (unapprove, 403, "approval_pending"),
]


@pytest.fixture
def two_instances(make_app):
    """Two apps on one database, as two serverless instances: a product added on the first."""
    first, second = make_app(), make_app()
    auth = Auth(first)
    admin = auth.client("admin")
    product = add_product(admin, make_catalogue(admin), BARCODE)
    return first, second, auth, product


@pytest.mark.parametrize("change, status, code", REFUSALS)
@pytest.mark.parametrize("barcode", [BARCODE, ABSENT, BAD_CHECK_DIGIT])
def test_a_refused_caller_is_refused_by_the_lookup(two_instances, change, status, code, barcode):
    first, second, auth, product = two_instances
    user = auth.signup()
    # The caller looks up on the second instance, warm, while the change is made on the first.
    caller = second.test_client()
    caller.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {user['access_token']}"
    assert caller.get(f"/products.getByBarcode/{BARCODE}").status_code == 200
    change(first, user)
    assert_error(caller.get(f"/products.getByBarcode/{barcode}"), status, code)
    # The same refusal as an endpoint that reads the session on its own.
    assert_error(caller.get("/categories.get"), status, code)


@pytest.mark.parametrize(
    "headers, code",
    [
        ({}, "not_signed_in"),
        ({"Authorization": "Bearer not-a-token"}, "token_invalid"),
        ({"Authorization": "Basic abc"}, "token_invalid"),
    ],
)
@pytest.mark.parametrize("barcode", [BARCODE, ABSENT, BAD_CHECK_DIGIT])
def test_no_token_no_lookup(two_instances, headers, code, barcode):
    first, *_ = two_instances
    response = first.test_client().get(f"/products.getByBarcode/{barcode}", headers=headers)
    assert_error(response, 401, code)


def test_an_unverified_address_is_refused_in_domain_mode(make_app):
    app = make_app(SIGNUP_MODE="domain", SIGNUP_ALLOWED_DOMAINS=["company.example"])
    user = Auth(app).signup(email="ana@company.example")
    response = app.test_client().get(
        f"/products.getByBarcode/{BARCODE}",
        headers={"Authorization": f"Bearer {user['access_token']}"},
    )
    assert_error(response, 403, "email_unverified")


def test_an_admitted_caller_gets_what_get_by_id_answers(two_instances):
    first, second, auth, product = two_instances
    staff = Auth(second).client(email="staff@example.com")
    by_id = assert_ok(staff.get(f"/products.getById/{product['id']}"))
    assert assert_ok(staff.get(f"/products.getByBarcode/{BARCODE}")) == by_id
    assert_error(staff.get(f"/products.getByBarcode/{ABSENT}"), 404, "product_not_found")
    assert_error(staff.get(f"/products.getByBarcode/{BAD_CHECK_DIGIT}"), 422)
