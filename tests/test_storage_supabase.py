"""Contract tests of the Supabase backend against a Storage server simulated over real HTTP.

The fake server answers the endpoints storage3 calls, with the request and answer
shapes of the Storage API (see storage3's `_sync/file_api.py`). It keeps objects
in memory, records every request, and can be told to answer every request with
an error. Everything else is real: storage3, httpx, sockets.
"""

import hashlib
import socket
import threading
from types import SimpleNamespace

import httpx
import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from productinfo.storage import PhotoNotFound, StorageUnavailable, make_key
from productinfo.storage.supabase import SupabaseStorage

BUCKET = "photos"
SERVICE_KEY = "eyJ-test.legacy-service-role.key"  # legacy keys are JWTs: three dotted parts
SECRET_KEY = "sb_secret_0123456789abcdefghij"  # the newer kind: not a JWT
DIGEST = hashlib.sha256(b"a photo").hexdigest()
JPEG_KEY = make_key(DIGEST, "image/jpeg")
WEBP_KEY = make_key(DIGEST, "image/webp", variant="thumb")
OBJECT_NOT_FOUND = {"statusCode": "404", "error": "not_found", "message": "Object not found"}
NO_ACCESS = "Either the object does not exist or you do not have access to it"


class FakeStorageServer:
    """Supabase Storage's object endpoints, served from memory in a thread."""

    def __init__(self):
        self.objects: dict[str, tuple[bytes, str]] = {}  # "bucket/path" -> (bytes, content type)
        self.requests: list[SimpleNamespace] = []
        self.failure: tuple[int, object] | None = None  # (status, JSON body or text) for all
        self.httpd = make_server("127.0.0.1", 0, self._app(), threaded=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"

    def _app(self) -> Flask:
        app = Flask("fake_supabase_storage")
        objects = self.objects

        @app.before_request
        def record_or_fail():
            self.requests.append(
                SimpleNamespace(
                    method=request.method,
                    path=request.path,
                    headers=dict(request.headers),
                    json=request.get_json(silent=True),
                    form=request.form.to_dict(),
                    files={name: (f.mimetype, f.read()) for name, f in request.files.items()},
                )
            )
            if self.failure is not None:
                status, body = self.failure
                return (jsonify(body) if isinstance(body, dict) else body), status

        @app.post("/storage/v1/object/<bucket>/<path:path>")
        def upload(bucket, path):
            name = f"{bucket}/{path}"
            if name in objects and request.headers.get("x-upsert") != "true":
                duplicate = {"statusCode": "409", "error": "Duplicate", "message": "exists"}
                return duplicate, 400
            content_type, data = self.requests[-1].files["file"]
            objects[name] = (data, content_type)
            return {"Key": name, "Id": "8d0e3f52-6f0c-4f49-9a57-1a5c0b1f2a11"}

        @app.delete("/storage/v1/object/<bucket>")
        def remove(bucket):
            names = [f"{bucket}/{path}" for path in request.json["prefixes"]]
            removed = [{"name": name, "bucket_id": bucket} for name in names if name in objects]
            for name in names:
                objects.pop(name, None)
            return jsonify(removed)

        def signed(bucket, path):
            return f"/object/sign/{bucket}/{path}?token=t-{request.json['expiresIn']}"

        @app.post("/storage/v1/object/sign/<bucket>/<path:path>")
        def sign(bucket, path):
            if f"{bucket}/{path}" not in objects:
                return OBJECT_NOT_FOUND, 400
            return {"signedURL": signed(bucket, path)}

        @app.post("/storage/v1/object/sign/<bucket>")
        def sign_many(bucket):
            answer = []
            for path in request.json["paths"]:
                if f"{bucket}/{path}" in objects:
                    answer.append({"error": None, "path": path, "signedURL": signed(bucket, path)})
                else:
                    answer.append({"error": NO_ACCESS, "path": path, "signedURL": None})
            return jsonify(answer)

        @app.get("/storage/v1/object/public/<bucket>/<path:path>")
        @app.get("/storage/v1/object/sign/<bucket>/<path:path>")
        def download(bucket, path):
            data, content_type = objects[f"{bucket}/{path}"]
            return data, 200, {"Content-Type": content_type}

        return app


@pytest.fixture(scope="module")
def running_server():
    fake = FakeStorageServer()
    thread = threading.Thread(target=fake.httpd.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.httpd.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def server(running_server):
    """The fake server, empty and answering normally."""
    running_server.objects.clear()
    running_server.requests.clear()
    running_server.failure = None
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
