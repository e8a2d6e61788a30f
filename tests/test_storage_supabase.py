"""Contract tests of the Supabase backend against a Storage server simulated over real HTTP.

The fake server (tests/fake_supabase.py) answers the endpoints storage3 calls.
Everything else is real: storage3, httpx, sockets.
"""

import hashlib
import re
import socket
import time

import httpx
import pytest
from storage3.exceptions import StorageApiError

from productinfo.storage import (
    PhotoNotFound,
    StorageMisconfigured,
    StorageUnavailable,
    make_key,
    make_staging_key,
)
from productinfo.storage.supabase import SupabaseStorage
from tests.fake_supabase import (
    BUCKET,
    OBJECT_NOT_FOUND,
    README_LIMITS,
    SECRET_KEY,
    SERVICE_KEY,
    UNAVAILABLE,
)
from tests.helpers import admin_with_product, assert_error
from tests.test_photos import JPEG, upload

DIGEST = hashlib.sha256(b"a photo").hexdigest()
JPEG_KEY = make_key(DIGEST, "image/jpeg")
WEBP_KEY = make_key(DIGEST, "image/webp", variant="thumb")
STAGED_KEY = make_staging_key()
TOKEN = r"\?token=[\w-]+"


@pytest.fixture
def server(supabase_server):
    return supabase_server


def backend(
    url: str, *, public: bool = False, key: str = SERVICE_KEY, seconds: int = 600
) -> SupabaseStorage:
    return SupabaseStorage(
        url=url, service_role_key=key, bucket=BUCKET, public=public, signed_url_seconds=seconds
    )


def test_put_uploads_with_type_cache_and_upsert(server):
    backend(server.url).put(JPEG_KEY, b"\xff\xd8\xff jpeg", "image/jpeg")
    (call,) = server.requests
    assert (call.method, call.path) == ("POST", f"/storage/v1/object/{BUCKET}/{JPEG_KEY}")
    assert (call.headers["Apikey"], call.headers["Authorization"]) == (
        SERVICE_KEY,
        f"Bearer {SERVICE_KEY}",
    )
    assert call.headers["X-Upsert"] == "true"
    assert call.form == {"cacheControl": str(365 * 24 * 3600)}
    assert server.objects == {f"{BUCKET}/{JPEG_KEY}": (b"\xff\xd8\xff jpeg", "image/jpeg")}


def test_secret_key_goes_in_apikey_alone(server):
    storage = backend(server.url, key=SECRET_KEY)
    storage.put(JPEG_KEY, b"jpeg", "image/jpeg")
    storage.urls([JPEG_KEY])
    storage.delete([JPEG_KEY])
    for call in server.requests:
        assert call.headers["Apikey"] == SECRET_KEY
        assert "Authorization" not in call.headers  # it is not a JWT
    assert len(server.requests) == 3


def test_put_again_replaces_the_object(server):
    storage = backend(server.url)
    storage.put(WEBP_KEY, b"first", "image/webp")
    storage.put(WEBP_KEY, bytearray(b"retried"), "image/webp")
    assert server.objects == {f"{BUCKET}/{WEBP_KEY}": (b"retried", "image/webp")}


def test_delete_removes_in_one_request_and_ignores_missing_objects(server):
    storage = backend(server.url)
    storage.put(JPEG_KEY, b"jpeg", "image/jpeg")
    server.requests.clear()
    storage.delete([JPEG_KEY, WEBP_KEY])
    storage.delete([JPEG_KEY])
    storage.delete([])
    assert server.objects == {}
    assert [(c.method, c.path, c.json) for c in server.requests] == [
        ("DELETE", f"/storage/v1/object/{BUCKET}", {"prefixes": [JPEG_KEY, WEBP_KEY]}),
        ("DELETE", f"/storage/v1/object/{BUCKET}", {"prefixes": [JPEG_KEY]}),
    ]
    assert server.requests[0].headers["Authorization"] == f"Bearer {SERVICE_KEY}"


