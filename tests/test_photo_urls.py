"""Stable photo URLs: GET /photos/<key> for signed-in staff, on the local and Supabase backends."""

import os
import re
import time

import httpx
import pytest
from sqlalchemy import insert

from productinfo.db import utcnow
from productinfo.photos.models import photos
from productinfo.storage import make_key, make_staging_key
from tests.fake_supabase import BUCKET
from tests.helpers import (
    Auth,
    add_product,
    admin_with_product,
    assert_error,
    assert_ok,
    make_catalogue,
)
from tests.test_photos import JPEG, download
from tests.test_photos import upload as upload_photo

YEAR = 365 * 24 * 3600


def upload(client, product_id):
    return assert_ok(upload_photo(client, product_id, JPEG))


def add_photo_rows(app, product_id: int, user_id: int, count: int) -> list[str]:
    """Write `count` photo rows straight into the database; return their keys."""
    now, rows = utcnow(), []
    for n in range(count):
        digest = f"{product_id:08x}{n:056x}"
        rows.append(
            {
                "product_id": product_id,
                "sha256": digest,
                "key": make_key(digest, "image/jpeg"),
                "thumbnail_key": make_key(digest, "image/webp", variant="thumb"),
                "content_type": "image/jpeg",
                "width": 4,
                "height": 3,
                "size": 10,
                "created_by": user_id,
                "created_at": now,
            }
        )
    with app.extensions["db"].engine.begin() as conn:
        conn.execute(insert(photos), rows)
    return [key for row in rows for key in (row["key"], row["thumbnail_key"])]


@pytest.fixture
def product(staff, admin):
    return add_product(staff, make_catalogue(admin), "6130234000010", name="Ifri 1.5L")


# The local backend


