"""Pushes with a device id: local ids mapped once, retries harmless, a result per record."""

import io
import uuid

import pytest

from productinfo.catalog.schemas import MAX_COMPANIES_PER_REQUEST
from tests.helpers import add_product, assert_error, assert_ok
from tests.helpers import pushed_product as product
from tests.images import encode, halves

DEVICE = str(uuid.uuid4())
GTINS = ["5449000000996", "036000291452", "96385074", "4006381333931"]


@pytest.fixture
def category(admin):
    return assert_ok(admin.post("/categories.add", json={"name": "Beverages"}))["id"]


def push_companies(client, companies, device=DEVICE):
    return assert_ok(
        client.post("/companies.add", json={"device_id": device, "companies": companies})
    )


def push_products(client, products, device=DEVICE):
    return assert_ok(client.post("/products.add", json={"device_id": device, "products": products}))


def statuses(answer):
    return [r["status"] for r in answer["results"]]


def test_companies_are_mapped_once(staff, fetch):
    batch = [{"id": 1, "name": "Ifri"}, {"id": 2, "name": "Cevital"}]
    first = push_companies(staff, batch)
    assert statuses(first) == ["created", "created"]
    assert set(first["mapping"]) == {"1", "2"}
    again = push_companies(staff, list(reversed(batch)))
    assert statuses(again) == ["existing", "existing"]
    assert again["mapping"] == first["mapping"]
    assert len(fetch("SELECT id FROM companies")) == 2
    assert len(fetch("SELECT id FROM sync_mappings")) == 2


def test_a_company_on_the_server_already_is_merged(staff, auth):
    other = auth.client()
    theirs = push_companies(other, [{"id": 9, "name": "IFRI"}])["mapping"]["9"]
    mine = push_companies(staff, [{"id": 1, "name": "ifri "}])
    assert statuses(mine) == ["merged"]
    assert mine["results"][0]["code"] == "company_exists"
    assert mine["mapping"] == {"1": theirs}


def test_one_bad_company_does_not_sink_the_others(staff, fetch):
    answer = push_companies(
        staff, [{"id": 1, "name": "Ifri"}, {"id": 2, "name": ""}, {"name": "No id"}, {"id": 4}]
    )
    assert statuses(answer) == ["created", "error", "error", "error"]
    assert answer["results"][1]["field"] == "companies[1].name"
    assert answer["results"][2]["field"] == "companies[2].id"
    assert answer["results"][3]["field"] == "companies[3].name"
    assert list(answer["mapping"]) == ["1"]
    assert [row["name"] for row in fetch("SELECT name FROM companies")] == ["Ifri"]


def test_a_batch_holding_other_than_objects_is_refused_whole(staff, fetch):
    body = {"device_id": DEVICE, "companies": [{"id": 1, "name": "Ifri"}, "x"]}
    error = assert_error(staff.post("/companies.add", json=body), 422, "validation_failed")
    assert "companies[1]" in error["errors"]
    assert fetch("SELECT id FROM companies") == []


def test_a_local_id_used_twice_with_other_values_is_an_error(staff):
    answer = push_companies(
        staff, [{"id": 1, "name": "Ifri"}, {"id": 1, "name": "Candia"}, {"id": 1, "name": "Ifri"}]
    )
    assert statuses(answer) == ["created", "error", "existing"]
    assert answer["results"][1]["code"] == "duplicate_local_id"


def test_companies_from_a_form_with_a_device(staff):
    import json

    body = {"device_id": DEVICE, "companies": json.dumps([{"id": 3, "name": "Ifri"}])}
    answer = assert_ok(staff.post("/companies.add", data=body))
    assert statuses(answer) == ["created"]


def test_products_name_their_company_by_local_id_in_the_same_batch_or_an_earlier_one(
    staff, category, fetch
):
    push_companies(staff, [{"id": "c1", "name": "Ifri"}])
    answer = push_products(
        staff,
        [
            product("p1", GTINS[0], category, company_local_id="c1"),
            product("p2", GTINS[1], category, company_local_id="c1"),
        ],
    )
    assert statuses(answer) == ["created", "created"]
    rows = fetch(
        "SELECT p.id, c.name FROM products p JOIN companies c ON c.id = p.company_id ORDER BY p.id"
    )
    assert [row["name"] for row in rows] == ["Ifri", "Ifri"]
    assert answer["mapping"] == {"p1": rows[0]["id"], "p2": rows[1]["id"]}
    me = assert_ok(staff.get("/users.me"))
    assert me["stats"]["products_added"] == 2


