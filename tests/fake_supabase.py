"""Supabase Storage's object endpoints, simulated over real HTTP for contract tests.

The fake server answers the endpoints storage3 calls, with the request and answer
shapes of the Storage API (see storage3's `_sync/file_api.py`). It keeps objects
in memory, records every request, and can be told to answer every request with
an error.
"""

import threading
from types import SimpleNamespace

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

BUCKET = "photos"
SERVICE_KEY = "eyJ-test.legacy-service-role.key"  # legacy keys are JWTs: three dotted parts
SECRET_KEY = "sb_secret_0123456789abcdefghij"  # the newer kind: not a JWT
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

    def start(self) -> None:
        """Serve in a thread until `stop`."""
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.thread.join(timeout=5)

    def reset(self) -> None:
        """Forget objects and requests, and answer normally again."""
        self.objects.clear()
        self.requests.clear()
        self.failure = None
