"""Contract tests of the Supabase backend against a Storage server simulated over real HTTP.

The fake server (tests/fake_supabase.py) answers the endpoints storage3 calls.
Everything else is real: storage3, httpx, sockets.
"""

import hashlib
import socket

import httpx
import pytest

from productinfo.storage import PhotoNotFound, StorageUnavailable, make_key
from productinfo.storage.supabase import SupabaseStorage
from tests.fake_supabase import (
    BUCKET,
    OBJECT_NOT_FOUND,
    SECRET_KEY,
    SERVICE_KEY,
    FakeStorageServer,
)

DIGEST = hashlib.sha256(b"a photo").hexdigest()
JPEG_KEY = make_key(DIGEST, "image/jpeg")
WEBP_KEY = make_key(DIGEST, "image/webp", variant="thumb")


@pytest.fixture(scope="module")
def running_server():
    fake = FakeStorageServer()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def server(running_server):
    """The fake server, empty and answering normally."""
    running_server.reset()
    return running_server


def backend(url: str, *, public: bool = False, key: str = SERVICE_KEY) -> SupabaseStorage:
    return SupabaseStorage(
        url=url, service_role_key=key, bucket=BUCKET, public=public, signed_url_seconds=600
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
    assert url == f"{server.url}/storage/v1/object/sign/{BUCKET}/{JPEG_KEY}?token=t-600"
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
    assert urls == {
        JPEG_KEY: f"{sign}/{JPEG_KEY}?token=t-600",
        WEBP_KEY: f"{sign}/{WEBP_KEY}?token=t-600",
    }
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
    "delete": lambda storage: storage.delete([JPEG_KEY, WEBP_KEY]),
    "url": lambda storage: storage.url(JPEG_KEY),
    "urls": lambda storage: storage.urls([JPEG_KEY, WEBP_KEY]),
}
FAILURES = {
    "bad key": (
        400,
        {"statusCode": "403", "error": "Unauthorized", "message": "invalid signature"},
    ),
    "too large": (413, {"statusCode": "413", "error": "Payload too large", "message": "limit"}),
    "server error": (500, {"statusCode": "500", "error": "internal", "message": "boom"}),
    "gateway page": (502, "<html><body>502 Bad Gateway</body></html>"),
    "overloaded": (503, {"statusCode": "503", "error": "unavailable", "message": "busy"}),
}


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_error_answers_are_storage_unavailable(server, operation, failure, caplog):
    server.failure = failure
    with pytest.raises(StorageUnavailable):
        operation(backend(server.url))
    assert len(server.requests) == 1
    # The cause stays in the server's log; the client only learns to retry.
    status, body = failure
    (record,) = [r for r in caplog.records if r.name == "productinfo.storage.supabase"]
    assert record.levelname == "ERROR"
    assert (body["message"] if isinstance(body, dict) else str(status)) in record.getMessage()


@pytest.mark.parametrize(
    ("operation", "outcome"),
    [
        (OPERATIONS["put"], StorageUnavailable),  # the bucket is missing
        (OPERATIONS["delete"], None),  # nothing there to delete: done
        (OPERATIONS["url"], PhotoNotFound),
        (OPERATIONS["urls"], StorageUnavailable),  # missing objects get no error, but no bucket
    ],
    ids=["put", "delete", "url", "urls"],
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