def test_a_stable_url_serves_the_photo_to_staff_only(app, staff, auth, client, product):
    photo = upload(staff, product["id"])
    assert re.fullmatch(r"/photos/[0-9a-f]{2}/[0-9a-f]{62}\.jpg", photo["url"])
    assert photo["thumbnail_url"] == photo["url"].replace(".jpg", "-thumb.webp")

    served = download(auth.client(), photo["url"])  # any colleague
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert len(served.data_bytes) == photo["size"]
    cache = served.cache_control
    assert (cache.private, cache.public, cache.max_age, cache.immutable) == (
        True,
        False,
        YEAR,
        True,
    )
    again = download(staff, photo["url"], headers={"If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304

    # A stranger learns nothing: not whether it exists, not its bytes.
    for url in (photo["url"], photo["url"].replace(photo["url"][10:20], "0" * 10)):
        body = assert_error(download(client, url), 401, "not_signed_in")
        assert "photos" not in body["message"]
    bad_token = {"Authorization": "Bearer not-a-token"}
    assert_error(download(client, photo["url"], headers=bad_token), 401, "token_invalid")


def test_an_account_waiting_for_approval_sees_no_photo(make_app):
    app = make_app(SIGNUP_MODE="approval")
    owner, product_id = admin_with_product(app)
    photo = upload(owner, product_id)
    assert_error(download(Auth(app).client(), photo["url"]), 403, "approval_pending")


def test_a_missing_photo_is_404(staff):
    missing = make_key("ab" * 32, "image/jpeg")
    assert_error(download(staff, f"/photos/{missing}"), 404, "photo_not_found")


def test_an_upload_waiting_to_be_checked_is_never_served(app, staff):
    staged = make_staging_key()
    with app.app_context():
        app.extensions["storage"].backend.put(staged, JPEG, "application/octet-stream")
    assert_error(download(staff, f"/photos/{staged}"), 404, "photo_not_found")


@pytest.mark.parametrize(
    "path",
    [
        "/photos/../secret_key",
        "/photos/%2e%2e/secret_key",
        "/photos/%2E%2E%2Fsecret_key",
        "/photos/..%2f..%2finstance/secret_key",
        "/photos/ab/..%2f..%2fsecret_key",
        "/photos//etc/passwd",
        "/photos/%2fetc%2fpasswd",
    ],
)
def test_the_photo_route_never_leaves_the_folder(app, staff, path):
    # The development key lives in the instance folder, one level above the photos.
    os.makedirs(app.instance_path, exist_ok=True)
    with open(os.path.join(app.instance_path, "secret_key"), "w") as file:
        file.write("the-development-secret")
    response = download(staff, path)
    assert_error(response, 404)
    assert b"the-development-secret" not in response.data_bytes
    assert b"root:" not in response.data_bytes


def test_photos_are_not_counted_against_the_request_limit(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATE_LIMIT="5 per minute")
    client, product_id = admin_with_product(app)
    photo = upload(client, product_id)
    for _ in range(8):
        assert download(client, photo["url"]).status_code == 200


def test_the_stable_path_is_in_the_openapi_document(client):
    operation = client.get("/openapi.json").get_json()["paths"]["/photos/{key}"]["get"]
    assert operation["security"] == [{"bearerAuth": []}]
    assert [p["name"] for p in operation["parameters"]] == ["key"]
    assert set(operation["responses"]["200"]["content"]) == {
        "image/jpeg",
        "image/png",
        "image/webp",
    }
    assert "302" in operation["description"]


# Supabase Storage


def test_private_bucket_redirects_staff_to_a_fresh_signed_url(make_supabase_app, supabase_server):
    app = make_supabase_app(SIGNED_URL_SECONDS=2)
    client, product_id = admin_with_product(app)
    photo = upload(client, product_id)
    assert photo["url"].startswith("/photos/")

    first = client.get(photo["url"])
    assert first.status_code == 302
    sign = f"{supabase_server.url}/storage/v1/object/sign/{BUCKET}/"
    assert first.location.startswith(sign + photo["url"].removeprefix("/photos/") + "?token=")
    assert (first.cache_control.private, first.cache_control.max_age) == (True, 1)
    assert (
        httpx.get(first.location).content
        == supabase_server.objects[f"{BUCKET}/{photo['url'].removeprefix('/photos/')}"][0]
    )

    time.sleep(2.1)  # the signed URL has expired; the stable URL has not
    assert httpx.get(first.location).status_code == 400
    second = client.get(photo["url"])
    assert second.status_code == 302 and second.location != first.location
    assert httpx.get(second.location).status_code == 200

    supabase_server.requests.clear()
    assert_error(app.test_client().get(photo["url"]), 401, "not_signed_in")
    assert supabase_server.requests == []  # a stranger does not even reach Storage


def test_public_bucket_redirects_to_the_public_url(make_supabase_app, supabase_server):
    app = make_supabase_app(SUPABASE_BUCKET_PUBLIC=True)
    client, product_id = admin_with_product(app)
    photo = upload(client, product_id)
    assert photo["url"].startswith("/photos/")  # the day the bucket turns private, it still works
    response = client.get(photo["thumbnail_url"])
    public = f"{supabase_server.url}/storage/v1/object/public/{BUCKET}/"
    assert response.location == public + photo["thumbnail_url"].removeprefix("/photos/")
    assert (response.cache_control.private, response.cache_control.max_age) == (True, 24 * 3600)
    assert httpx.get(response.location).headers["Content-Type"] == "image/webp"


def test_a_missing_object_of_the_bucket_is_404(make_supabase_app, supabase_server):
    app = make_supabase_app()
    client = Auth(app).client()
    assert_error(client.get(f"/photos/{make_key('cd' * 32, 'image/png')}"), 404, "photo_not_found")


def test_lists_cost_no_request_to_storage_however_many_photos(make_supabase_app, supabase_server):
    """A product with 501 photos (1,002 keys, over the 1,000 a signing request takes)."""
    app = make_supabase_app()
    client = Auth(app).client("admin", email="boss@example.com")
    product = add_product(client, make_catalogue(client), "6130234000010", name="Ifri 1.5L")
    keys = add_photo_rows(app, product["id"], client.user["id"], 501)
    for key in keys:
        supabase_server.objects[f"{BUCKET}/{key}"] = (b"x", "image/jpeg")
    supabase_server.requests.clear()
    for url in (
        f"/products.getById/{product['id']}",
        f"/products.getByBarcode/{product['barcode']}",
        "/products.history",
        "/products.search?q=ifri",
        "/sync.pull",
    ):
        data = assert_ok(client.get(url))
        found = (
            data["products"]["changed"][0]
            if "products" in data
            else data[0]
            if isinstance(data, list)
            else data
        )
        assert [photo["url"] for photo in found["photos"]] == [
            f"/photos/{key}" for key in keys[::2]
        ]
    assert supabase_server.requests == []
