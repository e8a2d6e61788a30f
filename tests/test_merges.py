"""/companies.merge and /products.merge: tombstones pulled, mappings redirected, retries safe."""

import io
import os
import uuid

import pytest

from tests import helpers
from tests.helpers import assert_error, assert_ok
from tests.images import encode, halves

DEVICE = str(uuid.uuid4())
GTINS = ["5449000000996", "036000291452", "96385074", "4006381333931"]


@pytest.fixture
def category(admin):
    return assert_ok(admin.post("/categories.add", json={"name": "Dairy"}))["id"]


def offline(local_id, name, barcode, category, company_local_id):
    """A product as the phone pushes it, naming its maker by the maker's local id."""
    return {
        "local_id": local_id,
        "name": name,
        "barcode": barcode,
        "category_id": category,
        "company_local_id": company_local_id,
    }


def push(client, path, body, device=DEVICE):
    return assert_ok(client.post(path, json={"device_id": device, **body}))


def upload(client, fields, data):
    form = {key: str(value) for key, value in fields.items()}
    form["file"] = (io.BytesIO(data), "photo.jpg", "image/jpeg")
    return client.post("/photo.upload", data=form, content_type="multipart/form-data")


def add_companies(client, names: dict):
    """Add companies without a device: {local id: name}."""
    batch = [{"id": int(local), "name": name} for local, name in names.items()]
    return client.post("/companies.add", json={"companies": batch})


def pull_all(client, cursor=None):
    """Pull as the phone would; return (changed, deleted, cursor)."""
    return helpers.pull_all(
        lambda query: client.get("/sync.pull", query_string=query).get_json(), cursor
    )


def company_rows(fetch):
    rows = fetch("SELECT id, name, deleted_at, merged_into_id FROM companies ORDER BY id")
    return {row["id"]: row for row in rows}


# Companies


def test_merging_companies_moves_products_and_reaches_pulls_and_pushes(
    staff, admin, fetch, category
):
    # A phone pushes two spellings of one maker, and a product under each.
    pushed = push(
        staff,
        "/companies.add",
        {"companies": [{"id": 1, "name": "CEVITAL Spa"}, {"id": 2, "name": "Cevital"}]},
    )["mapping"]
    twin, kept = pushed["1"], pushed["2"]
    products = push(
        staff,
        "/products.add",
        {
            "products": [
                offline(10, "Elio 1L", GTINS[0], category, 1),
                offline(11, "Elio 5L", GTINS[1], category, 2),
            ]
        },
    )["mapping"]
    _, _, cursor = pull_all(staff)

    answer = assert_ok(admin.post("/companies.merge", json={"from_id": twin, "into_id": kept}))
    assert answer["kept"]["id"] == kept and answer["kept"]["name"] == "Cevital"
    assert answer["removed"] == {**answer["removed"], "id": twin, "name": "CEVITAL Spa"}
    assert answer["products_moved"] == 1

    rows = company_rows(fetch)
    assert rows[twin]["deleted_at"] is not None and rows[twin]["merged_into_id"] == kept
    assert rows[kept]["deleted_at"] is None
    owners = {r["id"]: r["company_id"] for r in fetch("SELECT id, company_id FROM products")}
    assert owners == {products["10"]: kept, products["11"]: kept}
    listed = assert_ok(admin.get("/companies.get"))
    assert [c["name"] for c in listed] == ["Cevital"]

    # A pull from before the merge: the twin as a tombstone, its product as changed.
    changed, deleted, cursor = pull_all(staff, cursor)
    assert deleted["companies"] == {twin}
    assert twin not in changed["companies"]
    assert changed["products"][products["10"]]["company"] == {"id": kept, "name": "Cevital"}

    # The phone, which has not pulled, pushes again naming the twin by its local id.
    again = push(
        staff,
        "/products.add",
        {"products": [offline(12, "Elio 2L", GTINS[2], category, 1)]},
    )
    assert [r["status"] for r in again["results"]] == ["created"]
    new_product = again["mapping"]["12"]
    assert fetch("SELECT company_id FROM products WHERE id = :id", id=new_product) == [
        {"company_id": kept}
    ]
    # Its companies again: the twin's local id maps to the kept company now.
    retry = push(staff, "/companies.add", {"companies": [{"id": 1, "name": "CEVITAL Spa"}]})
    assert retry["mapping"] == {"1": kept}
    assert [r["status"] for r in retry["results"]] == ["existing"]
    # Another phone, or the plain add, with the twin's name: the kept company.
    plain = assert_ok(
        admin.post("/companies.add", json={"companies": [{"id": 5, "name": "cevital SPA"}]})
    )
    assert plain["mapping"] == {"5": kept}
    # A product naming the twin's server id (an app that has not pulled): the kept company.
    product = assert_ok(
        staff.post(
            "/products.add",
            json={
                "name": "Elio 3L",
                "barcode": GTINS[3],
                "category_id": category,
                "company_id": twin,
            },
        )
    )
    assert product["company"]["id"] == kept
    assert len(company_rows(fetch)) == 2

    events = fetch("SELECT user_id, kind, details FROM activity WHERE kind = 'companies_merged'")
    assert len(events) == 1
    assert events[0]["user_id"] == admin.user["id"]


