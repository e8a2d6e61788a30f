import json

import pytest

from productinfo.catalog.schemas import MAX_COMPANIES_PER_REQUEST
from tests.helpers import assert_error, assert_ok


def add_companies(staff, companies, *, form=False):
    if form:
        return staff.post("/companies.add", data={"companies": json.dumps(companies)})
    return staff.post("/companies.add", json={"companies": companies})


def company_names(fetch):
    return sorted(row["name"] for row in fetch("SELECT name FROM companies"))


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_add_companies_maps_local_ids(staff, fetch, form):
    data = assert_ok(
        add_companies(staff, [{"id": 3, "name": "Ifri"}, {"id": 7, "name": "Cevital"}], form=form)
    )
    rows = {row["name"]: row["id"] for row in fetch("SELECT id, name FROM companies")}
    assert data == {"mapping": {"3": rows["Ifri"], "7": rows["Cevital"]}}


def test_add_companies_from_urlencoded_form(staff, fetch):
    response = staff.post(
        "/companies.add",
        data="companies=" + json.dumps([{"id": 1, "name": "Candia"}]),
        content_type="application/x-www-form-urlencoded",
    )
    assert list(assert_ok(response)["mapping"]) == ["1"]
    assert company_names(fetch) == ["Candia"]


def test_existing_name_maps_to_existing_company(staff, fetch):
    first = assert_ok(add_companies(staff, [{"id": 1, "name": "Ifri"}]))["mapping"]["1"]
    again = assert_ok(
        add_companies(staff, [{"id": 9, "name": "  IFRI "}, {"id": 10, "name": "ifri"}])
    )
    assert again["mapping"] == {"9": first, "10": first}
    assert company_names(fetch) == ["Ifri"]


def test_same_batch_sent_twice_creates_nothing_new(staff, fetch):
    batch = [{"id": 1, "name": "Hamoud"}, {"id": 2, "name": "Sommam"}]
    first = assert_ok(add_companies(staff, batch))
    assert assert_ok(add_companies(staff, batch)) == first
    assert company_names(fetch) == ["Hamoud", "Sommam"]


def test_empty_batch_maps_nothing(staff):
    assert assert_ok(add_companies(staff, [])) == {"mapping": {}}


@pytest.mark.parametrize(
    ("companies", "field"),
    [
        ([{"id": 1, "name": "Ok"}, {"id": 2, "name": ""}], "companies[1].name"),
        ([{"id": 1, "name": "Ok"}, {"id": 2, "name": "   "}], "companies[1].name"),
        ([{"id": 1, "name": "x" * 201}], "companies[0].name"),
        ([{"id": 1}], "companies[0].name"),
        ([{"id": "one", "name": "Ok"}], "companies[0].id"),
        ([{"name": "Ok"}], "companies[0].id"),
        ([{"id": 1, "name": 5}], "companies[0].name"),
        (["Ifri"], "companies[0]"),
        ({"id": 1, "name": "Ok"}, "companies"),
        ("Ifri", "companies"),
        (None, "companies"),
        ([{"id": i, "name": f"c{i}"} for i in range(MAX_COMPANIES_PER_REQUEST + 1)], "companies"),
        ([{"id": 1, "name": "Ok"}, {"id": 1, "name": "Other"}], "companies[1].id"),
    ],
)
def test_invalid_batch_names_the_item_and_stores_nothing(staff, fetch, companies, field):
    body = assert_error(add_companies(staff, companies), 422)
    assert field in body["errors"], body
    assert field in body["message"]
    assert company_names(fetch) == []


def test_missing_companies_field(staff):
    body = assert_error(staff.post("/companies.add", json={}), 422, "validation_failed")
    assert body["errors"] == {"companies": "Field required"}


def test_form_field_that_is_not_json(staff, fetch):
    response = staff.post("/companies.add", data={"companies": "[{'id': 1"})
    body = assert_error(response, 422, "validation_failed")
    assert body["errors"] == {"companies": "must be a JSON string"}
    assert company_names(fetch) == []


