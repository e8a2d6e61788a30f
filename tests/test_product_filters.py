"""Filters of the product lists and the export: who added them, category, maker, when."""

import csv
import datetime as dt
import io
import json

import pytest
from sqlalchemy import update

from productinfo.products.models import products
from tests.helpers import assert_error, assert_ok

ADDED = {
    "p1": ("ana", "Food", "Ifri", "2026-10-01T10:00:00"),
    "p2": ("ana", "Drinks", "Ifri", "2026-10-15T00:00:00"),
    "p3": ("bob", "Food", "Cevital", "2026-10-31T23:59:59"),
    "p4": ("bob", "Drinks", "Cevital", "2026-11-01T00:00:00"),
}


@pytest.fixture
def world(app, auth, admin):
    """Four products of two people, two categories and two makers, added at known times."""
    people = {"ana": auth.client(name="Ana"), "bob": auth.client(name="Bob")}
    categories = {
        name: assert_ok(admin.post("/categories.add", json={"name": name}))["id"]
        for name in ("Food", "Drinks")
    }
    batch = [{"id": 1, "name": "Ifri"}, {"id": 2, "name": "Cevital"}]
    mapping = assert_ok(admin.post("/companies.add", json={"companies": batch}))["mapping"]
    companies = {"Ifri": mapping["1"], "Cevital": mapping["2"]}
    ids = {}
    for n, (key, (who, category, company, when)) in enumerate(ADDED.items()):
        body = {
            "name": f"Water {key}",
            "barcode": f"INT-{n}",
            "category_id": categories[category],
            "company_id": companies[company],
        }
        ids[key] = assert_ok(people[who].post("/products.add", json=body))["id"]
        at = dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC)
        with app.extensions["db"].engine.begin() as conn:
            conn.execute(update(products).where(products.c.id == ids[key]).values(created_at=at))
    users = {who: client.user["id"] for who, client in people.items()}
    return {
        "ids": ids,
        "users": users,
        "categories": categories,
        "companies": companies,
        "people": people,
    }


def resolve(world, query: dict) -> dict:
    """Put the world's ids in place of the names a scenario uses."""
    lookup = {"created_by": "users", "category_id": "categories", "company_id": "companies"}
    return {
        key: world[lookup[key]][value] if key in lookup else value for key, value in query.items()
    }


def names(products):
    return [p["name"].removeprefix("Water ") for p in products]


SCENARIOS = [
    ({"created_by": "ana"}, ["p2", "p1"]),
    ({"created_by": "bob", "category_id": "Food"}, ["p3"]),
    ({"company_id": "Cevital"}, ["p4", "p3"]),
    ({"from": "2026-10-15"}, ["p4", "p3", "p2"]),  # from is inclusive
    ({"to": "2026-11-01T00:00:00Z"}, ["p3", "p2", "p1"]),  # to is exclusive
    ({"from": "2026-10-15", "to": "2026-11-01"}, ["p3", "p2"]),
    ({"from": "2026-10-15T01:00:00+01:00"}, ["p4", "p3", "p2"]),  # an offset, read as UTC
    ({"from": "2026-10-31T23:59:59.5"}, ["p4"]),  # no offset: UTC
    ({"created_by": "ana", "from": "2026-11-01"}, []),
]


@pytest.mark.parametrize(("query", "expected"), SCENARIOS)
def test_history_filters(admin, world, query, expected):
    found = assert_ok(
        admin.get("/products.history", query_string={"scope": "all", **resolve(world, query)})
    )
    assert names(found) == expected


@pytest.mark.parametrize(("query", "expected"), SCENARIOS)
def test_search_filters(admin, world, query, expected):
    found = assert_ok(
        admin.get("/products.search", query_string={"q": "water", **resolve(world, query)})
    )
    assert names(found) == expected


@pytest.mark.parametrize(("query", "expected"), SCENARIOS[:6])
def test_export_filters(admin, world, query, expected):
    response = admin.get(
        "/products.export", query_string={"format": "csv", **resolve(world, query)}
    )
    assert response.status_code == 200
    rows = csv.DictReader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff")))
    # The export comes oldest first.
    assert [row["name"].removeprefix("Water ") for row in rows] == list(reversed(expected))


def test_export_of_a_search(admin, world):
    assert_ok(admin.post("/products.update", json={"id": world["ids"]["p2"], "name": "Juice p2"}))
    response = admin.get("/products.export", query_string={"format": "json", "q": "juice"})
    assert [p["id"] for p in json.loads(response.get_data())["data"]] == [world["ids"]["p2"]]
    response = admin.get(
        "/products.export",
        query_string={"format": "json", "q": "water", "created_by": world["users"]["bob"]},
    )
    # A search's export comes newest first, as the search does.
    exported = json.loads(response.get_data())["data"]
    assert [p["id"] for p in exported] == [world["ids"]["p4"], world["ids"]["p3"]]


def test_mine_with_myself_as_creator(world):
    ana = world["people"]["ana"]
    found = assert_ok(
        ana.get("/products.history", query_string={"created_by": world["users"]["ana"]})
    )
    assert names(found) == ["p2", "p1"]


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ({"scope": "mine", "created_by": "bob"}, "created_by", "conflicting_filters"),
        ({"scope": "all", "from": "yesterday"}, "from", "validation_failed"),
        ({"scope": "all", "from": "1700000000"}, "from", "validation_failed"),
        ({"scope": "all", "to": "2026-13-01"}, "to", "validation_failed"),
        ({"scope": "all", "from": "2026-11-01", "to": "2026-11-01"}, "to", "empty_period"),
        ({"scope": "all", "from": "2026-11-02", "to": "2026-11-01"}, "to", "empty_period"),
        ({"scope": "all", "created_by": "0"}, "created_by", "validation_failed"),
        ({"scope": "all", "company_id": "x"}, "company_id", "validation_failed"),
    ],
)
def test_invalid_filters(world, query, field, code):
    ana = world["people"]["ana"]
    query = {k: world["users"].get(v, v) if k == "created_by" else v for k, v in query.items()}
    body = assert_error(ana.get("/products.history", query_string=query), 422, code)
    assert field in body["errors"], body
    if code == "validation_failed":  # the same mistakes in a search
        query.pop("scope")
        search = assert_error(ana.get("/products.search", query_string={"q": "w", **query}), 422)
        assert field in search["errors"], search
