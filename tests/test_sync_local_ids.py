"""A local id means one record; device ids as phones give them; one answer shape per push."""

import io

import pytest
from sqlalchemy import text

from tests.helpers import assert_error, assert_ok
from tests.helpers import pushed_product as product
from tests.images import encode, halves

DEVICE = "3f2b6c1e-8d4a-4f7e-9b0a-2c5d7e9f1a3b"
GTINS = ["5449000000996", "036000291452", "96385074", "4006381333931"]


@pytest.fixture
def category(admin):
    return assert_ok(admin.post("/categories.add", json={"name": "Beverages"}))["id"]


def push(client, kind, records, device=DEVICE):
    return assert_ok(client.post(f"/{kind}.add", json={"device_id": device, kind: records}))


def test_a_reused_company_local_id_is_an_error_and_stores_nothing(staff, fetch):
    first = push(staff, "companies", [{"id": 7, "name": "Maker One"}])
    # The app was reinstalled: its new database gives local id 7 to another maker.
    again = push(
        staff, "companies", [{"id": 7, "name": "A Different Maker"}, {"id": 8, "name": "B"}]
    )
    reused, other = again["results"]
    assert reused["status"] == "error"
    assert reused["code"] == "local_id_reused"
    assert reused["field"] == "companies[0].id"
    assert reused["id"] is None
    assert other["status"] == "created"
    assert "7" not in again["mapping"]
    names = [row["name"] for row in fetch("SELECT name FROM companies ORDER BY id")]
    assert names == ["Maker One", "B"]
    [mapping] = fetch("SELECT server_id FROM sync_mappings WHERE local_id = '7'")
    assert mapping["server_id"] == first["mapping"]["7"]


def test_the_same_company_spelled_otherwise_is_a_retry(staff):
    first = push(staff, "companies", [{"id": 7, "name": "Maker One"}])
    again = push(staff, "companies", [{"id": 7, "name": " MAKER  one"}])
    assert again["results"][0]["status"] == "existing"
    assert again["mapping"] == first["mapping"]


def test_a_reused_product_local_id_with_a_new_barcode_is_an_error(staff, category, fetch):
    company = push(staff, "companies", [{"id": 1, "name": "Ifri"}])["mapping"]["1"]
    push(staff, "products", [product("p1", GTINS[0], category, company_id=company)])
    retry = push(staff, "products", [product("p1", GTINS[0], category, company_id=company)])
    assert retry["results"][0]["status"] == "existing"
    again = push(staff, "products", [product("p1", GTINS[1], category, company_id=company)])
    assert [(r["status"], r["code"], r["field"]) for r in again["results"]] == [
        ("error", "local_id_reused", "products[0].local_id")
    ]
    assert again["mapping"] == {}
    assert [row["barcode"] for row in fetch("SELECT barcode FROM products")] == [GTINS[0]]


@pytest.mark.parametrize(
    "change",
    [{"name": "Another product"}, {"category_id": None}, {"company_local_id": "c2"}],
)
def test_each_field_the_app_sent_tells_records_apart(staff, category, admin, change):
    other_category = assert_ok(admin.post("/categories.add", json={"name": "Dairy"}))["id"]
    push(staff, "companies", [{"id": "c1", "name": "Ifri"}, {"id": "c2", "name": "Candia"}])
    push(staff, "products", [product("p1", GTINS[0], category, company_local_id="c1")])
    changed = product("p1", GTINS[0], category, company_local_id="c1")
    changed.update({key: value or other_category for key, value in change.items()})
    answer = push(staff, "products", [changed])
    assert answer["results"][0]["code"] == "local_id_reused"


def test_a_product_retried_after_its_company_was_merged_is_still_a_retry(staff, category, fetch):
    companies = push(staff, "companies", [{"id": "c1", "name": "Ifri"}])["mapping"]
    first = push(staff, "products", [product("p1", GTINS[0], category, company_local_id="c1")])
    kept = push(staff, "companies", [{"id": "c9", "name": "Kept"}])["mapping"]["c9"]
    # An admin merges Ifri into another company: the mappings follow the kept one.
    with staff.application.extensions["db"].engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE sync_mappings SET server_id = :kept"
                " WHERE server_id = :gone AND kind = 'company'"
            ),
            {"kept": kept, "gone": companies["c1"]},
        )
    again = push(staff, "products", [product("p1", GTINS[0], category, company_local_id="c1")])
    assert again["results"][0]["status"] == "existing"
    assert again["mapping"] == first["mapping"]


