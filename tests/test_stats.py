"""/stats.get: the dashboard's numbers, checked against a catalogue made at known times."""

import datetime as dt
import io

import pytest
from sqlalchemy import update

from productinfo.photos.models import photos
from productinfo.products.models import products
from tests.helpers import assert_error, assert_ok
from tests.images import encode, halves

# key: (who, maker, added at, photos, deleted)
CATALOGUE = {
    "p1": ("ana", "Ifri", "2026-11-08T10:00:00", 2, False),
    "p2": ("ana", "Ifri", "2026-11-10T23:59:59", 1, False),
    "p3": ("ana", "Ifri", "2026-11-07T23:59:59", 0, False),  # the day before the window
    "p4": ("bob", "Cevital", "2026-11-08T00:00:00", 6, False),
    "p5": ("bob", "Cevital", "2026-11-11T00:00:00", 0, False),  # the day after
    "p6": ("bob", "Cevital", "2026-11-09T12:00:00", 1, True),  # deleted: counted nowhere
}
PHOTOS_TAKEN = {"ana": "2026-11-09T09:00:00", "bob": "2026-11-08T09:00:00"}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.fixture
def world(app, auth, admin):
    people = {"ana": auth.client(name="Ana"), "bob": auth.client(name="Bob")}
    category = assert_ok(admin.post("/categories.add", json={"name": "Food"}))["id"]
    batch = [{"id": 1, "name": "Ifri"}, {"id": 2, "name": "Cevital"}]
    mapping = assert_ok(admin.post("/companies.add", json={"companies": batch}))["mapping"]
    makers = {"Ifri": mapping["1"], "Cevital": mapping["2"]}
    engine = app.extensions["db"].engine
    ids = {}
    for n, (key, (who, maker, added, count, deleted)) in enumerate(CATALOGUE.items()):
        client = people[who]
        body = {
            "name": key,
            "barcode": f"INT-{n}",
            "category_id": category,
            "company_id": makers[maker],
        }
        ids[key] = assert_ok(client.post("/products.add", json=body))["id"]
        for k in range(count):
            image = encode(halves((40 + n, 20 + k)), "PNG")
            form = {"product_id": str(ids[key]), "file": (io.BytesIO(image), "p.png")}
            assert_ok(client.post("/photo.upload", data=form, content_type="multipart/form-data"))
        if deleted:
            assert_ok(client.post("/products.delete", json={"id": ids[key]}))
        with engine.begin() as conn:
            conn.execute(
                update(products).where(products.c.id == ids[key]).values(created_at=at(added))
            )
    with engine.begin() as conn:
        for who, taken in PHOTOS_TAKEN.items():
            user_id = people[who].user["id"]
            conn.execute(
                update(photos).where(photos.c.created_by == user_id).values(created_at=at(taken))
            )
    return {"people": {who: c.user for who, c in people.items()}, "makers": makers}


def person(user, **numbers):
    return {"id": user["id"], "name": user["name"], "email": user["email"], **numbers}


def test_numbers_of_a_window(admin, world):
    ana, bob = world["people"]["ana"], world["people"]["bob"]
    stats = assert_ok(admin.get("/stats.get", query_string={"days": 3, "until": "2026-11-10"}))
    assert (stats["days"], stats["from"], stats["to"]) == (3, "2026-11-08", "2026-11-10")
    assert stats["dates"] == ["2026-11-08", "2026-11-09", "2026-11-10"]
    assert stats["captures_per_day"] == [2, 0, 1]
    assert stats["people"] == [
        person(ana, captures=2, per_day=[1, 0, 1]),
        person(bob, captures=1, per_day=[1, 0, 0]),
    ]
    assert stats["products"] == 5
    assert (stats["products_with_photos"], stats["products_without_photos"]) == (3, 2)
    assert stats["photos_per_product"] == [
        {"photos": 0, "products": 2},
        {"photos": 1, "products": 1},
        {"photos": 2, "products": 1},
        {"photos": 3, "products": 0},
        {"photos": 4, "products": 0},
        {"photos": 5, "products": 1},  # five or more: p4 has six
    ]
    assert stats["top_companies"] == [
        {"id": world["makers"]["Ifri"], "name": "Ifri", "products": 3},
        {"id": world["makers"]["Cevital"], "name": "Cevital", "products": 2},
    ]
    assert stats["week"] == {
        "from": "2026-11-04",
        "to": "2026-11-10",
        # Bob: 7 (the photo of his deleted product left out), Ana: 6.
        "people": [person(bob, captures=1, photos=6), person(ana, captures=3, photos=3)],
    }


def test_every_day_is_there_even_without_captures(admin, world):
    stats = assert_ok(admin.get("/stats.get", query_string={"days": 90, "until": "2026-12-31"}))
    assert len(stats["dates"]) == len(stats["captures_per_day"]) == 90
    assert stats["dates"][0] == "2026-10-03" and stats["dates"][-1] == "2026-12-31"
    assert sum(stats["captures_per_day"]) == 5
    assert all(len(p["per_day"]) == 90 for p in stats["people"])
    assert stats["week"]["people"] == []


def test_the_window_ends_today_by_default(admin, world):
    stats = assert_ok(admin.get("/stats.get"))
    today = dt.datetime.now(dt.UTC).date()
    assert stats["to"] == today.isoformat() and len(stats["dates"]) == 30


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"days": 0}, "days"),
        ({"days": 367}, "days"),
        ({"days": "month"}, "days"),
        ({"until": "2026-02-30"}, "until"),
        ({"until": "soon"}, "until"),
        ({"until": "0"}, "until"),  # not a Unix time
        ({"until": "1700000000"}, "until"),
        ({"until": "2026-11-10T00:00:00Z"}, "until"),  # a day, not a moment
    ],
)
def test_invalid_queries(admin, query, field):
    body = assert_error(admin.get("/stats.get", query_string=query), 422, "validation_failed")
    assert field in body["errors"]


def test_only_admins_see_the_numbers(staff):
    assert_error(staff.get("/stats.get"), 403, "admin_only")