def test_private_bucket_signs_urls_that_fetch_the_object(server):
    storage = backend(server.url)
    storage.put(JPEG_KEY, b"jpeg", "image/jpeg")
    server.requests.clear()
    url = storage.url(JPEG_KEY)
    assert re.fullmatch(f"{server.url}/storage/v1/object/sign/{BUCKET}/{JPEG_KEY}{TOKEN}", url)
    (call,) = server.requests
    assert (call.method, call.path) == ("POST", f"/storage/v1/object/sign/{BUCKET}/{JPEG_KEY}")
    assert call.json == {"expiresIn": "600"}
    assert call.headers["Authorization"] == f"Bearer {SERVICE_KEY}"
    fetched = httpx.get(url)
    assert (fetched.content, fetched.headers["Content-Type"]) == (b"jpeg", "image/jpeg")


def test_private_bucket_signs_a_list_in_one_request(server):
    storage = backend(server.url)
    storage.put(JPEG_KEY, b"jpeg", "image/jpeg")
    storage.put(WEBP_KEY, b"webp", "image/webp")
    server.requests.clear()
    lost = make_key(hashlib.sha256(b"lost").hexdigest(), "image/jpeg")
    urls = storage.urls([JPEG_KEY, WEBP_KEY, lost, JPEG_KEY])
    sign = f"{server.url}/storage/v1/object/sign/{BUCKET}"
    # The lost object is left out rather than failing the whole list.
    assert set(urls) == {JPEG_KEY, WEBP_KEY}
    for key, url in urls.items():
        assert re.fullmatch(f"{sign}/{key}{TOKEN}", url)
    (call,) = server.requests
    assert (call.method, call.path) == ("POST", f"/storage/v1/object/sign/{BUCKET}")
    assert call.json == {"expiresIn": "600", "paths": [JPEG_KEY, WEBP_KEY, lost]}
    assert storage.urls([]) == {}
    assert len(server.requests) == 1


def test_signing_a_missing_object_is_photo_not_found(server):
    with pytest.raises(PhotoNotFound):
        backend(server.url).url(JPEG_KEY)


def test_public_bucket_urls_need_no_request(server):
    storage = backend(server.url, public=True)
    storage.put(JPEG_KEY, b"jpeg", "image/jpeg")
    server.requests.clear()
    public = f"{server.url}/storage/v1/object/public/{BUCKET}"
    assert storage.url(JPEG_KEY) == f"{public}/{JPEG_KEY}"
    assert storage.urls([JPEG_KEY, WEBP_KEY]) == {
        JPEG_KEY: f"{public}/{JPEG_KEY}",
        WEBP_KEY: f"{public}/{WEBP_KEY}",
    }
    assert server.requests == []
    assert httpx.get(storage.url(JPEG_KEY)).content == b"jpeg"


OPERATIONS = {
    "put": lambda storage: storage.put(JPEG_KEY, b"jpeg", "image/jpeg"),
    "get": lambda storage: storage.get(JPEG_KEY),
    "delete": lambda storage: storage.delete([JPEG_KEY, WEBP_KEY]),
    "url": lambda storage: storage.url(JPEG_KEY),
    "urls": lambda storage: storage.urls([JPEG_KEY, WEBP_KEY]),
    "upload_target": lambda storage: storage.upload_target(STAGED_KEY, content_type="image/jpeg"),
}
# What a retry may cure: the server's own failures, a gateway's page, being overloaded.
PASSING_FAILURES = {
    "server error": (500, {"statusCode": "500", "error": "internal", "message": "boom"}),
    "gateway page": (502, "<html><body>502 Bad Gateway</body></html>"),
    "overloaded": (503, {"statusCode": "503", "error": "unavailable", "message": "busy"}),
    "rate limited": (400, {"statusCode": "429", "error": "too_many", "message": "slow down"}),
}
# What no retry cures, answered as the server does (HTTP 400, the real status in the body).
REFUSALS = {
    "bad key": (
        400,
        {"statusCode": "403", "error": "Unauthorized", "message": "invalid signature"},
    ),
    "too large": (400, {"statusCode": "413", "error": "Payload too large", "message": "limit"}),
    "type refused": (
        400,
        {"statusCode": "415", "error": "invalid_mime_type", "message": "mime type x"},
    ),
}


def logged_cause(caplog, failure):
    """Check that the server's answer is in the log, at error level; the client gets less."""
    status, body = failure
    (record,) = [r for r in caplog.records if r.name == "productinfo.storage.supabase"]
    assert record.levelname == "ERROR"
    assert (body["message"] if isinstance(body, dict) else str(status)) in record.getMessage()


