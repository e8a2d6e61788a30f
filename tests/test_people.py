"""The admins' view of people: one person with their numbers, last activity in lists, counts."""

import datetime as dt
import io

import pytest
from sqlalchemy import update

from productinfo.activity import activity
from tests.helpers import Auth, add_product, assert_error, assert_ok, make_catalogue
from tests.images import encode, halves


@pytest.fixture
def approval_app(make_app):
    return make_app(SIGNUP_MODE="approval")


def backdate(app, user_id, when):
    """Move every event of a user's own to `when`, to tell them apart from later ones."""
    with app.extensions["db"].engine.begin() as conn:
        conn.execute(update(activity).where(activity.c.user_id == user_id).values(created_at=when))


def test_counts_of_each_list(approval_app):
    auth = Auth(approval_app)
    admin = auth.client("admin")
    second_admin = auth.client("admin")
    for n in range(3):
        auth.signup(email=f"waiting{n}@example.com")
    active = auth.signup(email="active@example.com")
    gone = auth.signup(email="gone@example.com")
    assert_ok(admin.post("/users.approve", json={"user_id": active["id"]}))
    assert_ok(admin.post("/users.approve", json={"user_id": gone["id"]}))
    assert_ok(admin.post("/users.disable", json={"user_id": gone["id"]}))
    assert second_admin.user
    counts = assert_ok(admin.get("/users.counts"))
    assert counts == {"all": 7, "pending": 3, "active": 3, "disabled": 1, "admins": 2}
    # The same as the lists, counted.
    for status in ("pending", "active", "disabled"):
        listed = assert_ok(admin.get("/users.list", query_string={"status": status}))
        assert len(listed) == counts[status]


def test_last_activity_is_what_people_did_themselves(approval_app):
    auth = Auth(approval_app)
    admin = auth.client("admin")
    newcomer = auth.signup(email="new@example.com")
    signed_up = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    backdate(approval_app, newcomer["id"], signed_up)
    # The admin approving them is no activity of theirs.
    assert_ok(admin.post("/users.approve", json={"user_id": newcomer["id"]}))
    listed = {u["email"]: u for u in assert_ok(admin.get("/users.list"))}
    assert listed["new@example.com"]["last_activity_at"] == "2026-01-02T03:04:05Z"
    assert listed[admin.user["email"]]["last_activity_at"] > "2026-01-02T03:04:05Z"
    person = assert_ok(admin.get(f"/users.getById/{newcomer['id']}"))
    assert person["stats"]["last_activity_at"] == "2026-01-02T03:04:05Z"
    # Signing in is.
    auth.login("new@example.com")
    person = assert_ok(admin.get(f"/users.getById/{newcomer['id']}"))
    assert person["stats"]["last_activity_at"] > "2026-01-02T03:04:05Z"


def test_one_person_with_their_numbers(admin, auth):
    ana = auth.client(name="Ana")
    catalogue = make_catalogue(admin)
    first = add_product(ana, catalogue, "96385074")
    add_product(ana, catalogue, "036000291452")
    form = {"product_id": str(first["id"]), "file": (io.BytesIO(encode(halves(), "JPEG")), "a.jpg")}
    assert_ok(ana.post("/photo.upload", data=form, content_type="multipart/form-data"))
    person = assert_ok(admin.get(f"/users.getById/{ana.user['id']}"))
    assert {k: person[k] for k in ("id", "email", "name", "role", "approved", "disabled")} == {
        "id": ana.user["id"],
        "email": ana.user["email"],
        "name": "Ana",
        "role": "staff",
        "approved": True,
        "disabled": False,
    }
    assert person["stats"]["products_added"] == 2
    assert person["stats"]["photos_uploaded"] == 1
    assert person["stats"]["last_activity_at"].endswith("Z")


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/users.getById/999999", 404, "user_not_found"),
        ("/users.getById/0", 422, "validation_failed"),
        ("/users.getById/ana", 422, "validation_failed"),
    ],
)
def test_unknown_people(admin, path, status, code):
    assert_error(admin.get(path), status, code)


@pytest.mark.parametrize("path", ["/users.counts", "/users.getById/1"])
def test_only_admins(staff, client, path):
    assert_error(staff.get(path), 403, "admin_only")
    assert_error(client.get(path), 401, "not_signed_in")