def test_a_merge_sent_again_changes_nothing(admin, fetch):
    ids = assert_ok(
        admin.post(
            "/companies.add",
            json={"companies": [{"id": 1, "name": "Ifri"}, {"id": 2, "name": "IFRI SARL"}]},
        )
    )["mapping"]
    body = {"from_id": ids["2"], "into_id": ids["1"]}
    first = assert_ok(admin.post("/companies.merge", json=body))
    before = company_rows(fetch)
    again = assert_ok(admin.post("/companies.merge", json=body))
    assert again == {**first, "products_moved": 0}
    assert company_rows(fetch) == before
    assert len(fetch("SELECT id FROM activity WHERE kind = 'companies_merged'")) == 1


def test_merges_chain_to_the_company_kept_last(admin, staff, category, fetch):
    names = ["Hamoud", "Hamoud Boualem", "HAMOUD BOUALEM SPA"]
    batch = {"companies": [{"id": i, "name": name} for i, name in enumerate(names)]}
    pushed = push(staff, "/companies.add", batch)["mapping"]
    first, second, third = (pushed[str(i)] for i in range(3))
    assert_ok(admin.post("/companies.merge", json={"from_id": first, "into_id": second}))
    assert_ok(admin.post("/companies.merge", json={"from_id": second, "into_id": third}))
    again = push(
        staff,
        "/products.add",
        {"products": [offline(1, "Selecto", GTINS[0], category, 0)]},
    )
    product = again["mapping"]["1"]
    assert fetch("SELECT company_id FROM products WHERE id = :id", id=product) == [
        {"company_id": third}
    ]
    plain = assert_ok(add_companies(admin, {"1": "hamoud"}))
    assert plain["mapping"] == {"1": third}


def test_only_admins_merge(staff, admin, fetch):
    ids = assert_ok(
        admin.post(
            "/companies.add", json={"companies": [{"id": 1, "name": "A"}, {"id": 2, "name": "B"}]}
        )
    )["mapping"]
    body = {"from_id": ids["1"], "into_id": ids["2"]}
    assert_error(staff.post("/companies.merge", json=body), 403, "admin_only")
    assert_error(staff.post("/products.merge", json=body), 403, "admin_only")
    assert_error(staff.get("/companies.duplicates"), 403, "admin_only")
    assert all(row["deleted_at"] is None for row in company_rows(fetch).values())


# Products

RED = encode(halves((320, 200)), "JPEG")
GREEN = encode(halves((200, 320)), "PNG")


def stored_files(app):
    root = app.config["STORAGE_DIR"]
    return {
        os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files
    }


def test_merging_products_moves_photos_once_and_reaches_pulls_and_pushes(
    staff, admin, app, fetch, category
):
    company = push(staff, "/companies.add", {"companies": [{"id": 1, "name": "Soummam"}]})
    products = push(
        staff,
        "/products.add",
        {
            "products": [
                offline("typo", "Lben 1L", GTINS[0], category, 1),
                offline("right", "Lben 1 L", GTINS[1], category, 1),
            ]
        },
    )["mapping"]
    twin, kept = products["typo"], products["right"]
    assert company["mapping"]["1"]
    # The twin has two photos; the kept product has one of them already (the same upload).
    shared = push_photo(staff, "p1", "typo", RED)
    only_twin = push_photo(staff, "p2", "typo", GREEN)
    on_kept = push_photo(staff, "p3", "right", RED)
    files_before = stored_files(app)
    _, _, cursor = pull_all(staff)

    answer = assert_ok(admin.post("/products.merge", json={"from_id": twin, "into_id": kept}))
    assert answer["removed_id"] == twin
    assert (answer["photos_moved"], answer["photos_already_there"]) == (1, 1)
    assert sorted(p["id"] for p in answer["kept"]["photos"]) == sorted([only_twin, on_kept])

    rows = {r["id"]: r for r in fetch("SELECT id, deleted_at, merged_into_id FROM products")}
    assert rows[twin]["deleted_at"] is not None and rows[twin]["merged_into_id"] == kept
    photos = {r["id"]: r["product_id"] for r in fetch("SELECT id, product_id FROM photos")}
    assert photos == {only_twin: kept, on_kept: kept}
    # The twin's copy of the shared photo is gone, files and all; the rest stays.
    gone = files_before - stored_files(app)
    assert len(gone) == 2 and stored_files(app) < files_before
    assert shared not in photos

    changed, deleted, _ = pull_all(staff, cursor)
    assert deleted["products"] == {twin}
    assert {p["id"] for p in changed["products"][kept]["photos"]} == {only_twin, on_kept}
    assert_error(staff.get(f"/products.getById/{twin}"), 404, "product_not_found")

    # The phone pushes again: its twin's local id, and the shared photo's, lead to the kept ones.
    again = push(
        staff,
        "/products.add",
        {"products": [offline("typo", "Lben 1L", GTINS[0], category, 1)]},
    )
    assert again["mapping"] == {"typo": kept}
    assert [r["status"] for r in again["results"]] == ["existing"]
    assert push_photo(staff, "p1", "typo", RED) == on_kept
    new = push_photo(staff, "p4", "typo", encode(halves((100, 100)), "JPEG"))
    assert fetch("SELECT product_id FROM photos WHERE id = :id", id=new) == [{"product_id": kept}]
    # An upload naming the twin's server id lands on the kept product too.
    plain = assert_ok(upload(staff, {"product_id": twin}, encode(halves((90, 60)), "JPEG")))
    assert plain["product_id"] == kept

    history = assert_ok(admin.get(f"/products.changes/{kept}"))
    merged = [event for event in history if event["kind"] == "products_merged"]
    assert len(merged) == 1 and merged[0]["details"]["from_product_id"] == twin
    assert merged[0]["by"]["id"] == admin.user["id"]


