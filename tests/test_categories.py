import pytest

from tests.helpers import assert_error, assert_ok


def add_category(admin, name):
    return admin.post("/categories.add", json={"name": name})


def test_add_and_get_category(admin, fetch):
    created = assert_ok(add_category(admin, "  Dairy  products "))
    assert created["name"] == "Dairy products"
    assert created["created_at"].endswith("Z")

    assert assert_ok(admin.get(f"/categories.getById/{created['id']}")) == created
    rows = fetch("SELECT name, name_key FROM categories")
    assert [dict(row) for row in rows] == [{"name": "Dairy products", "name_key": "dairy products"}]


def test_add_category_from_form(admin):
    created = assert_ok(admin.post("/categories.add", data={"name": "Food"}))
    assert created["name"] == "Food"


def test_duplicate_category_is_conflict_with_existing(admin, fetch):
    first = assert_ok(add_category(admin, "Beverages"))
    body = assert_error(add_category(admin, " BEVERAGES "), 409, "category_exists")
    assert body["data"] == first
    assert len(fetch("SELECT id FROM categories")) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 12}, "name"),
        ({"name": ["Food"]}, "name"),
    ],
)
def test_add_category_rejects_bad_names(admin, fetch, body, field):
    error = assert_error(admin.post("/categories.add", json=body), 422, "validation_failed")
    assert list(error["errors"]) == [field]
    assert fetch("SELECT id FROM categories") == []


def test_categories_listed_in_name_order(admin):
    for name in ["Vegetables", "beverages", "Food", "Furniture"]:
        assert_ok(add_category(admin, name))
    response = admin.get("/categories.get")
    names = [c["name"] for c in assert_ok(response)]
    assert names == ["beverages", "Food", "Furniture", "Vegetables"]
    assert response.get_json()["next_cursor"] is None


def test_categories_paginate(admin):
    for name in ["A", "B", "C"]:
        assert_ok(add_category(admin, name))
    first = admin.get("/categories.get?limit=2").get_json()
    assert [c["name"] for c in first["data"]] == ["A", "B"]
    second = admin.get(f"/categories.get?limit=2&cursor={first['next_cursor']}").get_json()
    assert [c["name"] for c in second["data"]] == ["C"]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/categories.getById/999", 404, "category_not_found"),
        ("/categories.getById/abc", 422, "validation_failed"),
        ("/categories.get?limit=0", 422, "validation_failed"),
        ("/categories.get?limit=501", 422, "validation_failed"),
        ("/categories.get?limit=ten", 422, "validation_failed"),
        ("/categories.get?cursor=not-a-cursor", 422, "invalid_cursor"),
        ("/categories.get?cursor=WyJhIl0", 422, "invalid_cursor"),  # ["a"]: wrong shape
    ],
)
def test_category_read_errors(admin, path, status, code):
    assert_error(admin.get(path), status, code)