def test_largest_batch_is_accepted(staff, fetch):
    batch = [{"id": i, "name": f"Company {i}"} for i in range(MAX_COMPANIES_PER_REQUEST)]
    assert len(assert_ok(add_companies(staff, batch))["mapping"]) == MAX_COMPANIES_PER_REQUEST
    assert len(fetch("SELECT id FROM companies")) == MAX_COMPANIES_PER_REQUEST


def test_search_companies_by_any_part_of_name(staff):
    names = ["Cevital", "Sommam", "Hamoud Boualem", "NCA Rouiba", "100% Jus"]
    assert_ok(add_companies(staff, [{"id": i, "name": n} for i, n in enumerate(names)]))

    def found(q):
        return [c["name"] for c in assert_ok(staff.get("/companies.get", query_string={"q": q}))]

    assert found("CEV") == ["Cevital"]
    assert found("ou") == ["Hamoud Boualem", "NCA Rouiba"]
    assert found("mam") == ["Sommam"]
    assert found("%") == ["100% Jus"]  # a LIKE wildcard is an ordinary character
    assert found("_") == []
    assert found("zzz") == []
    assert found("  ") == found("")
    assert len(found("")) == 5


def test_companies_paginate_without_gaps_or_repeats(staff):
    names = [f"Company {i:02}" for i in range(23)]
    assert_ok(add_companies(staff, [{"id": i, "name": n} for i, n in enumerate(names)]))
    seen, cursor = [], None
    while True:
        query = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        body = staff.get("/companies.get", query_string=query).get_json()
        seen += [c["name"] for c in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == names


def test_search_paginates(staff):
    names = ["Alpha Foods", "Beta Foods", "Gamma", "Delta Foods"]
    assert_ok(add_companies(staff, [{"id": i, "name": n} for i, n in enumerate(names)]))
    first = staff.get("/companies.get?q=foods&limit=2").get_json()
    second = staff.get(f"/companies.get?q=foods&limit=2&cursor={first['next_cursor']}").get_json()
    assert [c["name"] for c in first["data"] + second["data"]] == [
        "Alpha Foods",
        "Beta Foods",
        "Delta Foods",
    ]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=201", "limit=-1", "cursor=%%%", "q=" + "x" * 201],
)
def test_companies_get_rejects_bad_query(staff, query):
    code = "invalid_cursor" if query.startswith("cursor=") else "validation_failed"
    assert_error(staff.get(f"/companies.get?{query}"), 422, code)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Trèfle", "Tre\u0300fle"),  # composed, then e and a combining grave accent
        ("Ifri", "ＩＦＲＩ"),  # full width
        ("Straße", "STRASSE"),
        ("ﬁrst", "First"),  # a ligature
        ("Ifri", "If\u200dri"),  # a joiner, invisible
    ],
)
@pytest.mark.parametrize("device", [None, "3f2b6c1e-8d4a-4f7e-9b0a-2c5d7e9f1a3b"])
def test_names_compare_as_people_read_them(staff, fetch, first, second, device):
    body = {"device_id": device} if device else {}
    one = assert_ok(
        staff.post("/companies.add", json={**body, "companies": [{"id": 1, "name": first}]})
    )
    two = assert_ok(
        staff.post("/companies.add", json={**body, "companies": [{"id": 2, "name": second}]})
    )
    assert two["mapping"]["2"] == one["mapping"]["1"]
    assert company_names(fetch) == [first]
    found = assert_ok(staff.get("/companies.get", query_string={"q": second}))
    assert [company["name"] for company in found] == [first]


def test_categories_compare_as_people_read_them(admin):
    assert_ok(admin.post("/categories.add", json={"name": "Lait Trèfle"}))
    assert_error(admin.post("/categories.add", json={"name": "ＬＡＩＴ Tre\u0300fle"}), 409)
