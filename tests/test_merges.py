"""/companies.merge and /products.merge: tombstones pulled, mappings redirected, retries safe."""

import io
import os
import uuid

import pytest

from tests.helpers import assert_error, assert_ok
from tests.images import encode, halves

DEVICE = str(uuid.uuid4())
GTINS = ["5449000000996", "036000291452", "96385074", "4006381333931"]


@pytest.fixture
def category(admin):
    return assert_ok(admin.post("/categories.add", json={"name": "Dairy"}))["id"]


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
    """Pull until nothing more waits; return ({kind: {id: record}}, {kind: {ids}}, cursor)."""
    changed = {"categories": {}, "companies": {}, "products": {}}
    deleted = {kind: set() for kind in changed}
    while True:
        query = {"cursor": cursor} if cursor else {}
        body = client.get("/sync.pull", query_string=query).get_json()
        assert body["status"] == 200, body
        for kind, changes in body["data"].items():
            changed[kind].update({record["id"]: record for record in changes["changed"]})
            deleted[kind].update(changes["deleted"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return changed, deleted, cursor


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
    )["mapping"]["companies"]
    twin, kept = pushed["1"], pushed["2"]
    products = push(
        staff,
        "/products.add",
        {
            "products": [
                {
                    "local_id": 10,
                    "name": "Elio 1L",
                    "barcode": GTINS[0],
                    "category_id": category,
                    "company_local_id": 1,
                },
                {
                    "local_id": 11,
                    "name": "Elio 5L",
                    "barcode": GTINS[1],
                    "category_id": category,
                    "company_local_id": 2,
                },
            ]
        },
    )["mapping"]["products"]
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
        {
            "products": [
                {
                    "local_id": 12,
                    "name": "Elio 2L",
                    "barcode": GTINS[2],
                    "category_id": category,
                    "company_local_id": 1,
                }
            ]
        },
    )
    assert [r["status"] for r in again["results"]] == ["created"]
    new_product = again["mapping"]["products"]["12"]
    assert fetch("SELECT company_id FROM products WHERE id = :id", id=new_product) == [
        {"company_id": kept}
    ]
    # Its companies again: the twin's local id maps to the kept company now.
    retry = push(staff, "/companies.add", {"companies": [{"id": 1, "name": "CEVITAL Spa"}]})
    assert retry["mapping"]["companies"] == {"1": kept}
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
    pushed = push(staff, "/companies.add", batch)["mapping"]["companies"]
    first, second, third = (pushed[str(i)] for i in range(3))
    assert_ok(admin.post("/companies.merge", json={"from_id": first, "into_id": second}))
    assert_ok(admin.post("/companies.merge", json={"from_id": second, "into_id": third}))
    again = push(
        staff,
        "/products.add",
        {
            "products": [
                {
                    "local_id": 1,
                    "name": "Selecto",
                    "barcode": GTINS[0],
                    "category_id": category,
                    "company_local_id": 0,
                }
            ]
        },
    )
    product = again["mapping"]["products"]["1"]
    assert fetch("SELECT company_id FROM products WHERE id = :id", id=product) == [
        {"company_id": third}
    ]
    plain = assert_ok(add_companies(admin, {"1": "hamoud"}))
    assert plain["mapping"] == {"1": third}


