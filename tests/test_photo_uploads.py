"""Photos in two steps: /photo.startUpload, the bytes to the upload URL, /photo.finishUpload."""

import datetime as dt
import io
import os
import uuid

import httpx
import pytest
from sqlalchemy import text

from tests.fake_supabase import BUCKET, README_LIMITS, UNAVAILABLE
from tests.helpers import (
    add_product,
    admin_with_product,
    assert_error,
    assert_ok,
    make_catalogue,
)
from tests.images import HTML, encode, halves, opened, phone_sized_jpeg
from tests.servers import waitress

JPEG = encode(halves((640, 480)), "JPEG")
DEVICE = str(uuid.uuid4())


@pytest.fixture
def product(staff, admin):
    return add_product(staff, make_catalogue(admin), "6130234000010", name="Ifri 1.5L")


def start(client, product_id=None, data=JPEG, **more):
    body = {"size": len(data), "content_type": "image/jpeg", **more}
    if product_id is not None:
        body["product_id"] = product_id
    return client.post("/photo.startUpload", json=body)


def send(app, ticket, data):
    """PUT the bytes to a local upload URL as the app does: no token, the URL authorises."""
    return app.test_client().put(ticket["upload_url"], data=data, headers=ticket["headers"])


def finish(client, ticket):
    return client.post("/photo.finishUpload", json={"upload_id": ticket["upload_id"]})


def staged_files(app) -> list[str]:
    folder = os.path.join(app.config["STORAGE_DIR"], "staging")
    return os.listdir(folder) if os.path.isdir(folder) else []


# The local backend


def test_two_steps_store_the_photo_as_photo_upload_does(app, staff, product, fetch):
    ticket = assert_ok(start(staff, product["id"]))
    assert ticket["upload_url"].startswith("/uploads/") and len(ticket["upload_url"]) > 40
    assert (ticket["method"], ticket["headers"]) == ("PUT", {"Content-Type": "image/jpeg"})
    assert ticket["max_bytes"] == 25_000_000
    expires = dt.datetime.fromisoformat(ticket["expires_at"])
    assert (
        dt.timedelta(hours=1, minutes=59)
        < expires - dt.datetime.now(dt.UTC)
        <= dt.timedelta(hours=2)
    )
    assert assert_ok(send(app, ticket, JPEG)) == {"size": len(JPEG)}
    assert len(staged_files(app)) == 1

    answer = finish(staff, ticket)
    photo = assert_ok(answer)
    assert (photo["product_id"], photo["width"], photo["height"]) == (product["id"], 640, 480)
    with staff.get(photo["url"]) as served:
        assert served.status_code == 200
    assert staged_files(app) == []  # removed once the photo is stored
    # A retry after a lost answer gets the very same answer, and stores nothing more.
    again = finish(staff, ticket)
    assert again.get_json() == answer.get_json()
    assert len(fetch("SELECT id FROM photos")) == 1
    # The bytes sent in one request afterwards are recognised as the same photo.
    form = {"product_id": str(product["id"]), "file": (io.BytesIO(JPEG), "a.jpg")}
    same = staff.post("/photo.upload", data=form, content_type="multipart/form-data")
    assert (
        assert_ok(same) == photo and same.get_json()["message"] == "This photo was stored already."
    )


def test_a_device_pushes_in_two_steps_with_the_ledger(app, staff, product, fetch):
    local = {"device_id": DEVICE, "local_id": 40}
    pushed = {
        "local_id": 12,
        "name": "Lben",
        "barcode": "6130234000027",
        "category_id": product["category"]["id"],
        "company_id": product["company"]["id"],
    }
    assert_ok(staff.post("/products.add", json={"device_id": DEVICE, "products": [pushed]}))
    ticket = assert_ok(start(staff, product_local_id=12, **local))
    send(app, ticket, JPEG)
    answer = assert_ok(finish(staff, ticket))
    photo_id = answer["photo"]["id"]
    assert answer["mapping"] == {"40": photo_id}
    assert answer["results"][0]["status"] == "created"
    assert finish(staff, ticket).get_json()["data"] == answer  # the same answer on a retry
    # The same local id sent again in one request is the photo pushed before.
    form = {**{k: str(v) for k, v in local.items()}, "product_local_id": "12"}
    form["file"] = (io.BytesIO(JPEG), "a.jpg")
    again = assert_ok(staff.post("/photo.upload", data=form, content_type="multipart/form-data"))
    assert again["results"][0]["status"] == "existing" and again["photo"]["id"] == photo_id


