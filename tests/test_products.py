import csv
import io
import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import ean

from productinfo.products.schemas import MAX_PRODUCTS_PER_REQUEST
from tests.helpers import Auth, assert_error, assert_ok

COKE = "5449000000996"  # EAN-13
UPC = "036000291452"  # UPC-A, the same GTIN as EAN-13 0036000291452


@pytest.fixture
def refs(admin):
    """A category and a company to file products under."""
    category = assert_ok(admin.post("/categories.add", json={"name": "Beverages"}))
    other_category = assert_ok(admin.post("/categories.add", json={"name": "Food"}))
    mapping = assert_ok(
        admin.post(
            "/companies.add",
            json={"companies": [{"id": 1, "name": "Hamoud"}, {"id": 2, "name": "Cevital"}]},
        )
    )["mapping"]
    return {
        "category_id": category["id"],
        "other_category_id": other_category["id"],
        "company_id": mapping["1"],
        "other_company_id": mapping["2"],
    }


def product(refs, **changes):
    return {
        "name": "Selecto 1L",
        "barcode": COKE,
        "category_id": refs["category_id"],
        "company_id": refs["company_id"],
        **changes,
    }


def add(client, refs, **changes):
    return client.post("/products.add", json=product(refs, **changes))


def test_add_a_product(staff, refs, fetch):
    data = assert_ok(add(staff, refs, name="  Selecto   1L ", barcode="5449-0000 00996"))
    assert data["name"] == "Selecto 1L"
    assert data["barcode"] == COKE
    assert data["category"] == {"id": refs["category_id"], "name": "Beverages"}
    assert data["company"] == {"id": refs["company_id"], "name": "Hamoud"}
    assert data["created_by"]["id"] == staff.user["id"]
    assert data["created_at"].endswith("Z")
    [row] = fetch("SELECT barcode, barcode_key, created_by FROM products")
    assert dict(row) == {"barcode": COKE, "barcode_key": "0" + COKE, "created_by": staff.user["id"]}
    assert assert_ok(staff.get("/users.me"))["stats"]["products_added"] == 1


def test_add_with_form_data(staff, refs):
    data = assert_ok(staff.post("/products.add", data=product(refs)))
    assert data["barcode"] == COKE


def test_add_many_all_or_none(staff, refs, fetch):
    many = [product(refs, barcode=COKE), product(refs, name="Coca", barcode=UPC)]
    data = assert_ok(staff.post("/products.add", json={"products": many}))
    assert [p["barcode"] for p in data] == [COKE, UPC]

    bad = [product(refs, barcode="96385074"), product(refs, barcode="12345", category_id=999)]
    error = assert_error(
        staff.post("/products.add", json={"products": bad}), 422, "unknown_category"
    )
    assert list(error["errors"]) == ["products[1].category_id"]
    assert len(fetch("SELECT id FROM products")) == 2


def test_add_many_from_a_form_field(staff, refs):
    many = [product(refs, barcode="96385074")]
    data = assert_ok(staff.post("/products.add", data={"products": json.dumps(many)}))
    assert len(data) == 1


def test_taken_barcode_is_409_with_the_existing_product(staff, auth, refs, fetch):
    first = assert_ok(add(staff, refs, barcode=UPC))
    colleague = auth.client()
    response = add(colleague, refs, name="Another name", barcode="0" + UPC)  # the EAN-13 form
    error = assert_error(response, 409, "barcode_taken")
    assert error["data"] == first
    assert error["data"]["created_by"]["email"] == staff.user["email"]
    assert list(error["errors"]) == ["barcode"]
    assert len(fetch("SELECT id FROM products")) == 1


def test_taken_barcode_in_a_batch_names_the_item(staff, refs, fetch):
    assert_ok(add(staff, refs, barcode=COKE))
    many = [product(refs, barcode="96385074"), product(refs, barcode=COKE)]
    error = assert_error(staff.post("/products.add", json={"products": many}), 409, "barcode_taken")
    assert list(error["errors"]) == ["products[1].barcode"]
    assert len(fetch("SELECT id FROM products")) == 1


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"barcode": "5449000000997"}, "barcode", "invalid_check_digit"),
        ({"barcode": " - "}, "barcode", "validation_failed"),
        ({"barcode": ""}, "barcode", "validation_failed"),
        ({"barcode": "x" * 65}, "barcode", "validation_failed"),
        ({"name": ""}, "name", "validation_failed"),
        ({"name": "x" * 201}, "name", "validation_failed"),
        ({"category_id": 999}, "category_id", "unknown_category"),
        ({"company_id": 999}, "company_id", "unknown_company"),
        ({"company_id": "Hamoud"}, "company_id", "validation_failed"),
        ({"category_id": None}, "category_id", "validation_failed"),
    ],
)
def test_add_rejects_bad_fields(staff, refs, fetch, changes, field, code):
    error = assert_error(add(staff, refs, **changes), 422, code)
    assert field in error["errors"]
    assert fetch("SELECT id FROM products") == []