@pytest.fixture
def three_companies(admin):
    names = {"0": "Ifri", "1": "Ifri SPA", "2": "Candia"}
    mapping = assert_ok(add_companies(admin, names))["mapping"]
    ids = {name: mapping[str(i)] for i, name in enumerate(["ifri", "twin", "candia"])}
    assert_ok(admin.post("/companies.merge", json={"from_id": ids["twin"], "into_id": ids["ifri"]}))
    return ids


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        pytest.param(
            {"from_id": "ifri", "into_id": "ifri"},
            422,
            "merge_into_itself",
            "into_id",
            id="into itself",
        ),
        pytest.param(
            {"from_id": 99999, "into_id": "ifri"},
            404,
            "company_not_found",
            "from_id",
            id="unknown from",
        ),
        pytest.param(
            {"from_id": "candia", "into_id": 99999},
            404,
            "company_not_found",
            "into_id",
            id="unknown into",
        ),
        pytest.param(
            {"from_id": "twin", "into_id": "candia"},
            409,
            "company_removed",
            "from_id",
            id="from merged elsewhere",
        ),
        pytest.param(
            {"from_id": "candia", "into_id": "twin"},
            409,
            "company_removed",
            "into_id",
            id="into merged",
        ),
        pytest.param({"from_id": "candia"}, 422, "validation_failed", "into_id", id="no into"),
        pytest.param(
            {"from_id": "x1", "into_id": "ifri"},
            422,
            "validation_failed",
            "from_id",
            id="not an id",
        ),
        pytest.param(
            {"from_id": 0, "into_id": "ifri"}, 422, "validation_failed", "from_id", id="id zero"
        ),
    ],
)
def test_company_merge_refusals(admin, fetch, three_companies, body, status, code, field):
    body = {key: three_companies.get(value, value) for key, value in body.items()}
    before = company_rows(fetch)
    error = assert_error(admin.post("/companies.merge", json=body), status, code)
    assert field in error["errors"], error
    assert company_rows(fetch) == before


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
                {
                    "local_id": "typo",
                    "name": "Lben 1L",
                    "barcode": GTINS[0],
                    "category_id": category,
                    "company_local_id": 1,
                },
                {
                    "local_id": "right",
                    "name": "Lben 1 L",
                    "barcode": GTINS[1],
                    "category_id": category,
                    "company_local_id": 1,
                },
            ]
        },
    )["mapping"]["products"]
    twin, kept = products["typo"], products["right"]
    assert company["mapping"]["companies"]["1"]
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
        {
            "products": [
                {
                    "local_id": "typo",
                    "name": "Lben 1L",
                    "barcode": GTINS[0],
                    "category_id": category,
                    "company_local_id": 1,
                }
            ]
        },
    )
    assert again["mapping"]["products"] == {"typo": kept}
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
    return answer["mapping"]["photos"][local_id]


@pytest.fixture
def three_products(admin, category):
    company = assert_ok(
        admin.post("/companies.add", json={"companies": [{"id": 1, "name": "Ifri"}]})
    )
    refs = {"category_id": category, "company_id": company["mapping"]["1"]}
    made = {}
    for key, barcode in zip(["kept", "twin", "other"], GTINS, strict=False):
        body = {"name": f"Water {key}", "barcode": barcode, **refs}
        made[key] = assert_ok(admin.post("/products.add", json=body))["id"]
    deleted = assert_ok(
        admin.post("/products.add", json={"name": "Gone", "barcode": GTINS[3], **refs})
    )
    assert_ok(admin.post("/products.delete", json={"id": deleted["id"]}))
    made["deleted"] = deleted["id"]
    assert_ok(
        admin.post("/products.merge", json={"from_id": made["twin"], "into_id": made["kept"]})
    )
    return made


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        pytest.param(
            {"from_id": "kept", "into_id": "kept"},
            422,
            "merge_into_itself",
            "into_id",
            id="into itself",
        ),
        pytest.param(
            {"from_id": 99999, "into_id": "kept"},
            404,
            "product_not_found",
            "from_id",
            id="unknown from",
        ),
        pytest.param(
            {"from_id": "other", "into_id": 99999},
            404,
            "product_not_found",
            "into_id",
            id="unknown into",
        ),
        pytest.param(
            {"from_id": "twin", "into_id": "other"},
            409,
            "product_removed",
            "from_id",
            id="from merged elsewhere",
        ),
        pytest.param(
            {"from_id": "other", "into_id": "deleted"},
            409,
            "product_removed",
            "into_id",
            id="into deleted",
        ),
        pytest.param(
            {"from_id": "deleted", "into_id": "other"},
            409,
            "product_removed",
            "from_id",
            id="from deleted",
        ),
        pytest.param({}, 422, "validation_failed", "from_id", id="empty body"),
    ],
)
def test_product_merge_refusals(admin, fetch, three_products, body, status, code, field):
    body = {key: three_products.get(value, value) for key, value in body.items()}
    before = fetch("SELECT * FROM products ORDER BY id")
    error = assert_error(admin.post("/products.merge", json=body), status, code)
    assert field in error["errors"], error
    assert fetch("SELECT * FROM products ORDER BY id") == before