@pytest.mark.parametrize("failure", PASSING_FAILURES.values(), ids=PASSING_FAILURES.keys())
@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_passing_failures_are_storage_unavailable(server, operation, failure, caplog):
    server.failure = failure
    with pytest.raises(StorageUnavailable):
        operation(backend(server.url))
    assert len(server.requests) == 1
    logged_cause(caplog, failure)


@pytest.mark.parametrize("failure", REFUSALS.values(), ids=REFUSALS.keys())
@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_refusals_are_storage_misconfigured(server, operation, failure, caplog):
    server.failure = failure
    with pytest.raises(StorageMisconfigured) as raised:
        operation(backend(server.url))
    assert raised.value.status == 500  # not a 503: the client must not retry for ever
    assert len(server.requests) == 1
    logged_cause(caplog, failure)


@pytest.mark.parametrize(
    ("operation", "outcome"),
    [
        (OPERATIONS["put"], StorageMisconfigured),  # the bucket is missing
        (OPERATIONS["get"], PhotoNotFound),
        (OPERATIONS["delete"], None),  # nothing there to delete: done
        (OPERATIONS["url"], PhotoNotFound),
        (OPERATIONS["urls"], StorageMisconfigured),  # missing objects get no error: no bucket
        (OPERATIONS["upload_target"], StorageMisconfigured),  # the bucket is missing
    ],
    ids=["put", "get", "delete", "url", "urls", "upload_target"],
)
def test_404_answers(server, operation, outcome):
    server.failure = (400, OBJECT_NOT_FOUND)
    if outcome is None:
        operation(backend(server.url))
    else:
        with pytest.raises(outcome):
            operation(backend(server.url))
    assert len(server.requests) == 1


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_server_not_listening_is_storage_unavailable(operation):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(StorageUnavailable):
        operation(backend(f"http://127.0.0.1:{port}"))


def test_get_downloads_an_object_with_the_servers_key(server):
    storage = backend(server.url)
    storage.put(JPEG_KEY, b"\xff\xd8\xff jpeg", "image/jpeg")
    server.requests.clear()
    assert storage.get(JPEG_KEY) == b"\xff\xd8\xff jpeg"
    (call,) = server.requests
    assert (call.method, call.path) == ("GET", f"/storage/v1/object/{BUCKET}/{JPEG_KEY}")
    assert call.headers["Authorization"] == f"Bearer {SERVICE_KEY}"
    with pytest.raises(PhotoNotFound):
        storage.get(WEBP_KEY)


def test_more_than_1000_paths_are_signed_in_requests_of_1000(server):
    keys = [
        make_key(hashlib.sha256(str(n).encode()).hexdigest(), "image/jpeg") for n in range(2500)
    ]
    for key in keys:
        server.objects[f"{BUCKET}/{key}"] = (b"jpeg", "image/jpeg")
    urls = backend(server.url).urls(keys)
    assert set(urls) == set(keys)
    assert [len(call.json["paths"]) for call in server.requests] == [1000, 1000, 500]
    # The fake, like the server, refuses to sign more in one request.
    with pytest.raises(StorageApiError) as refused:
        backend(server.url).bucket.create_signed_urls(keys[:1001], 60)
    assert (refused.value.status, refused.value.message) == (
        "400",
        "body/paths must NOT have more than 1000 items",
    )


def test_a_signed_url_stops_working_when_it_expires(server):
    storage = backend(server.url, seconds=1)
    storage.put(JPEG_KEY, b"jpeg", "image/jpeg")
    url = storage.url(JPEG_KEY)
    assert httpx.get(url).content == b"jpeg"
    time.sleep(1.1)
    expired = httpx.get(url)
    assert expired.status_code == 400
    assert expired.json() == {
        "statusCode": "400",
        "code": "InvalidJWT",
        "error": "InvalidJWT",
        "message": "jwt expired",
    }


