"""/photo.upload and /photo.delete through HTTP, with the local folder and Supabase backends."""

import io
import os

import pytest
from sqlalchemy import text

from tests.fake_supabase import UNAVAILABLE
from tests.helpers import (
    Auth,
    add_product,
    admin_with_product,
    assert_error,
    assert_ok,
    make_catalogue,
)
from tests.images import (
    GPS_IFD,
    HTML,
    SVG,
    encode,
    halves,
    opened,
    phone_exif,
    png_header,
)

JPEG = encode(halves((640, 480)), "JPEG")


@pytest.fixture
def product(staff, admin):
    """A product the staff member added."""
    return add_product(staff, make_catalogue(admin), "6130234000010", name="Ifri 1.5L")


def upload(client, product_id, data, filename="photo.jpg", content_type="image/jpeg"):
    return client.post(
        "/photo.upload",
        data={"product_id": str(product_id), "file": (io.BytesIO(data), filename, content_type)},
        content_type="multipart/form-data",
    )


def download(client, url, **kwargs):
    """Fetch a stored photo, closing the file the server opened for it."""
    with client.get(url, **kwargs) as response:
        response.data_bytes = response.get_data()
        return response


def stored_files(app):
    root = app.config["STORAGE_DIR"]
    return sorted(
        os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files
    )


ACCEPTED = {
    "jpeg": (encode(halves(), "JPEG"), "image/jpeg"),
    "png": (encode(halves(), "PNG"), "image/png"),
    "webp": (encode(halves(), "WEBP", quality=90), "image/webp"),
    "heic": (encode(halves(), "HEIF", quality=90), "image/jpeg"),
}


@pytest.mark.parametrize(("data", "content_type"), ACCEPTED.values(), ids=ACCEPTED)
def test_upload_each_accepted_format(staff, product, fetch, data, content_type):
    photo = assert_ok(
        upload(
            staff,
            product["id"],
            data,
            filename="IMG_0001.HEIC",
            content_type="application/octet-stream",
        )
    )
    assert photo["content_type"] == content_type
    assert (photo["width"], photo["height"]) == (400, 200)
    assert photo["product_id"] == product["id"]
    stored = download(staff, photo["url"])
    assert stored.status_code == 200 and stored.mimetype == content_type
    assert stored.headers["X-Content-Type-Options"] == "nosniff"
    assert len(stored.data_bytes) == photo["size"]
    thumbnail = download(staff, photo["thumbnail_url"])
    assert thumbnail.mimetype == "image/webp"
    assert opened(thumbnail.data_bytes).size == (320, 160)
    [row] = fetch("SELECT product_id, created_by FROM photos")
    assert row["created_by"] == staff.user["id"]


def test_phone_photo_is_turned_upright_and_stripped(staff, product):
    data = encode(halves((400, 200)), "JPEG", exif=phone_exif())
    assert b"PhoneMaker" in data
    photo = assert_ok(upload(staff, product["id"], data))
    assert (photo["width"], photo["height"]) == (200, 400)  # orientation 6: turned a quarter
    stored = download(staff, photo["url"]).data_bytes
    assert b"PhoneMaker" not in stored and b"Exif" not in stored
    image = opened(stored)
    assert not image.getexif() and not image.getexif().get_ifd(GPS_IFD)
    top, bottom = (
        image.convert("RGB").getpixel((100, 50)),
        image.convert("RGB").getpixel((100, 350)),
    )
    assert top[0] > top[2] and bottom[2] > bottom[0]  # red on top, blue below: turned clockwise