def test_the_upload_url_takes_bytes_until_finished_and_only_then(app, staff, product):
    ticket = assert_ok(start(staff, product["id"]))
    send(app, ticket, b"first attempt, lost")
    assert_ok(send(app, ticket, JPEG))  # a retry replaces the first bytes
    assert_ok(finish(staff, ticket))
    assert_error(send(app, ticket, JPEG), 404, "upload_not_found")
    forged = {**ticket, "upload_url": "/uploads/" + "A" * 43}
    assert_error(send(app, forged, JPEG), 404, "upload_not_found")
    # Only PUT: the upload URL is not an endpoint of the API.
    assert app.test_client().post(ticket["upload_url"]).status_code == 405


def test_an_upload_expires(app, staff, product):
    ticket = assert_ok(start(staff, product["id"]))
    with app.extensions["db"].engine.begin() as conn:
        conn.execute(text("UPDATE photo_uploads SET expires_at = created_at"))
    assert_error(send(app, ticket, JPEG), 404, "upload_expired")
    assert_error(finish(staff, ticket), 404, "upload_expired")


def test_finishing_before_the_bytes_arrive_is_a_conflict(staff, product):
    ticket = assert_ok(start(staff, product["id"]))
    body = assert_error(finish(staff, ticket), 409, "upload_not_received")
    assert "upload_url" in body["message"]


def test_an_upload_is_finished_by_whoever_started_it(app, staff, auth, product):
    ticket = assert_ok(start(staff, product["id"]))
    send(app, ticket, JPEG)
    assert_error(finish(auth.client(), ticket), 404, "upload_not_found")
    assert_error(
        staff.post("/photo.finishUpload", json={"upload_id": 999}), 404, "upload_not_found"
    )


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [(HTML, 415, "unsupported_image_type"), (JPEG[: len(JPEG) // 2], 422, "corrupt_image")],
    ids=["html", "truncated"],
)
def test_finishing_checks_the_photo_by_its_content(app, staff, product, fetch, data, status, code):
    ticket = assert_ok(start(staff, product["id"], data))
    send(app, ticket, data)
    assert_error(finish(staff, ticket), status, code)
    assert fetch("SELECT id FROM photos") == []


def test_too_large_at_start_and_whichever_way_the_bytes_came(make_app):
    app = make_app(MAX_UPLOAD_BYTES=len(JPEG) + 10, MAX_PHOTO_BYTES=len(JPEG))
    client, product_id = admin_with_product(app)
    body = assert_error(start(client, product_id, b"x" * (len(JPEG) + 11)), 413, "photo_too_large")
    assert f"the limit is {len(JPEG) + 10:,} bytes" in body["message"]
    # Declared small, sent large: the upload URL refuses what is over the limit.
    ticket = assert_ok(start(client, product_id))
    assert_error(send(app, ticket, JPEG + b"\0" * 11), 413, "photo_too_large")
    # And what came within the limit but is larger than MAX_UPLOAD_BYTES now is refused too.
    send(app, ticket, JPEG + b"\0" * 10)
    smaller = make_app(MAX_UPLOAD_BYTES=len(JPEG), MAX_PHOTO_BYTES=len(JPEG))
    same_user = smaller.test_client()
    same_user.environ_base["HTTP_AUTHORIZATION"] = client.environ_base["HTTP_AUTHORIZATION"]
    assert_error(finish(same_user, ticket), 413, "photo_too_large")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"size": 10}, 422, "validation_failed"),
        ({"product_id": 1, "size": 0}, 422, "validation_failed"),
        ({"product_id": 1, "size": 10, "content_type": "text/html"}, 422, "validation_failed"),
        ({"product_id": 999, "size": 10}, 404, "product_not_found"),
        ({"device_id": DEVICE, "local_id": 1, "size": 10}, 422, "validation_failed"),
        (
            {"device_id": DEVICE, "local_id": 1, "product_local_id": 77, "size": 10},
            422,
            "unknown_product",
        ),
    ],
)
def test_start_refuses_bad_bodies(staff, product, body, status, code):
    assert_error(staff.post("/photo.startUpload", json=body), status, code)


def test_start_needs_a_signed_in_user(client):
    assert_error(start(client, 1), 401, "not_signed_in")