def test_wrong_check_digit_names_the_expected_digit(staff, refs):
    error = assert_error(add(staff, refs, barcode="5449000000997"), 422, "invalid_check_digit")
    assert "should be 6" in error["errors"]["barcode"]


@pytest.mark.parametrize(("mode", "stored"), [("warn", True), ("off", True)])
def test_check_digit_modes(make_app, mode, stored):
    app = make_app(BARCODE_CHECKSUM=mode)
    auth = Auth(app)
    admin = auth.client("admin")
    category = assert_ok(admin.post("/categories.add", json={"name": "Food"}))
    company = assert_ok(
        admin.post("/companies.add", json={"companies": [{"id": 1, "name": "Ifri"}]})
    )
    body = {
        "name": "Water",
        "barcode": "5449000000997",
        "category_id": category["id"],
        "company_id": company["mapping"]["1"],
    }
    response = admin.post("/products.add", json=body)
    assert assert_ok(response)["barcode"] == "5449000000997"
    assert ("should be 6" in response.get_json()["message"]) == (mode == "warn")


def test_duplicate_barcodes_within_a_batch(staff, refs):
    many = [product(refs, barcode=UPC), product(refs, barcode="0" + UPC)]
    error = assert_error(
        staff.post("/products.add", json={"products": many}), 422, "duplicate_barcode"
    )
    assert list(error["errors"]) == ["products[1].barcode"]


@pytest.mark.parametrize(
    "body",
    [{}, {"products": []}, {"products": "nope"}, {"products": [{"name": "x"}]}],
)
def test_add_rejects_bad_bodies(staff, body):
    assert_error(staff.post("/products.add", json=body), 422, "validation_failed")


def test_batch_size_is_capped(staff, refs):
    many = [product(refs, barcode=str(n)) for n in range(MAX_PRODUCTS_PER_REQUEST + 1)]
    error = assert_error(staff.post("/products.add", json={"products": many}), 422)
    assert "products" in error["errors"]


@pytest.mark.parametrize(
    "printed", [UPC, "0" + UPC, "00" + UPC, "0 036000 291452", "0-036000-29145-2"]
)
def test_lookup_finds_any_printed_form(staff, refs, printed):
    added = assert_ok(add(staff, refs, barcode=UPC))
    assert assert_ok(staff.get(f"/products.getByBarcode/{printed}")) == added


DIET_COKE = ("04963406", "049000006346")  # its UPC-E, and that UPC-E's UPC-A


@pytest.mark.parametrize(
    ("typed", "other"), [DIET_COKE, DIET_COKE[::-1], (DIET_COKE[0], "0" + DIET_COKE[1])]
)
def test_a_upc_e_and_its_upc_a_are_one_product(staff, refs, typed, other):
    added = assert_ok(add(staff, refs, barcode=typed))
    assert added["barcode"] == typed
    assert assert_ok(staff.get(f"/products.getByBarcode/{other}"))["id"] == added["id"]
    assert_error(add(staff, refs, barcode=other), 409, "barcode_taken")


@pytest.mark.parametrize(
    "typed",
    [
        "٦١٣٠٢٣٤٠٠٠٠٧٢",  # Arabic-Indic digits
        "۶۱۳۰۲۳۴۰۰۰۰۷۲",  # Eastern Arabic-Indic
        "６１３０２３４００００７２",  # full width
        "6\u2013130234\u2011000072",  # en dash, non-breaking hyphen
        "6\u00a0130234\u3000000072",  # no-break space, ideographic space
    ],
)
def test_digits_of_any_script_are_the_printed_code(staff, refs, fetch, typed):
    added = assert_ok(add(staff, refs, barcode=typed))
    assert added["barcode"] == "6130234000072"
    assert assert_ok(staff.get("/products.getByBarcode/6130234000072"))["id"] == added["id"]
    assert assert_ok(staff.get(f"/products.getByBarcode/{quote(typed)}"))["id"] == added["id"]
    assert_error(add(staff, refs, barcode="6130234000072"), 409, "barcode_taken")


def test_a_code_with_a_slash_is_found_too(staff, refs):
    added = assert_ok(add(staff, refs, barcode="AB/12"))
    assert assert_ok(staff.get("/products.getByBarcode/AB/12"))["id"] == added["id"]


def test_lookup_of_an_unknown_barcode(staff):
    error = assert_error(staff.get("/products.getByBarcode/96385074"), 404, "product_not_found")
    assert "96385074" in error["message"]
    assert_error(staff.get("/products.getByBarcode/96385075"), 422, "invalid_check_digit")