REFUSED = {
    "html named .jpg": (HTML, 415, "unsupported_image_type"),
    "svg named .jpg": (SVG, 415, "unsupported_image_type"),
    "pdf named .jpg": (encode(halves(), "PDF"), 415, "unsupported_image_type"),
    "truncated jpeg": (JPEG[: len(JPEG) // 2], 422, "corrupt_image"),
    "pixel bomb": (png_header(100_000, 100_000), 422, "too_many_pixels"),
}


@pytest.mark.parametrize(("data", "status", "code"), REFUSED.values(), ids=REFUSED)
def test_refused_uploads_leave_nothing(app, staff, product, fetch, data, status, code):
    assert_error(upload(staff, product["id"], data), status, code)
    assert fetch("SELECT id FROM photos") == []
    assert stored_files(app) == []


def test_too_large(make_app):
    app = make_app(MAX_PHOTO_BYTES=len(JPEG) - 1)
    client, product_id = admin_with_product(app)
    body = assert_error(upload(client, product_id, JPEG), 413, "photo_too_large")
    assert (
        f"The photo is {len(JPEG):,} bytes; the limit is {len(JPEG) - 1:,} bytes."
        in (body["message"])
    )
    assert (
        "up to 25,000,000 bytes in two steps, starting with /photo.startUpload" in (body["message"])
    )
    # Over the request limit the form is not even read: the same code, the same advice.
    huge = make_app(MAX_CONTENT_LENGTH=1000, MAX_PHOTO_BYTES=500)
    body = assert_error(
        upload(Auth(huge).client(email="x@example.com"), product_id, JPEG), 413, "photo_too_large"
    )
    assert "/photo.startUpload" in body["message"]
    # Any other endpoint over the request limit is just too large.
    big_json = {"products": [{"name": "x" * 2000, "barcode": "1"}]}
    assert_error(
        Auth(huge).client(email="y@example.com").post("/products.add", json=big_json),
        413,
        "payload_too_large",
    )


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({"product_id": "1"}, 422, "validation_failed"),  # no file
        ({"file": JPEG}, 422, "validation_failed"),  # no product
        ({"product_id": "abc", "file": JPEG}, 422, "validation_failed"),
        ({"product_id": "999", "file": JPEG}, 404, "product_not_found"),
    ],
)
def test_upload_rejects_bad_forms(staff, product, form, status, code):
    if "file" in form:
        form = {**form, "file": (io.BytesIO(form["file"]), "a.jpg")}
    assert_error(
        staff.post("/photo.upload", data=form, content_type="multipart/form-data"), status, code
    )


def test_same_bytes_twice_give_the_same_photo(app, staff, auth, product, fetch):
    first = assert_ok(upload(staff, product["id"], JPEG))
    again = upload(auth.client(), product["id"], JPEG)
    assert assert_ok(again) == first
    assert again.get_json()["message"] == "This photo was stored already."
    assert len(fetch("SELECT id FROM photos")) == 1
    assert len(stored_files(app)) == 2


def test_products_list_their_photos(staff, product):
    first = assert_ok(upload(staff, product["id"], JPEG))
    second = assert_ok(upload(staff, product["id"], encode(halves(), "PNG")))
    for answer in (
        assert_ok(staff.get(f"/products.getById/{product['id']}")),
        assert_ok(staff.get(f"/products.getByBarcode/{product['barcode']}")),
        assert_ok(staff.get("/products.history"))[0],
        assert_ok(staff.get("/products.search?q=ifri"))[0],
    ):
        assert answer["photos"] == [first, second]
    assert assert_ok(staff.get("/users.me"))["stats"]["photos_uploaded"] == 2


def test_delete_removes_row_and_files(app, staff, auth, admin, product, fetch):
    photo = assert_ok(upload(staff, product["id"], JPEG))
    other = auth.client()
    assert_error(other.post("/photo.delete", json={"id": photo["id"]}), 403, "not_your_photo")
    assert len(stored_files(app)) == 2
    assert_ok(staff.post("/photo.delete", json={"id": photo["id"]}))
    assert fetch("SELECT id FROM photos") == []
    assert stored_files(app) == []
    assert_error(staff.get(photo["url"]), 404, "photo_not_found")
    assert_error(staff.post("/photo.delete", json={"id": photo["id"]}), 404, "photo_not_found")
    by_admin = assert_ok(upload(staff, product["id"], JPEG))
    assert_ok(admin.post("/photo.delete", json={"id": by_admin["id"]}))