def test_products_retried_in_any_order_create_nothing_new(staff, category, fetch):
    company = push_companies(staff, [{"id": 1, "name": "Ifri"}])["mapping"]["1"]
    batch = [
        product(str(n), barcode, category, company_id=company) for n, barcode in enumerate(GTINS)
    ]
    first = push_products(staff, batch)
    again = push_products(staff, list(reversed(batch)))
    assert statuses(again) == ["existing"] * 4
    assert again["mapping"] == first["mapping"]
    assert len(fetch("SELECT id FROM products")) == 4


def test_a_barcode_captured_by_a_colleague_is_merged(staff, auth, category):
    company = push_companies(staff, [{"id": 1, "name": "Ifri"}])["mapping"]["1"]
    colleague = auth.client()
    theirs = add_product(
        colleague, {"category_id": category, "company_id": company}, "0036000291452"
    )
    answer = push_products(staff, [product("p1", "036000291452", category, company_id=company)])
    assert statuses(answer) == ["merged"]
    assert answer["results"][0]["code"] == "barcode_taken"
    assert answer["mapping"] == {"p1": theirs["id"]}


def test_two_local_products_with_one_barcode_become_one(staff, category, fetch):
    company = push_companies(staff, [{"id": 1, "name": "Ifri"}])["mapping"]["1"]
    answer = push_products(
        staff,
        [
            product("a", GTINS[0], category, company_id=company),
            product("b", GTINS[0], category, company_id=company),
        ],
    )
    assert statuses(answer) == ["created", "merged"]
    assert answer["mapping"]["a"] == answer["mapping"]["b"]
    assert len(fetch("SELECT id FROM products")) == 1


def test_bad_products_get_their_own_errors(staff, category, fetch):
    company = push_companies(staff, [{"id": 1, "name": "Ifri"}])["mapping"]["1"]
    answer = push_products(
        staff,
        [
            product("ok", GTINS[0], category, company_id=company),
            product("digit", "5449000000997", category, company_id=company),
            product("cat", GTINS[1], 999, company_id=company),
            product("co", GTINS[2], category, company_local_id="never-pushed"),
            product("both", GTINS[3], category, company_id=company, company_local_id="1"),
            {"local_id": "noname", "barcode": "X", "category_id": category, "company_id": company},
        ],
    )
    assert statuses(answer) == ["created"] + ["error"] * 5
    codes = [(r["code"], r["field"]) for r in answer["results"][1:]]
    assert codes == [
        ("invalid_check_digit", "products[1].barcode"),
        ("unknown_category", "products[2].category_id"),
        ("unknown_company", "products[3].company_local_id"),
        ("validation_failed", "products[4]"),
        ("validation_failed", "products[5].name"),
    ]
    assert "should be 6" in answer["results"][1]["message"]
    assert len(fetch("SELECT id FROM products")) == 1


def test_a_single_product_with_a_device(staff, category):
    company = push_companies(staff, [{"id": 1, "name": "Ifri"}])["mapping"]["1"]
    body = {"device_id": DEVICE, **product("solo", GTINS[0], category, company_id=company)}
    answer = assert_ok(staff.post("/products.add", json=body))
    assert statuses(answer) == ["created"]
    assert answer["mapping"] == {"solo": answer["results"][0]["id"]}
    # Its shape is checked whole (a 422); the rules past its shape, as in a batch.
    body = {**body, "local_id": "other", "barcode": "5449000000997"}
    [result] = assert_ok(staff.post("/products.add", json=body))["results"]
    assert (result["status"], result["code"]) == ("error", "invalid_check_digit")
    body = {**body, "company_local_id": "1"}
    assert_error(staff.post("/products.add", json=body), 422, "validation_failed")


