"""The export with its photo URLs: signed 1,000 at a time, and what happens when Storage fails."""

import csv
import io
import json

import httpx
import pytest
from sqlalchemy import insert

from productinfo.catalog.service import name_key
from productinfo.db import utcnow
from productinfo.products.models import products
from tests.fake_supabase import BUCKET, UNAVAILABLE
from tests.helpers import admin_with_product, assert_error, assert_ok
from tests.servers import waitress
from tests.test_photo_urls import add_photo_rows


@pytest.fixture
def on_supabase(make_supabase_app):
    """An app storing photos in the fake bucket, an admin client of it, and a product."""
    app = make_supabase_app()
    return app, *admin_with_product(app)


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_photo_urls_are_signed_1000_at_a_time(on_supabase, supabase_server):
    """600 photos among the first 1,000 products: 1,200 keys to sign."""
    app, admin, product_id = on_supabase
    keys = add_photo_rows(app, product_id, admin.user["id"], 600)
    for key in keys:
        supabase_server.objects[f"{BUCKET}/{key}"] = (b"x", "image/jpeg")
    supabase_server.requests.clear()
    [row] = rows_of(admin.get("/products.export?format=csv"))
    urls = row["photo_urls"].split(" ")
    sign = f"{supabase_server.url}/storage/v1/object/sign/{BUCKET}/"
    assert [url.split("?token=")[0] for url in urls] == [sign + key for key in keys[::2]]
    assert [len(call.json["paths"]) for call in supabase_server.requests] == [1000, 200]
    assert httpx.get(urls[-1]).content == b"x"


def test_a_searched_export_signs_its_photo_urls_too(on_supabase, supabase_server):
    app, admin, product_id = on_supabase
    for key in add_photo_rows(app, product_id, admin.user["id"], 1):
        supabase_server.objects[f"{BUCKET}/{key}"] = (b"x", "image/jpeg")
    name = assert_ok(admin.get(f"/products.getById/{product_id}"))["name"]
    [row] = rows_of(admin.get(f"/products.export?format=csv&q={name[:5]}"))
    assert row["photo_urls"].startswith(f"{supabase_server.url}/storage/v1/object/sign/{BUCKET}/")
    assert httpx.get(row["photo_urls"]).content == b"x"


@pytest.mark.parametrize("format", ["csv", "json"])
def test_storage_down_before_the_download_starts_is_a_503(on_supabase, supabase_server, format):
    app, admin, product_id = on_supabase
    add_photo_rows(app, product_id, admin.user["id"], 1)
    supabase_server.failure = UNAVAILABLE
    response = admin.get(f"/products.export?format={format}")
    assert_error(response, 503, "storage_unavailable")
    assert "Content-Disposition" not in response.headers


def add_products(app, catalogue: dict, user_id: int, count: int) -> list[int]:
    """Write `count` products straight into the database; return their ids."""
    now = utcnow()
    rows = [
        {
            "name": f"Product {n}",
            "name_key": name_key(f"Product {n}"),
            "barcode": f"T{n}",
            "barcode_key": f"T{n}",
            **catalogue,
            "created_by": user_id,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    with app.extensions["db"].engine.begin() as conn:
        conn.execute(insert(products), rows)
        return list(conn.execute(products.select().with_only_columns(products.c.id)).scalars())


@pytest.mark.parametrize("format", ["csv", "json"])
def test_storage_failing_during_the_download_breaks_it_off(
    on_supabase, supabase_server, tmp_path, format
):
    """Over real HTTP: a file cut short must never look whole, so the response is not ended."""
    app, admin, product_id = on_supabase
    product = assert_ok(admin.get(f"/products.getById/{product_id}"))
    catalogue = {"category_id": product["category"]["id"], "company_id": product["company"]["id"]}
    ids = add_products(app, catalogue, admin.user["id"], 1001)
    # One photo in the first batch of 1,000 products, one in the second.
    for product_id in (ids[0], ids[-1]):
        for key in add_photo_rows(app, product_id, admin.user["id"], 1):
            supabase_server.objects[f"{BUCKET}/{key}"] = (b"x", "image/jpeg")
    supabase_server.down_after_signings = 1  # the first batch is signed, then Storage fails
    env = {
        **supabase_server.app_config(),
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "INSTANCE_PATH": str(tmp_path / "served"),
    }
    token = {"Authorization": admin.environ_base["HTTP_AUTHORIZATION"]}
    received = b""
    with waitress(env, tmp_path / "waitress.log") as url:
        with httpx.stream("GET", f"{url}/products.export?format={format}", headers=token) as got:
            assert got.status_code == 200
            with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
                for chunk in got.iter_raw():
                    received += chunk
    text = received.decode("utf-8-sig")
    if format == "csv":
        assert text.startswith("id,name,barcode") and "Product 499" in text
    else:
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
    assert "Product 1000" not in text
