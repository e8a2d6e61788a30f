"""Supabase Storage's object endpoints, simulated over real HTTP for contract tests.

The fake server answers the endpoints storage3 calls, with the request and answer
shapes of the Storage API (storage3's `_sync/file_api.py` for the requests; the
server's routes and error codes for the answers). Like the real server it answers
most errors with HTTP 400 and the real status in the body's `statusCode`
(`{"statusCode": "404", "error": "not_found", ...}`), refuses to sign more than
1,000 paths in one request, lets a signed URL work only until it expires,
refuses a bucket that does not exist, and enforces a bucket's size and type
limits when given.

It keeps objects in memory and records every request. It can be told to answer
every request with an error (`failure`), to become unreachable after storing a
number of objects (`down_after_stores`) or signing a number of lists
(`down_after_signings`), to drop the connection after storing an object
(`drop_answer_to`), or to answer late (`delay_answer_to`).

Run alone, for trying the API by hand: `python -m tests.fake_supabase 54321`, with
the README's bucket limits; signed URLs last what the app asks for
(`SIGNED_URL_SECONDS`).
"""

import secrets
import socket
import sys
import threading
import time
from types import SimpleNamespace

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

BUCKET = "photos"
SERVICE_KEY = "eyJ-test.legacy-service-role.key"  # legacy keys are JWTs: three dotted parts
SECRET_KEY = "sb_secret_0123456789abcdefghij"  # the newer kind: not a JWT
OBJECT_NOT_FOUND = {"statusCode": "404", "error": "not_found", "message": "Object not found"}
NO_ACCESS = "Either the object does not exist or you do not have access to it"
UNAVAILABLE = (503, {"statusCode": "503", "error": "unavailable", "message": "down"})
# The most paths the server signs in one request; more is a validation error of the body.
SIGN_LIMIT = 1000
# How long a signed upload URL lasts: the server's setting, not the client's choice.
UPLOAD_URL_SECONDS = 2 * 3600
# What the README asks the bucket to be limited to.
README_LIMITS = {
    "file_size_limit": 25_000_000,
    "allowed_mime_types": [
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/heic",
        "image/heif",
        "application/octet-stream",
    ],
}


def _error(status: str, code: str, message: str, error: str | None = None):
    """Answer as the server renders its errors: HTTP 400, or 500 for its own failures."""
    body = {"statusCode": status, "code": code, "error": error or code, "message": message}
    return body, 500 if status == "500" else 400


def _bucket_of(path: str) -> str:
    """Name the bucket a request of the object API is about."""
    rest = path.removeprefix("/storage/v1/object/")
    for prefix in ("upload/sign/", "sign/", "public/"):
        rest = rest.removeprefix(prefix)
    return rest.split("/", 1)[0]