@settings(
    max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(body=st.text("0123456789", min_size=11, max_size=11))
def test_every_printed_form_finds_the_same_product(staff, refs, fetch, body):
    upc = body + ean.calc_check_digit(body)
    added = staff.post("/products.add", json=product(refs, barcode=upc))
    if added.status_code == 409:  # an earlier example drew the same GTIN
        added_product = added.get_json()["data"]
    else:
        added_product = assert_ok(added)
    for printed in (upc, "0" + upc, "00" + upc, f"{upc[:6]} {upc[6:]}", f"0-{upc}"):
        assert (
            assert_ok(staff.get(f"/products.getByBarcode/{printed}"))["id"] == added_product["id"]
        )


def test_get_by_id(staff, refs):
    added = assert_ok(add(staff, refs))
    assert assert_ok(staff.get(f"/products.getById/{added['id']}")) == added
    assert_error(staff.get("/products.getById/999"), 404, "product_not_found")
    assert_error(staff.get("/products.getById/abc"), 422, "validation_failed")


def add_several(client, refs, count, start=0, **changes):
    ids = []
    for n in range(start, start + count):
        body = product(refs, name=f"Product {n}", barcode=f"CODE{n}", **changes)
        ids.append(assert_ok(client.post("/products.add", json=body))["id"])
    return ids


def test_history_is_mine_by_default_newest_first_and_paginated(staff, auth, refs):
    mine = add_several(staff, refs, 5)
    colleague = auth.client()
    theirs = add_several(colleague, refs, 2, start=100)

    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = staff.get("/products.history", query_string=query).get_json()
        seen += [p["id"] for p in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(mine))
    everyone = [p["id"] for p in assert_ok(staff.get("/products.history?scope=all"))]
    assert everyone == list(reversed(mine + theirs))


def test_history_filters(staff, refs):
    plain = add_several(staff, refs, 2)
    food = add_several(staff, refs, 2, start=10, category_id=refs["other_category_id"])
    cevital = add_several(staff, refs, 1, start=20, company_id=refs["other_company_id"])
    by_category = assert_ok(staff.get(f"/products.history?category_id={refs['other_category_id']}"))
    assert [p["id"] for p in by_category] == list(reversed(food))
    by_company = assert_ok(staff.get(f"/products.history?company_id={refs['other_company_id']}"))
    assert [p["id"] for p in by_company] == cevital
    assert len(assert_ok(staff.get("/products.history"))) == len(plain + food + cevital)


@pytest.mark.parametrize(
    "query", ["scope=theirs", "limit=0", "limit=201", "category_id=x", "cursor=bad"]
)
def test_history_rejects_bad_queries(staff, query):
    code = "invalid_cursor" if query.startswith("cursor=") else "validation_failed"
    assert_error(staff.get(f"/products.history?{query}"), 422, code)


def test_search_by_name_or_maker(staff, refs):
    juice = assert_ok(add(staff, refs, name="Jus d'Orange", barcode="A1"))
    oil = assert_ok(
        add(staff, refs, name="Huile Elio", barcode="A2", company_id=refs["other_company_id"])
    )
    percent = assert_ok(add(staff, refs, name="100% pur", barcode="A3"))

    def found(q):
        return [p["id"] for p in assert_ok(staff.get("/products.search", query_string={"q": q}))]

    assert found("ORANGE") == [juice["id"]]
    assert found("cevital") == [oil["id"]]  # the maker's name
    assert found("ham") == [percent["id"], juice["id"]]  # Hamoud, newest first
    assert found("%") == [percent["id"]]
    assert found("zzz") == []
    assert_error(staff.get("/products.search?q="), 422, "validation_failed")
    assert_error(staff.get("/products.search"), 422, "validation_failed")


def test_update_by_the_uploader(staff, refs, fetch):
    added = assert_ok(add(staff, refs))
    changes = {
        "id": added["id"],
        "name": "Selecto 2L",
        "barcode": UPC,
        "company_id": refs["other_company_id"],
    }
    updated = assert_ok(staff.post("/products.update", json=changes))
    assert (updated["name"], updated["barcode"], updated["company"]["name"]) == (
        "Selecto 2L",
        UPC,
        "Cevital",
    )
    assert updated["category"] == added["category"]
    assert updated["updated_at"] >= added["updated_at"]
    assert fetch("SELECT barcode_key FROM products")[0]["barcode_key"] == "00" + UPC
    assert assert_ok(staff.get(f"/products.getByBarcode/0{UPC}"))["id"] == added["id"]


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({}, 422, "nothing_to_update"),
        ({"created_by": 1}, 422, "validation_failed"),
        ({"created_at": "2020-01-01T00:00:00Z"}, 422, "validation_failed"),
        ({"barcode": "5449000000997"}, 422, "invalid_check_digit"),
        ({"category_id": 999}, 422, "unknown_category"),
        ({"name": None}, 422, "validation_failed"),
        ({"name": ""}, 422, "validation_failed"),
    ],
)
def test_update_rejects(staff, refs, fetch, changes, status, code):
    added = assert_ok(add(staff, refs))
    assert_error(staff.post("/products.update", json={"id": added["id"], **changes}), status, code)
    assert fetch("SELECT name, barcode FROM products")[0]["name"] == "Selecto 1L"