def test_a_phone_sized_photo_end_to_end_over_http(app, auth, tmp_path, fetch):
    """A 12 MB photo, three times what one request may carry, served by waitress."""
    data = phone_sized_jpeg()
    assert len(data) > 12_000_000 > app.config["MAX_CONTENT_LENGTH"]
    admin = auth.client("admin")
    product_id = add_product(admin, make_catalogue(admin), "X1")["id"]
    photos_dir = tmp_path / "served-photos"
    env = {
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "INSTANCE_PATH": str(tmp_path / "served"),
        "STORAGE_DIR": str(photos_dir),
        "MAX_UPLOAD_BYTES": "13000000",
    }
    token = {"Authorization": admin.environ_base["HTTP_AUTHORIZATION"]}
    with waitress(env, tmp_path / "waitress.log") as url, httpx.Client() as http:
        body = {"product_id": product_id, "size": len(data)}
        ticket = http.post(f"{url}/photo.startUpload", json=body, headers=token).json()["data"]
        assert ticket["headers"] == {"Content-Type": "application/octet-stream"}
        sent = http.put(url + ticket["upload_url"], content=data, headers=ticket["headers"])
        assert sent.status_code == 200, sent.text
        finished = http.post(
            f"{url}/photo.finishUpload", json={"upload_id": ticket["upload_id"]}, headers=token
        )
        assert finished.status_code == 200, finished.text
        photo = finished.json()["data"]
        assert (photo["width"], photo["height"]) == (4000, 3000)
        image = http.get(url + photo["url"], headers=token)
        assert image.status_code == 200 and opened(image.content).size == (4000, 3000)
        assert http.get(url + photo["url"]).status_code == 401

        # Sent in chunks, without a length, over the limit: refused as it comes.
        ticket = http.post(
            f"{url}/photo.startUpload", json={**body, "size": 10}, headers=token
        ).json()["data"]

        def chunks():
            yield from (data[i : i + 1_000_000] for i in range(0, len(data), 1_000_000))
            yield b"\0" * 1_000_000

        over = http.put(url + ticket["upload_url"], content=chunks())
        assert (over.status_code, over.json()["code"]) == (413, "photo_too_large")
    assert len(fetch("SELECT id FROM photos")) == 1
    assert not (photos_dir / "staging").exists() or list((photos_dir / "staging").iterdir()) == []


# Supabase Storage: the bytes go to a signed upload URL of the bucket


@pytest.fixture
def on_supabase(make_supabase_app, supabase_server):
    """An app, an admin client and one of its products, photos in a bucket with README limits."""
    supabase_server.limits = dict(README_LIMITS)
    app = make_supabase_app()
    return app, *admin_with_product(app)


def test_a_phone_sized_photo_through_a_signed_upload_url(on_supabase, supabase_server, fetch):
    app, client, product_id = on_supabase
    data = phone_sized_jpeg()
    ticket = assert_ok(start(client, product_id, data, content_type="image/jpeg"))
    staging = f"{supabase_server.url}/storage/v1/object/upload/sign/{BUCKET}/staging/"
    assert ticket["upload_url"].startswith(staging) and "?token=" in ticket["upload_url"]
    assert "/uploads/" not in {rule.rule for rule in app.url_map.iter_rules()}

    sent = httpx.put(ticket["upload_url"], content=data, headers=ticket["headers"])
    assert sent.status_code == 200, sent.text
    answer = finish(client, ticket)
    photo = assert_ok(answer)
    assert (photo["width"], photo["height"]) == (4000, 3000)
    keys = {
        f"{BUCKET}/{photo['url'].removeprefix('/photos/')}",
        f"{BUCKET}/" + photo["thumbnail_url"].removeprefix("/photos/"),
    }
    assert set(supabase_server.objects) == keys  # the staged bytes are gone
    assert finish(client, ticket).get_json() == answer.get_json()
    assert len(fetch("SELECT id FROM photos")) == 1


def test_a_photo_larger_than_the_limit_is_refused_when_finished(on_supabase, supabase_server):
    app, client, product_id = on_supabase
    supabase_server.limits = {}  # a bucket without the README's size limit
    ticket = assert_ok(start(client, product_id))
    oversized = JPEG + b"\0" * 25_000_000
    assert httpx.put(ticket["upload_url"], content=oversized, headers=ticket["headers"]).is_success
    body = assert_error(finish(client, ticket), 413, "photo_too_large")
    assert "the limit is 25,000,000 bytes" in body["message"]


def test_a_heic_photo_goes_through_the_readme_bucket(on_supabase, supabase_server):
    app, client, product_id = on_supabase
    heic = encode(halves(), "HEIF", quality=90)
    ticket = assert_ok(start(client, product_id, heic, content_type="image/heic"))
    assert httpx.put(ticket["upload_url"], content=heic, headers=ticket["headers"]).is_success
    assert assert_ok(finish(client, ticket))["content_type"] == "image/jpeg"


def test_storage_down_at_start_is_503(on_supabase, supabase_server, fetch):
    app, client, product_id = on_supabase
    supabase_server.failure = UNAVAILABLE
    assert_error(start(client, product_id), 503, "storage_unavailable")
    assert fetch("SELECT id FROM photo_uploads") == []