def push_photo(client, local_id, product_local_id, data):
    fields = {"device_id": DEVICE, "local_id": local_id, "product_local_id": product_local_id}
    answer = assert_ok(upload(client, fields, data))
    return answer["mapping"][local_id]


@pytest.fixture
def merged_companies(admin):
    """Companies to merge: `kept`, `twin` (merged into it) and `other`."""
    names = {"0": "Ifri", "1": "Ifri SPA", "2": "Candia"}
    mapping = assert_ok(add_companies(admin, names))["mapping"]
    ids = {key: mapping[str(i)] for i, key in enumerate(["kept", "twin", "other"])}
    assert_ok(admin.post("/companies.merge", json={"from_id": ids["twin"], "into_id": ids["kept"]}))
    return ids


@pytest.fixture
def merged_products(admin, category):
    """Products to merge: `kept`, `twin` (merged into it), `other`, and one `deleted`."""
    company = assert_ok(add_companies(admin, {"1": "Ifri"}))["mapping"]["1"]
    refs = {"category_id": category, "company_id": company}
    made = {}
    for key, barcode in zip(["kept", "twin", "other", "deleted"], GTINS, strict=True):
        body = {"name": f"Water {key}", "barcode": barcode, **refs}
        made[key] = assert_ok(admin.post("/products.add", json=body))["id"]
    assert_ok(admin.post("/products.delete", json={"id": made["deleted"]}))
    merge = {"from_id": made["twin"], "into_id": made["kept"]}
    assert_ok(admin.post("/products.merge", json=merge))
    return made


REFUSALS = {
    "into itself": ({"from_id": "kept", "into_id": "kept"}, 422, "merge_into_itself", "into_id"),
    "unknown from": ({"from_id": 99999, "into_id": "kept"}, 404, "{noun}_not_found", "from_id"),
    "unknown into": ({"from_id": "other", "into_id": 99999}, 404, "{noun}_not_found", "into_id"),
    "from merged": ({"from_id": "twin", "into_id": "other"}, 409, "{noun}_removed", "from_id"),
    "into merged": ({"from_id": "other", "into_id": "twin"}, 409, "{noun}_removed", "into_id"),
    "no into": ({"from_id": "other"}, 422, "validation_failed", "into_id"),
    "empty body": ({}, 422, "validation_failed", "from_id"),
    "not an id": ({"from_id": "x1", "into_id": "kept"}, 422, "validation_failed", "from_id"),
    "id zero": ({"from_id": 0, "into_id": "kept"}, 422, "validation_failed", "from_id"),
}
# Only products are ever deleted.
PRODUCT_REFUSALS = {
    "into deleted": ({"from_id": "other", "into_id": "deleted"}, 409, "{noun}_removed", "into_id"),
    "from deleted": ({"from_id": "deleted", "into_id": "other"}, 409, "{noun}_removed", "from_id"),
}
SCENARIOS = [
    pytest.param(noun, *scenario, id=f"{noun} {name}")
    for noun, table in (("company", REFUSALS), ("product", {**REFUSALS, **PRODUCT_REFUSALS}))
    for name, scenario in table.items()
]


@pytest.mark.parametrize(("noun", "body", "status", "code", "field"), SCENARIOS)
def test_merge_refusals(request, admin, fetch, noun, body, status, code, field):
    plural = "companies" if noun == "company" else "products"
    ids = request.getfixturevalue(f"merged_{plural}")
    body = {key: ids.get(value, value) for key, value in body.items()}
    before = fetch(f"SELECT * FROM {plural} ORDER BY id")
    error = assert_error(admin.post(f"/{plural}.merge", json=body), status, code.format(noun=noun))
    assert field in error["errors"], error
    assert fetch(f"SELECT * FROM {plural} ORDER BY id") == before