class FakeStorageServer:
    """Supabase Storage's object endpoints, served from memory in a thread."""

    def __init__(self, port: int = 0):
        self.objects: dict[str, tuple[bytes, str]] = {}  # "bucket/path" -> (bytes, content type)
        self.requests: list[SimpleNamespace] = []
        self.failure: tuple[int, object] | None = None  # (status, JSON body or text) for all
        self.unreachable = False  # every connection is dropped without an answer
        self.limits: dict = {}  # file_size_limit, allowed_mime_types
        self.down_after_stores: int | None = None
        self.down_after_signings: int | None = None
        self.drop_answer_to: str | None = None  # a path suffix
        self.delay_answer_to: tuple[str, float] | None = None  # (path suffix, seconds)
        self.tokens: dict[str, tuple[str, str, float]] = {}  # token -> (kind, name, expiry)
        self.buckets = {BUCKET}  # the buckets that exist
        self.httpd = make_server("127.0.0.1", port, self._app(), threaded=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"

    def _app(self) -> Flask:
        app = Flask("fake_supabase_storage")

        @app.before_request
        def record_or_fail():
            self.requests.append(
                SimpleNamespace(
                    method=request.method,
                    path=request.path,
                    args=request.args.to_dict(),
                    headers=dict(request.headers),
                    json=request.get_json(silent=True),
                    form=request.form.to_dict(),
                    files={name: (f.mimetype, f.read()) for name, f in request.files.items()},
                )
            )
            if self.unreachable:
                return self._drop()
            if self.failure is not None:
                status, body = self.failure
                return (jsonify(body) if isinstance(body, dict) else body), status
            if _bucket_of(request.path) not in self.buckets:
                return _error("404", "NoSuchBucket", "Bucket not found", "Bucket not found")

        @app.post("/storage/v1/object/<bucket>/<path:path>")
        def upload(bucket, path):
            if f"{bucket}/{path}" in self.objects and request.headers.get("x-upsert") != "true":
                return _error("409", "Duplicate", "The resource already exists", "Duplicate")
            content_type, data = self.requests[-1].files["file"]
            return self._store(bucket, path, data, content_type)

        @app.post("/storage/v1/object/upload/sign/<bucket>/<path:path>")
        def sign_upload(bucket, path):
            token = self._token("upload", f"{bucket}/{path}", UPLOAD_URL_SECONDS)
            url = f"/object/upload/sign/{bucket}/{path}?token={token}"
            return {"url": url, "token": token}

        @app.put("/storage/v1/object/upload/sign/<bucket>/<path:path>")
        def upload_to_signed_url(bucket, path):
            refused = self._check_token("upload", f"{bucket}/{path}")
            if refused:
                return refused
            call = self.requests[-1]
            if "file" in call.files:  # multipart, as storage3 sends it
                content_type, data = call.files["file"]
            else:  # the bytes as the body, as an app sends them
                content_type = request.mimetype or "application/octet-stream"
                data = request.get_data()
            return self._store(bucket, path, data, content_type)

        @app.delete("/storage/v1/object/<bucket>")
        def remove(bucket):
            names = [f"{bucket}/{path}" for path in request.json["prefixes"]]
            removed = [
                {"name": name, "bucket_id": bucket} for name in names if name in self.objects
            ]
            for name in names:
                self.objects.pop(name, None)
            return jsonify(removed)

        @app.post("/storage/v1/object/sign/<bucket>/<path:path>")
        def sign(bucket, path):
            if f"{bucket}/{path}" not in self.objects:
                return OBJECT_NOT_FOUND, 400
            return {"signedURL": self._signed(bucket, path)}

        @app.post("/storage/v1/object/sign/<bucket>")
        def sign_many(bucket):
            paths = request.json["paths"]
            if len(paths) > SIGN_LIMIT:
                # Fastify's answer to a body its schema refuses.
                message = f"body/paths must NOT have more than {SIGN_LIMIT} items"
                return {"statusCode": "400", "error": "Bad Request", "message": message}, 400
            answer = []
            for path in paths:
                if f"{bucket}/{path}" in self.objects:
                    answer.append(
                        {"error": None, "path": path, "signedURL": self._signed(bucket, path)}
                    )
                else:
                    answer.append({"error": NO_ACCESS, "path": path, "signedURL": None})
            if self.down_after_signings is not None:
                self.down_after_signings -= 1
                if self.down_after_signings <= 0:
                    self.failure = UNAVAILABLE
            return jsonify(answer)

        @app.get("/storage/v1/object/sign/<bucket>/<path:path>")
        def download_signed(bucket, path):
            refused = self._check_token("download", f"{bucket}/{path}")
            return refused or download_public(bucket, path)

        @app.get("/storage/v1/object/public/<bucket>/<path:path>")
        @app.get("/storage/v1/object/<bucket>/<path:path>")  # with the server's key
        def download_public(bucket, path):
            if f"{bucket}/{path}" not in self.objects:
                return _error("404", "NoSuchKey", "Object not found", "not_found")
            data, content_type = self.objects[f"{bucket}/{path}"]
            return data, 200, {"Content-Type": content_type}

        return app

    def _signed(self, bucket: str, path: str) -> str:
        token = self._token("download", f"{bucket}/{path}", int(request.json["expiresIn"]))
        return f"/object/sign/{bucket}/{path}?token={token}"

    def _token(self, kind: str, name: str, seconds: float) -> str:
        token = secrets.token_urlsafe(16)
        self.tokens[token] = (kind, name, time.time() + seconds)
        return token

    def _check_token(self, kind: str, name: str):
        """Refuse a signed request as the server does: a bad token, another path, expired."""
        found = self.tokens.get(request.args.get("token", ""))
        if found is None or found[0] != kind:
            return _error("400", "InvalidJWT", "invalid signature")
        if found[1] != name:
            return _error("400", "InvalidSignature", "The url do not match the signature")
        if found[2] < time.time():
            return _error("400", "InvalidJWT", "jwt expired")
        return None

    def _store(self, bucket: str, path: str, data: bytes, content_type: str):
        limit = self.limits.get("file_size_limit")
        if limit is not None and len(data) > limit:
            return _error(
                "413",
                "EntityTooLarge",
                "The object exceeded the maximum allowed size",
                "Payload too large",
            )
        allowed = self.limits.get("allowed_mime_types")
        if allowed is not None and content_type not in allowed:
            message = f"mime type {content_type} is not supported"
            return _error("415", "InvalidMimeType", message, "invalid_mime_type")
        self.objects[f"{bucket}/{path}"] = (data, content_type)
        if self.down_after_stores is not None:
            self.down_after_stores -= 1
            if self.down_after_stores <= 0:
                self.unreachable = True
        if self.drop_answer_to and path.endswith(self.drop_answer_to):
            return self._drop()
        if self.delay_answer_to and path.endswith(self.delay_answer_to[0]):
            time.sleep(self.delay_answer_to[1])
        return {"Key": f"{bucket}/{path}", "Id": "8d0e3f52-6f0c-4f49-9a57-1a5c0b1f2a11"}

    def _drop(self):
        """Close the connection without a word, as a network that lost the answer would."""
        request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        return "", 204

    def start(self) -> None:
        """Serve in a thread until `stop`."""
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.thread.join(timeout=5)

    def app_config(self) -> dict[str, str]:
        """Return the settings of an app storing its photos in this server's bucket."""
        return {
            "STORAGE_BACKEND": "supabase",
            "SUPABASE_URL": self.url,
            "SUPABASE_SERVICE_ROLE_KEY": SERVICE_KEY,
            "SUPABASE_BUCKET": BUCKET,
        }

    def heal(self) -> None:
        """Answer normally again, keeping the objects and the limits."""
        self.failure = None
        self.unreachable = False
        self.down_after_stores = self.down_after_signings = None
        self.drop_answer_to = self.delay_answer_to = None

    def reset(self) -> None:
        """Forget objects and requests, and answer normally again."""
        self.heal()
        self.objects.clear()
        self.requests.clear()
        self.tokens.clear()
        self.limits = {}
        self.buckets = {BUCKET}


if __name__ == "__main__":
    server = FakeStorageServer(int(sys.argv[1]) if len(sys.argv) > 1 else 54321)
    server.limits = dict(README_LIMITS)
    print(f"Fake Supabase Storage at {server.url}, bucket {BUCKET!r}, key {SERVICE_KEY!r}")
    server.httpd.serve_forever()