def test_upload_target_is_a_signed_upload_url_for_a_put(server):
    target = backend(server.url).upload_target(STAGED_KEY, content_type="image/heic")
    upload = f"{server.url}/storage/v1/object/upload/sign/{BUCKET}/{STAGED_KEY}"
    assert re.fullmatch(upload + TOKEN, target.url)
    assert (target.method, target.headers) == ("PUT", {"Content-Type": "image/heic"})
    (call,) = server.requests
    assert (call.method, call.path) == (
        "POST",
        f"/storage/v1/object/upload/sign/{BUCKET}/{STAGED_KEY}",
    )
    assert call.headers["X-Upsert"] == "true"  # a retried PUT replaces the first
    assert call.headers["Authorization"] == f"Bearer {SERVICE_KEY}"

    # The app sends the bytes as the body; sent again, they replace the first ones.
    for data in (b"first", b"heic bytes"):
        sent = httpx.put(target.url, content=data, headers=target.headers)
        assert sent.status_code == 200, sent.text
        assert sent.json()["Key"] == f"{BUCKET}/{STAGED_KEY}"
    assert server.objects[f"{BUCKET}/{STAGED_KEY}"] == (b"heic bytes", "image/heic")
    assert "Authorization" not in server.requests[-1].headers


def test_the_fake_takes_a_signed_upload_as_storage3_sends_it(server):
    signed = backend(server.url).bucket.create_signed_upload_url(STAGED_KEY)
    bucket = backend(server.url).bucket
    answer = bucket.upload_to_signed_url(
        STAGED_KEY, signed["token"], b"jpeg bytes", {"content-type": "image/jpeg"}
    )
    assert answer.full_path == f"{BUCKET}/{STAGED_KEY}"
    call = server.requests[-1]
    assert (call.method, call.path, call.args) == (
        "PUT",
        f"/storage/v1/object/upload/sign/{BUCKET}/{STAGED_KEY}",
        {"token": signed["token"]},
    )
    assert call.files == {"file": ("image/jpeg", b"jpeg bytes")}
    assert call.form == {"cacheControl": "3600"}
    assert server.objects[f"{BUCKET}/{STAGED_KEY}"] == (b"jpeg bytes", "image/jpeg")


@pytest.mark.parametrize(
    ("token", "path", "code", "message"),
    [
        ("forged", STAGED_KEY, "InvalidJWT", "invalid signature"),
        (None, make_staging_key(), "InvalidSignature", "The url do not match the signature"),
        ("expired", STAGED_KEY, "InvalidJWT", "jwt expired"),
    ],
    ids=["forged", "another path", "expired"],
)
def test_signed_upload_urls_are_refused_as_the_server_refuses_them(
    server, token, path, code, message
):
    target = backend(server.url).upload_target(STAGED_KEY, content_type="image/jpeg")
    real = target.url.split("token=")[1]
    if token == "expired":
        kind, name, _ = server.tokens[real]
        server.tokens[real] = (kind, name, time.time() - 1)
        token = real
    url = f"{server.url}/storage/v1/object/upload/sign/{BUCKET}/{path}?token={token or real}"
    refused = httpx.put(url, content=b"jpeg", headers=target.headers)
    assert refused.status_code == 400
    assert refused.json() == {"statusCode": "400", "code": code, "error": code, "message": message}
    assert server.objects == {}


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b"x" * (README_LIMITS["file_size_limit"] + 1), "image/jpeg", "413", "EntityTooLarge"),
        (b"<html>", "text/html", "415", "InvalidMimeType"),
    ],
    ids=["too large", "wrong type"],
)
def test_bucket_limits_refuse_uploads_with_the_real_status_in_the_body(
    server, data, content_type, status, code
):
    server.limits = dict(README_LIMITS)
    target = backend(server.url).upload_target(STAGED_KEY, content_type=content_type)
    refused = httpx.put(target.url, content=data, headers=target.headers)
    assert refused.status_code == 400
    assert (refused.json()["statusCode"], refused.json()["code"]) == (status, code)
    assert server.objects == {}


def test_a_bucket_that_does_not_exist_is_a_500_that_says_retrying_will_not_help(
    make_supabase_app,
):
    app = make_supabase_app(SUPABASE_BUCKET="fotos")  # a typo of the operator's
    client, product_id = admin_with_product(app)
    body = assert_error(upload(client, product_id, JPEG), 500, "storage_misconfigured")
    assert "will not help" in body["message"]


def test_storage_that_is_down_is_a_503_to_retry(make_supabase_app, supabase_server):
    app = make_supabase_app()
    client, product_id = admin_with_product(app)
    supabase_server.failure = UNAVAILABLE
    assert_error(upload(client, product_id, JPEG), 503, "storage_unavailable")
