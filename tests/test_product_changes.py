"""/products.changes/<id>: who added a product, who changed what and when, found by an index."""

import io

import pytest

from tests.helpers import add_product, assert_error, assert_ok, make_catalogue
from tests.images import encode, halves


@pytest.fixture
def catalogue(admin):
    return make_catalogue(admin)


def events(client, product_id, **query):
    return assert_ok(client.get(f"/products.changes/{product_id}", query_string=query))


def test_history_tells_who_added_and_who_changed_what(staff, admin, catalogue, fetch):
    product = add_product(staff, catalogue, "5449000000996", name="Ifri 1.5L")
    other = assert_ok(admin.post("/categories.add", json={"name": "Drinks"}))
    maker = assert_ok(
        admin.post("/companies.add", json={"companies": [{"id": 2, "name": "Hamoud"}]})
    )
    assert_ok(staff.post("/products.update", json={"id": product["id"], "name": "Ifri 1.5 L"}))
    changes = {"id": product["id"], "category_id": other["id"], "company_id": maker["mapping"]["2"]}
    assert_ok(admin.post("/products.update", json=changes))
    # A field sent with the value it has already: recorded as sent, but nothing changed.
    assert_ok(
        admin.post("/products.update", json={"id": product["id"], "barcode": "5449000000996"})
    )

    found = events(admin, product["id"])
    assert [e["kind"] for e in found] == [
        "product_updated",
        "product_updated",
        "product_updated",
        "product_added",
    ]
    unchanged, by_admin, by_staff, added = found
    assert added["by"] == {"id": staff.user["id"], "name": None, "email": staff.user["email"]}
    assert by_staff["by"]["id"] == staff.user["id"]
    assert by_staff["details"]["changes"] == {"name": {"from": "Ifri 1.5L", "to": "Ifri 1.5 L"}}
    assert by_admin["by"]["id"] == admin.user["id"]
    assert by_admin["details"]["changes"] == {
        "category": {
            "from": {"id": catalogue["category_id"], "name": "Food"},
            "to": {"id": other["id"], "name": "Drinks"},
        },
        "company": {
            "from": {"id": catalogue["company_id"], "name": "Ifri"},
            "to": {"id": maker["mapping"]["2"], "name": "Hamoud"},
        },
    }
    assert unchanged["details"]["fields"] == ["barcode"]
    assert unchanged["details"]["changes"] == {}
    # Each event carries the product's id in its own indexed column.
    rows = fetch("SELECT product_id FROM activity WHERE kind LIKE 'product_%' ORDER BY id")
    assert [row["product_id"] for row in rows] == [product["id"]] * 4


def test_photos_and_deletion_are_in_the_history(staff, admin, catalogue):
    product = add_product(staff, catalogue, "036000291452")
    image = encode(halves(), "JPEG")
    photo = assert_ok(
        staff.post(
            "/photo.upload",
            data={"product_id": str(product["id"]), "file": (io.BytesIO(image), "a.jpg")},
            content_type="multipart/form-data",
        )
    )
    assert_ok(admin.post("/photo.delete", json={"id": photo["id"]}))
    assert_ok(admin.post("/products.delete", json={"id": product["id"]}))
    # Deleted, the product still has its history.
    found = events(staff, product["id"])
    assert [(e["kind"], e["by"]["id"]) for e in found] == [
        ("product_deleted", admin.user["id"]),
        ("photo_deleted", admin.user["id"]),
        ("photo_uploaded", staff.user["id"]),
        ("product_added", staff.user["id"]),
    ]
    assert found[2]["details"]["photo_id"] == photo["id"]


def test_history_pages(staff, catalogue):
    product = add_product(staff, catalogue, "96385074")
    for n in range(4):
        assert_ok(staff.post("/products.update", json={"id": product["id"], "name": f"Name {n}"}))
    first = staff.get(f"/products.changes/{product['id']}", query_string={"limit": 3}).get_json()
    assert len(first["data"]) == 3 and first["next_cursor"]
    rest = events(staff, product["id"], limit=3, cursor=first["next_cursor"])
    kinds = [e["kind"] for e in first["data"] + rest]
    assert kinds == ["product_updated"] * 4 + ["product_added"]
    names = [e["details"]["changes"]["name"]["to"] for e in first["data"]]
    assert names == ["Name 3", "Name 2", "Name 1"]


def test_other_products_events_stay_out(staff, catalogue):
    mine = add_product(staff, catalogue, "96385074")
    other = add_product(staff, catalogue, "036000291452")
    assert_ok(staff.post("/products.update", json={"id": other["id"], "name": "Other"}))
    assert [e["kind"] for e in events(staff, mine["id"])] == ["product_added"]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/products.changes/999999", 404, "product_not_found"),
        ("/products.changes/0", 422, "validation_failed"),
        ("/products.changes/abc", 422, "validation_failed"),
        ("/products.changes/1?limit=0", 422, "validation_failed"),
        ("/products.changes/1?cursor=zz", 422, "invalid_cursor"),
    ],
)
def test_invalid_requests(staff, catalogue, path, status, code):
    add_product(staff, catalogue, "96385074")
    assert_error(staff.get(path), status, code)


def test_history_needs_a_signed_in_staff_member(client, staff, catalogue):
    product = add_product(staff, catalogue, "96385074")
    assert_error(client.get(f"/products.changes/{product['id']}"), 401, "not_signed_in")