def test_a_device_id_alone_is_no_product(staff, fetch):
    form = {"device_id": DEVICE}
    response = staff.post("/products.add", data=form, content_type="multipart/form-data")
    assert_error(response, 422, "validation_failed")
    assert fetch("SELECT id FROM sync_mappings") == []


def test_phones_shared_by_staff_keep_a_namespace_per_user(staff, auth, category, fetch):
    colleague = auth.client()
    mine = push_companies(staff, [{"id": 1, "name": "Ifri"}])
    theirs = push_companies(colleague, [{"id": 1, "name": "Candia"}])  # same device, same local id
    assert statuses(theirs) == ["created"]
    assert mine["mapping"]["1"] != theirs["mapping"]["1"]
    # The colleague's local company 1 is Candia, never my Ifri.
    answer = push_products(colleague, [product("p", GTINS[0], category, company_local_id="1")])
    [row] = fetch("SELECT c.name FROM products p JOIN companies c ON c.id = p.company_id")
    assert row["name"] == "Candia"
    assert statuses(answer) == ["created"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"device_id": "a device", "companies": []}, 422),
        ({"device_id": "short", "companies": []}, 422),
        ({"device_id": DEVICE, "companies": "nope"}, 422),
        (
            {
                "device_id": DEVICE,
                "companies": [
                    {"id": i, "name": f"c{i}"} for i in range(MAX_COMPANIES_PER_REQUEST + 1)
                ],
            },
            422,
        ),
    ],
)
def test_bad_push_bodies_are_refused_before_any_work(staff, fetch, body, status):
    assert_error(staff.post("/companies.add", json=body), status, "validation_failed")
    assert fetch("SELECT id FROM companies") == []


def test_oversize_push_is_413_before_any_work(make_app, fetch):
    from tests.helpers import Auth

    client = Auth(make_app(MAX_CONTENT_LENGTH=2000, MAX_PHOTO_BYTES=500)).client()
    companies = [{"id": i, "name": f"Company {i}"} for i in range(200)]
    assert_error(
        client.post("/companies.add", json={"device_id": DEVICE, "companies": companies}), 413
    )
    assert fetch("SELECT id FROM companies") == []


def upload(client, form, data):
    body = {**form, "file": (io.BytesIO(data), "photo.jpg")}
    return client.post("/photo.upload", data=body, content_type="multipart/form-data")


def test_photos_name_their_product_by_local_id(staff, category, fetch):
    company = push_companies(staff, [{"id": 1, "name": "Ifri"}])["mapping"]["1"]
    products = push_products(staff, [product("p1", GTINS[0], category, company_id=company)])
    form = {"device_id": DEVICE, "local_id": "ph1", "product_local_id": "p1"}
    data = encode(halves(), "JPEG")
    answer = assert_ok(upload(staff, form, data))
    assert statuses(answer) == ["created"]
    photo_id = answer["mapping"]["ph1"]
    assert answer["photo"]["product_id"] == products["mapping"]["p1"]
    retried = assert_ok(upload(staff, form, data))
    assert statuses(retried) == ["existing"]
    assert retried["mapping"] == {"ph1": photo_id}
    assert len(fetch("SELECT id FROM photos")) == 1


def test_photos_of_a_merged_product_attach_to_it(staff, auth, category):
    company = push_companies(staff, [{"id": 1, "name": "Ifri"}])["mapping"]["1"]
    colleague = auth.client()
    refs = {"category_id": category, "company_id": company}
    theirs = add_product(colleague, refs, GTINS[0])
    push_products(staff, [product("p1", GTINS[0], category, company_id=company)])
    form = {"device_id": DEVICE, "local_id": "ph1", "product_local_id": "p1"}
    answer = assert_ok(upload(staff, form, encode(halves(), "JPEG")))
    assert answer["photo"]["product_id"] == theirs["id"]
    assert [
        p["id"] for p in assert_ok(staff.get(f"/products.getById/{theirs['id']}"))["photos"]
    ] == [answer["photo"]["id"]]


def test_a_photo_of_an_unknown_local_product(staff):
    form = {"device_id": DEVICE, "local_id": "ph1", "product_local_id": "never"}
    assert_error(upload(staff, form, encode(halves(), "JPEG")), 422, "unknown_product")
