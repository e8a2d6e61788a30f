"""/sync.pull: everything at first, then only what changed, tombstones included, never a skip."""

import io
import threading
import uuid

import pytest
from sqlalchemy import text

from tests.helpers import add_product, assert_error, assert_ok, make_catalogue
from tests.images import encode, halves

GTINS = ["5449000000996", "036000291452", "96385074", "4006381333931", "10614141000415"]


@pytest.fixture
def catalogue(admin):
    return make_catalogue(admin)


def pull(client, cursor=None, limit=None):
    query = {k: v for k, v in (("cursor", cursor), ("limit", limit)) if v is not None}
    body = client.get("/sync.pull", query_string=query).get_json()
    assert body["status"] == 200, body
    return body


def pull_all(client, cursor=None, limit=None):
    """Pull until nothing more waits; return (merged changes, final cursor)."""
    seen = {"categories": {}, "companies": {}, "products": {}}
    deleted = {"products": set()}
    while True:
        body = pull(client, cursor, limit)
        for kind, changes in body["data"].items():
            for record in changes["changed"]:
                seen[kind][record["id"]] = record
            deleted.setdefault(kind, set()).update(changes["deleted"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return seen, deleted, cursor


def test_first_pull_has_everything(staff, catalogue):
    products = [add_product(staff, catalogue, barcode) for barcode in GTINS[:2]]
    body = pull(staff)
    assert body["has_more"] is False and body["next_cursor"]
    data = body["data"]
    assert [c["name"] for c in data["categories"]["changed"]] == ["Food"]
    assert [c["name"] for c in data["companies"]["changed"]] == ["Ifri"]
    assert data["products"]["changed"] == products
    assert data["products"]["deleted"] == []


def test_next_pull_brings_the_changes(staff, admin, catalogue):
    first = add_product(staff, catalogue, GTINS[0])
    second = add_product(staff, catalogue, GTINS[1])
    mirror, _, cursor = pull_all(staff)
    # Nothing changed: a pull may repeat records (see below) but brings nothing new.
    again, _, cursor = pull_all(staff, cursor)
    assert_repeats(again, mirror)

    assert_ok(staff.post("/products.update", json={"id": first["id"], "name": "Renamed"}))
    assert_ok(staff.post("/products.delete", json={"id": second["id"]}))
    third = add_product(staff, catalogue, GTINS[2])
    assert_ok(
        admin.post("/categories.update", json={"id": catalogue["category_id"], "name": "Drinks"})
    )
    changed, deleted, _ = pull_all(staff, cursor)
    assert changed["products"][first["id"]]["name"] == "Renamed"
    assert changed["products"][third["id"]]["barcode"] == third["barcode"]
    assert deleted["products"] == {second["id"]}
    assert changed["categories"][catalogue["category_id"]]["name"] == "Drinks"
    unchanged = {
        kind: {
            i: r
            for i, r in records.items()
            if i not in (first["id"], third["id"], catalogue["category_id"])
        }
        for kind, records in changed.items()
    }
    assert_repeats(unchanged, mirror)


def assert_repeats(pulled, mirror):
    """Check that a pull brought nothing but records the app has already, unchanged.

    While another transaction runs anywhere on the Postgres server (another test run,
    say), rows committed after it started are sent again until it ends.
    """
    for kind, records in pulled.items():
        for record_id, record in records.items():
            assert mirror[kind][record_id] == record


def test_a_new_photo_brings_its_product_back(staff, catalogue):
    product = add_product(staff, catalogue, GTINS[0])
    cursor = pull(staff)["next_cursor"]
    form = {
        "product_id": str(product["id"]),
        "file": (io.BytesIO(encode(halves(), "JPEG")), "p.jpg"),
    }
    photo = assert_ok(staff.post("/photo.upload", data=form, content_type="multipart/form-data"))
    [changed] = pull(staff, cursor)["data"]["products"]["changed"]
    assert [p["id"] for p in changed["photos"]] == [photo["id"]]


def test_pages(staff, catalogue):
    added = [add_product(staff, catalogue, barcode)["id"] for barcode in GTINS]
    first = pull(staff, limit=2)
    assert first["has_more"] is True
    assert len(first["data"]["products"]["changed"]) == 2
    seen, _, cursor = pull_all(staff, limit=2)
    assert sorted(seen["products"]) == sorted(added)
    again, _, _ = pull_all(staff, cursor, limit=2)
    assert_repeats(again, seen)


def test_pages_through_one_transaction(staff, catalogue):
    """A batch commits many products at once (on Postgres, one change_seq): pages split it."""
    products = [
        {"local_id": n, "name": f"P{n}", "barcode": barcode, **catalogue}
        for n, barcode in enumerate(GTINS)
    ]
    body = {"device_id": str(uuid.uuid4()), "products": products}
    added = assert_ok(staff.post("/products.add", json=body))["mapping"]
    seen, _, _ = pull_all(staff, limit=2)
    assert sorted(seen["products"]) == sorted(added.values())


@pytest.mark.parametrize(
    "cursor", ["nope", "eyJwIjogMX0", "eyJwIjogeyJ4IjogWzEsIDJdfX0", "e30", "W10"]
)
def test_bad_cursors(staff, cursor):
    assert_error(staff.get(f"/sync.pull?cursor={cursor}"), 422, "invalid_cursor")


@pytest.mark.parametrize("query", ["limit=0", "limit=1001"])
def test_bad_limits(staff, query):
    assert_error(staff.get(f"/sync.pull?{query}"), 422, "validation_failed")


def test_pull_needs_an_approved_user(client):
    assert_error(client.get("/sync.pull"), 401, "not_signed_in")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_transaction_that_commits_late_is_not_skipped(app, staff, catalogue):
    """Writer A holds its transaction open while writer B commits and a puller moves on."""
    cursor = pull(staff)["next_cursor"]
    engine = app.extensions["db"].engine
    user_id = staff.user["id"]
    insert = text(
        "INSERT INTO products (name, name_key, barcode, barcode_key, category_id, company_id,"
        " created_by, created_at, updated_at) VALUES (:name, :name_key, :code, :key, :category,"
        " :company, :user, now(), now())"
    )

    def values(name, code):
        return {
            "name": name,
            "name_key": name,
            "code": code,
            "key": code.zfill(14),
            "category": catalogue["category_id"],
            "company": catalogue["company_id"],
            "user": user_id,
        }

    with engine.connect() as writer_a:
        writer_a.execute(insert, values("late", GTINS[0]))  # stamped first, committed last
        with engine.begin() as writer_b:
            writer_b.execute(insert, values("early", GTINS[1]))
        body = pull(staff, cursor)
        assert [p["name"] for p in body["data"]["products"]["changed"]] == ["early"]
        cursor = body["next_cursor"]
        writer_a.commit()
    names = [p["name"] for p in pull(staff, cursor)["data"]["products"]["changed"]]
    assert "late" in names


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_same_batch_pushed_from_several_threads_makes_one_set_of_rows(
    app, staff, catalogue, fetch
):
    device = str(uuid.uuid4())
    companies = [{"id": n, "name": f"Maker {n}"} for n in range(5)]
    products = [
        {
            "local_id": n,
            "name": f"P{n}",
            "barcode": barcode,
            "category_id": catalogue["category_id"],
            "company_local_id": str(n),
        }
        for n, barcode in enumerate(GTINS)
    ]
    token = staff.environ_base["HTTP_AUTHORIZATION"]
    barrier = threading.Barrier(6)
    answers, failures = [], []

    def push():
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = token
        barrier.wait()
        try:
            made = client.post("/companies.add", json={"device_id": device, "companies": companies})
            added = client.post("/products.add", json={"device_id": device, "products": products})
            answers.append(
                (made.get_json()["data"]["mapping"], added.get_json()["data"]["mapping"])
            )
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=push) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(answers) == 6 and all(answer == answers[0] for answer in answers)
    assert len(fetch("SELECT id FROM companies")) == 1 + len(companies)  # with the fixture's Ifri
    assert len(fetch("SELECT id FROM products")) == len(products)
    assert len(fetch("SELECT id FROM sync_mappings")) == len(companies) + len(products)