def test_storage_failure_is_503_and_leaves_no_row(make_app, tmp_path, fetch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the photo folder should be")
    app = make_app(STORAGE_DIR=str(blocker))
    client, refs = admin_with_product(app)
    assert_error(upload(client, refs, JPEG), 503, "storage_unavailable")
    assert fetch("SELECT id FROM photos") == []


REFUSE_PHOTOS = {
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$",
        "CREATE TRIGGER refuse BEFORE INSERT ON photos FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE INSERT ON photos BEGIN SELECT RAISE(ABORT, 'injected'); END"
    ],
}


def test_database_failure_removes_the_stored_files(app, staff, product, fetch):
    # A real failure of the database: a trigger refuses every new photo row.
    with app.extensions["db"].engine.begin() as conn:
        for statement in REFUSE_PHOTOS[conn.dialect.name]:
            conn.execute(text(statement))
    try:
        response = upload(staff, product["id"], JPEG)
        # Postgres reports the trigger as an internal error (500), SQLite as a constraint (409).
        assert_error(response, response.status_code)
        assert response.status_code in (409, 500)
        assert fetch("SELECT id FROM photos") == []
        assert stored_files(app) == []
    finally:
        with app.extensions["db"].engine.begin() as conn:
            conn.execute(
                text(
                    "DROP TRIGGER refuse"
                    + (" ON photos" if conn.dialect.name == "postgresql" else "")
                )
            )
            if conn.dialect.name == "postgresql":
                conn.execute(text("DROP FUNCTION refuse()"))


@pytest.fixture
def on_supabase(make_supabase_app):
    """An admin client, and one of its products, on an app storing photos in Supabase."""
    return admin_with_product(make_supabase_app(SUPABASE_BUCKET_PUBLIC=False))


def test_upload_and_delete_with_supabase_storage(on_supabase, supabase_server, fetch):
    client, product_id = on_supabase
    photo = assert_ok(upload(client, product_id, JPEG))
    assert photo["url"].startswith("/photos/")  # the stable URL, whatever the backend
    assert len(supabase_server.objects) == 2
    supabase_server.requests.clear()
    listed = assert_ok(client.get(f"/products.getById/{product_id}"))["photos"]
    assert listed == [photo]
    assert supabase_server.requests == []  # a list of photos costs no request to Storage

    supabase_server.failure = UNAVAILABLE
    assert_error(upload(client, product_id, encode(halves(), "PNG")), 503, "storage_unavailable")
    assert len(fetch("SELECT id FROM photos")) == 1

    supabase_server.failure = None
    assert_ok(client.post("/photo.delete", json={"id": photo["id"]}))
    assert supabase_server.objects == {}


def test_supabase_down_after_upload_leaves_no_orphan(on_supabase, supabase_server, fetch):
    """The image is stored, the thumbnail fails: the image is removed again."""
    client, product_id = on_supabase
    original_app_put = supabase_server.httpd.app  # the fake's WSGI app

    def fail_thumbnails(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("-thumb.webp"):
            start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "application/json")])
            return [b'{"statusCode": "500", "error": "internal", "message": "down"}']
        return original_app_put(environ, start_response)

    supabase_server.httpd.app = fail_thumbnails
    try:
        assert_error(upload(client, product_id, JPEG), 503, "storage_unavailable")
    finally:
        supabase_server.httpd.app = original_app_put
    assert supabase_server.objects == {}
    assert fetch("SELECT id FROM photos") == []


def test_export_lists_absolute_photo_urls(admin, staff, product):
    import csv

    photo = assert_ok(upload(staff, product["id"], JPEG))
    text = admin.get("/products.export?format=csv").get_data().decode("utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["photo_urls"] == "https://productinfo.test" + photo["url"]