def test_update_to_a_taken_barcode(staff, refs):
    first = assert_ok(add(staff, refs, barcode=COKE))
    second = assert_ok(add(staff, refs, barcode=UPC))
    error = assert_error(
        staff.post("/products.update", json={"id": second["id"], "barcode": COKE}),
        409,
        "barcode_taken",
    )
    assert error["data"]["id"] == first["id"]


def test_only_the_uploader_or_an_admin_may_change_or_delete(staff, admin, auth, refs, fetch):
    added = assert_ok(add(staff, refs))
    colleague = auth.client()
    assert_error(
        colleague.post("/products.update", json={"id": added["id"], "name": "Mine now"}),
        403,
        "not_your_product",
    )
    assert_error(
        colleague.post("/products.delete", json={"id": added["id"]}), 403, "not_your_product"
    )
    assert fetch("SELECT name, deleted_at FROM products")[0]["deleted_at"] is None
    assert (
        assert_ok(admin.post("/products.update", json={"id": added["id"], "name": "Fixed"}))["name"]
        == "Fixed"
    )
    assert_ok(admin.post("/products.delete", json={"id": added["id"]}))


def test_delete_is_soft_and_frees_the_barcode(staff, refs, fetch):
    added = assert_ok(add(staff, refs))
    assert_ok(staff.post("/products.delete", json={"id": added["id"]}))
    assert_error(staff.get(f"/products.getById/{added['id']}"), 404, "product_not_found")
    assert_error(staff.get(f"/products.getByBarcode/{COKE}"), 404, "product_not_found")
    assert assert_ok(staff.get("/products.history")) == []
    assert_error(staff.post("/products.delete", json={"id": added["id"]}), 404, "product_not_found")
    [row] = fetch("SELECT deleted_at FROM products")
    assert row["deleted_at"] is not None
    again = assert_ok(add(staff, refs))
    assert again["id"] != added["id"]
    kinds = [e["kind"] for e in assert_ok(staff.get("/users.history?kind=product_deleted"))]
    assert kinds == ["product_deleted"]


def test_export_needs_an_admin(staff):
    assert_error(staff.get("/products.export"), 403, "admin_only")


def test_export_csv(admin, staff, refs):
    assert_ok(add(staff, refs, name='=HYPERLINK("http://evil")', barcode="A1"))
    assert_ok(add(staff, refs, name="Ḥalib Candia", barcode=UPC))
    deleted = assert_ok(add(staff, refs, name="Gone", barcode="A3"))
    assert_ok(staff.post("/products.delete", json={"id": deleted["id"]}))

    response = admin.get("/products.export?format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="products-')
    assert response.is_streamed
    assert response.headers["Cache-Control"] == "no-store"
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert {len(row) for row in table} == {len(table[0])}  # every row has the header's width
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [row["name"] for row in rows] == ['\'=HYPERLINK("http://evil")', "Ḥalib Candia"]
    assert rows[1]["barcode"] == UPC
    assert rows[1]["category"] == "Beverages" and rows[1]["company"] == "Hamoud"
    assert rows[1]["added_by_email"] == staff.user["email"]
    assert rows[1]["created_at"].endswith("Z")


def test_export_json(admin, staff, refs):
    added = [assert_ok(add(staff, refs, name=f"P{n}", barcode=f"B{n}")) for n in range(3)]
    response = admin.get("/products.export?format=json")
    assert response.mimetype == "application/json"
    body = json.loads(response.get_data())
    assert body["status"] == 200
    assert body["data"] == added


def test_export_of_an_empty_catalogue(admin):
    assert json.loads(admin.get("/products.export?format=json").get_data())["data"] == []
    rows = list(
        csv.reader(io.StringIO(admin.get("/products.export").get_data().decode("utf-8-sig")))
    )
    assert len(rows) == 1  # the header


def test_export_streams_in_batches(admin, staff, refs, monkeypatch):
    monkeypatch.setattr("productinfo.products.export.ROWS_PER_CHUNK", 2)
    for n in range(5):
        assert_ok(add(staff, refs, name=f"P{n}", barcode=f"B{n}"))
    response = admin.get("/products.export?format=csv")
    chunks = list(response.response)
    assert len(chunks) >= 3
    assert sum(chunk.count(b"\n") for chunk in chunks) == 6
