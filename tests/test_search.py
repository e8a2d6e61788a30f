"""Search finds exactly what the plain query finds, page by page, whatever the term holds."""

import datetime as dt

import pytest
from sqlalchemy import insert, or_, select, text

from productinfo.catalog.models import categories, companies
from productinfo.catalog.service import name_key
from productinfo.products.models import products
from tests.helpers import assert_ok

START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
MAKERS = ["Ifri", "Danone", "Dan Pack", "Co-op Foods", "شركة حليب الجزائر", "ＳＯＭ 50%", "Tea_Co"]
# (name, maker): names by name only, by maker only, by both, with LIKE and FTS5 syntax in them.
NAMED = [
    ("Milk half skimmed", "Danone"),
    ("Lben Ifri", "Ifri"),
    ("Yaourt 50% off", "Dan Pack"),
    ("a_b pack", "Co-op Foods"),
    ("c\\d juice", "Ifri"),
    ("L'eau minérale", "Tea_Co"),
    ('Say "hi" soda', "Danone"),
    ("Milk AND tea", "ＳＯＭ 50%"),
    ("NEAR(milk, tea) bar", "Dan Pack"),
    ("Star * cookie", "Ifri"),
    ("Co-op flour", "Danone"),
    ("حليب كامل", "شركة حليب الجزائر"),
    ("ＬＢＥＮ fermented", "Ifri"),
    ("Thé ℃ hot", "Tea_Co"),
    ("Tea - green", "Ifri"),
    *((f"Couscous fin {n}", MAKERS[n % len(MAKERS)]) for n in range(1, 13)),
    ("Milk gone", "Danone"),  # deleted below
]
TERMS = [
    *("m", "mi", "é", "-", "*", "%", "_", "\\", '"', "'", "ｍ"),  # one character
    *("ilk", "milk", "MILK", "ｍｉｌｋ", "lben", "ifri", "dan", "co-op", "couscous", "fin 1"),
    *("50%", "0% o", "a_b", "_co", "c\\d", "l'eau", '"hi"', 'y "h', "and", "milk and tea"),
    *("near(", "near(milk", "star *", "* c", "tea -", "حليب", "حل", "ＬＢＥ", "℃", "°c", "c h"),
    *("couscous fin 12", "xylophone", "milk gone", "soda OR milk", "tea NOT green", "^mil"),
    *("tea milk", "and milk", "pack a_b", "fin  12", "فين", "half milk", "dan pack"),
]


@pytest.fixture
def catalogue(app, auth, admin):
    """Products of two people, one a week, of several makers; the last one deleted."""
    people = [auth.client(name="Ana"), auth.client(name="Bob")]
    with app.extensions["db"].engine.begin() as conn:
        category = conn.execute(
            insert(categories)
            .values(name="Food", name_key="food", created_at=START)
            .values(updated_at=START)
            .returning(categories.c.id)
        ).scalar_one()
        makers = {}
        for name in MAKERS:
            row = {"name": name, "name_key": name_key(name), "created_at": START}
            makers[name] = conn.execute(
                insert(companies).values(**row, updated_at=START).returning(companies.c.id)
            ).scalar_one()
        for n, (name, maker) in enumerate(NAMED):
            at = START + dt.timedelta(weeks=n)
            row = {
                "name": name,
                "name_key": name_key(name),
                "barcode": f"S{n}",
                "barcode_key": f"S{n}",
                "category_id": category,
                "company_id": makers[maker],
                "created_by": people[n % 2].user["id"],
                "created_at": at,
                "updated_at": at,
            }
            conn.execute(insert(products).values(**row))
    assert_ok(admin.post("/products.delete", json={"id": len(NAMED)}))
    return {
        "people": people,
        "admin": admin,
        "makers": makers,
        "users": [p.user["id"] for p in people],
    }


