"""Names, barcodes and ids refuse control characters, alike on both databases, naming the field.

Postgres cannot store a NUL and SQLite can: refused at validation, a value never
reaches either. In a push, the record that holds one gets its own error and the
others are stored.
"""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from productinfo.fields import NAME_MAX, NAME_PATTERN, LocalId, Name
from tests.helpers import assert_error, assert_ok

DEVICE = "3f2b6c1e-8d4a-4f7e-9b0a-2c5d7e9f1a3b"
REFUSED = ["\x00", "\x07", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\u200b", "\u202e", "\ufeff"]


@pytest.fixture
def refs(admin):
    category = assert_ok(admin.post("/categories.add", json={"name": "Beverages"}))["id"]
    companies = {"companies": [{"id": 1, "name": "Ifri"}]}
    company = assert_ok(admin.post("/companies.add", json=companies))["mapping"]["1"]
    return {"category_id": category, "company_id": company}


@pytest.mark.parametrize("character", REFUSED)
def test_one_bad_character_sinks_only_its_own_record(staff, refs, fetch, character):
    products = [
        {"local_id": 1, "name": "Ifri 1L", "barcode": "5449000000996", **refs},
        {"local_id": 2, "name": f"Ifri{character}2L", "barcode": "036000291452", **refs},
        {"local_id": 3, "name": "Ifri 3L", "barcode": f"9638{character}5074", **refs},
        {"local_id": f"4{character}", "name": "Ifri 4L", "barcode": "4006381333931", **refs},
    ]
    answer = assert_ok(
        staff.post("/products.add", json={"device_id": DEVICE, "products": products})
    )
    assert [(r["status"], r["field"]) for r in answer["results"]] == [
        ("created", None),
        ("error", "products[1].name"),
        ("error", "products[2].barcode"),
        ("error", "products[3].local_id"),
    ]
    assert "control characters" in answer["results"][1]["message"]
    assert [row["name"] for row in fetch("SELECT name FROM products")] == ["Ifri 1L"]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        (
            "post",
            "/companies.add",
            {"companies": [{"id": 1, "name": "a\x00b"}]},
            "companies[0].name",
        ),
        ("post", "/products.add", {"name": "a\x00b", "barcode": "1"}, "name"),
        ("post", "/products.add", {"name": "ab", "barcode": "12\x0034"}, "barcode"),
        ("get", "/products.getByBarcode/12%0034", None, "barcode"),
        ("get", "/products.search?q=a%00b", None, "q"),
        ("get", "/companies.get?q=a%00b", None, "q"),
        ("get", "/users.history?kind=a%00b", None, "kind"),
    ],
)
def test_a_control_character_elsewhere_is_a_422_naming_the_field(
    staff, refs, method, path, body, field
):
    if body and path == "/products.add":
        body = {**body, **refs}
    response = getattr(staff, method)(path, json=body)
    assert field in assert_error(response, 422, "validation_failed")["errors"]


@pytest.mark.parametrize("path", ["/categories.add", "/categories.update"])
def test_categories_refuse_a_nul(admin, fetch, path):
    response = admin.post(path, data={"id": "1", "name": "x\x00y"})
    assert assert_error(response, 422)["errors"] == {
        "name": "must not contain control characters (U+0000 at character 2)"
    }
    assert fetch("SELECT id FROM categories") == []


def test_a_lone_surrogate_is_no_text(staff):
    response = staff.post(
        "/companies.add",
        data='{"companies": [{"id": 1, "name": "\\udc00"}]}',
        content_type="application/json",
    )
    assert_error(response, 400, "malformed_json")


def test_a_nul_in_an_address_at_sign_in_is_an_unknown_account(client):
    response = client.post("/users.login", json={"email": "a\x00@b.c", "password": "x"})
    assert_error(response, 401, "invalid_credentials")


def test_names_keep_the_characters_scripts_need(staff, fetch):
    names = ["می\u200cخواهم", "Ifri \u200fلبن", "👩\u200d🍳 Chef"]  # ZWNJ, RLM, ZWJ
    batch = [{"id": n, "name": name} for n, name in enumerate(names)]
    assert_ok(staff.post("/companies.add", json={"companies": batch}))
    assert sorted(row["name"] for row in fetch("SELECT name FROM companies")) == sorted(names)


names = TypeAdapter(Name)


@given(st.text(max_size=NAME_MAX + 5))
def test_the_name_pattern_says_exactly_what_is_accepted(text):
    # The document's pattern, as JSON Schema reads it (a search, with `$` at the very end).
    documented = len(text) <= NAME_MAX and re.search(NAME_PATTERN[:-1] + r"\Z", text)
    try:
        names.validate_python(text)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == bool(documented)


@given(st.text(min_size=1, max_size=64))
def test_local_ids_refuse_what_their_pattern_refuses(text):
    documented = TypeAdapter(LocalId).json_schema()["anyOf"][1]["pattern"]
    try:
        TypeAdapter(LocalId).validate_python(text)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == bool(re.search(documented[:-1] + r"\Z", text))