def test_a_mapping_of_unknown_content_takes_the_next_push_as_its_own(staff, category, fetch):
    company = push(staff, "companies", [{"id": 1, "name": "Ifri"}])["mapping"]["1"]
    push(staff, "products", [product("p1", GTINS[0], category, company_id=company)])
    # As migrated: the content a product mapping was made from is not known.
    with staff.application.extensions["db"].engine.begin() as conn:
        conn.execute(text("UPDATE sync_mappings SET fingerprint = NULL"))
    retry = push(staff, "products", [product("p1", GTINS[0], category, company_id=company)])
    assert retry["results"][0]["status"] == "existing"
    assert fetch("SELECT id FROM sync_mappings WHERE fingerprint IS NULL AND local_id = 'p1'") == []
    other = push(staff, "products", [product("p1", GTINS[1], category, company_id=company)])
    assert other["results"][0]["code"] == "local_id_reused"


def upload(client, form, data):
    body = {**form, "file": (io.BytesIO(data), "photo.jpg")}
    return client.post("/photo.upload", data=body, content_type="multipart/form-data")


def test_a_reused_photo_local_id_is_refused(staff, category, fetch):
    company = push(staff, "companies", [{"id": 1, "name": "Ifri"}])["mapping"]["1"]
    push(staff, "products", [product("p1", GTINS[0], category, company_id=company)])
    form = {"device_id": DEVICE, "local_id": "ph1", "product_local_id": "p1"}
    first = assert_ok(upload(staff, form, encode(halves(), "JPEG")))
    assert first["mapping"] == {"ph1": first["photo"]["id"]}
    assert first["results"][0]["status"] == "created"
    body = assert_error(upload(staff, form, encode(halves(), "PNG")), 409, "local_id_reused")
    assert "local_id" in body["errors"]
    assert len(fetch("SELECT id FROM photos")) == 1


@pytest.mark.parametrize(
    ("sent", "same_as"),
    [
        ("3F2B6C1E-8D4A-4F7E-9B0A-2C5D7E9F1A3B", DEVICE),  # iOS identifierForVendor
        ("9774d56d682e549c", None),  # an Android ID
        ("device_token-01", None),  # an opaque token, 15 characters
        ("A" * 64, None),  # the longest token
    ],
)
def test_device_ids_as_phones_give_them(staff, fetch, sent, same_as):
    if same_as:
        push(staff, "companies", [{"id": 1, "name": "Ifri"}], device=same_as)
    answer = push(staff, "companies", [{"id": 1, "name": "Ifri"}], device=sent)
    assert answer["results"][0]["status"] == ("existing" if same_as else "created")
    devices = {row["device_id"] for row in fetch("SELECT device_id FROM sync_mappings")}
    assert devices == {same_as or sent}


@pytest.mark.parametrize(
    "device",
    ["short12", "A" * 65, "a device id", "dévice-1234", "device/1234", "device\x001234", 12345678],
)
def test_other_device_ids_are_refused(staff, fetch, device):
    response = staff.post(
        "/companies.add", json={"device_id": device, "companies": [{"id": 1, "name": "Ifri"}]}
    )
    assert "device_id" in assert_error(response, 422, "validation_failed")["errors"]
    assert fetch("SELECT id FROM companies") == []


def test_every_push_answers_mapping_by_local_id_with_or_without_a_device(staff, category):
    plain = assert_ok(staff.post("/companies.add", json={"companies": [{"id": 3, "name": "A"}]}))
    pushed = push(staff, "companies", [{"id": 3, "name": "A"}])
    assert set(plain) == {"mapping"}
    assert set(pushed) == {"mapping", "results"}
    assert pushed["mapping"] == plain["mapping"] == {"3": plain["mapping"]["3"]}
    # The same through a form, as the app sends it.
    form = {"device_id": DEVICE, "companies": '[{"id": 4, "name": "B"}]'}
    assert set(assert_ok(staff.post("/companies.add", data=form))["mapping"]) == {"4"}
    products = push(
        staff, "products", [product(12, GTINS[0], category, company_id=plain["mapping"]["3"])]
    )
    assert list(products["mapping"]) == ["12"]
    assert products["results"][0]["local_id"] == "12"