def plain_search(app, term: str, **filters) -> list[int]:
    """Return the ids the plain query finds, newest first: the oracle."""
    folded = name_key(term)
    makers = select(companies.c.id).where(companies.c.name_key.contains(folded, autoescape=True))
    query = select(products.c.id).where(
        products.c.deleted_at.is_(None),
        or_(
            products.c.name_key.contains(folded, autoescape=True),
            products.c.company_id.in_(makers),
        ),
    )
    for column in ("created_by", "company_id"):
        if column in filters:
            query = query.where(products.c[column] == filters[column])
    if "from" in filters:
        query = query.where(products.c.created_at >= dt.datetime.fromisoformat(filters["from"]))
    if "to" in filters:
        query = query.where(products.c.created_at < dt.datetime.fromisoformat(filters["to"]))
    with app.extensions["db"].engine.connect() as conn:
        return conn.execute(query.order_by(products.c.id.desc())).scalars().all()


def searched(client, term: str, *, limit: int = 2, **filters) -> list[int]:
    """Return the ids of every page of a search, following the cursors."""
    ids, cursor = [], ""
    while True:
        params = {"q": term, "limit": limit, "cursor": cursor, **filters}
        body = client.get("/products.search", query_string=params).get_json()
        assert body["status"] == 200, body
        ids += [product["id"] for product in body["data"]]
        if body["next_cursor"] is None:
            return ids
        cursor = body["next_cursor"]


def test_every_term_finds_what_the_plain_query_finds(app, catalogue):
    client = catalogue["people"][0]
    for term in TERMS:
        assert searched(client, term) == plain_search(app, term), term
    # Some terms find nothing, some find many: the catalogue covers both.
    assert plain_search(app, "xylophone") == []
    assert len(plain_search(app, "couscous")) == 12
    assert len(plain_search(app, "dan")) > len(plain_search(app, "danone"))


@pytest.mark.parametrize(
    "filters",
    [
        {"created_by": 0},
        {"created_by": 1},
        {"company_id": "Ifri"},
        {"from": "2026-11-01T00:00:00+00:00"},
        {"to": "2026-12-01T00:00:00+00:00"},
        {"created_by": 1, "from": "2026-10-20T00:00:00+00:00", "to": "2027-02-01T00:00:00+00:00"},
    ],
)
def test_filters_apply_to_both_branches(app, catalogue, filters):
    client = catalogue["people"][1]
    if "created_by" in filters:
        filters = {**filters, "created_by": catalogue["users"][filters["created_by"]]}
    if "company_id" in filters:
        filters = {**filters, "company_id": catalogue["makers"][filters["company_id"]]}
    for term in ("milk", "ifri", "couscous", "tea", "dan", "m", "50%"):
        wire = {
            key: value.replace("+00:00", "Z") if isinstance(value, str) else value
            for key, value in filters.items()
        }
        assert searched(client, term, limit=1, **wire) == plain_search(app, term, **filters)


def test_renamed_and_deleted_products_and_renamed_makers(app, catalogue, fetch):
    client, admin = catalogue["people"][0], catalogue["admin"]
    milk = searched(client, "skimmed")
    assert len(milk) == 1
    assert_ok(admin.post("/products.update", json={"id": milk[0], "name": "Leben frais"}))
    assert searched(client, "skimmed") == []
    assert searched(client, "leben fr") == milk

    # An admin corrects a maker's name in the database: its products follow.
    with app.extensions["db"].engine.begin() as conn:
        conn.execute(
            text("UPDATE companies SET name = 'Hamoud', name_key = 'hamoud' WHERE id = :id"),
            {"id": catalogue["makers"]["Tea_Co"]},
        )
    assert searched(client, "tea_co") == []
    hamoud = searched(client, "hamoud")
    assert len(hamoud) == 3
    assert hamoud == plain_search(app, "hamoud")

    assert_ok(admin.post("/products.delete", json={"id": hamoud[0]}))
    assert searched(client, "hamoud") == hamoud[1:]
    # Hard deletes leave no stale index entry behind (SQLite's index is kept by triggers).
    with app.extensions["db"].engine.begin() as conn:
        conn.execute(text("DELETE FROM products WHERE id = :id"), {"id": hamoud[1]})
    assert searched(client, "hamoud") == hamoud[2:] == plain_search(app, "hamoud")
    for term in TERMS:
        assert searched(client, term, limit=3) == plain_search(app, term), term
