"""The app served by waitress over real HTTP, as in production."""

import json
import threading
import urllib.error
import urllib.request

import pytest
from waitress.server import create_server


@pytest.fixture
def base_url(app):
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


def call(url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.load(error)


def test_served_over_http(base_url, auth):
    token = {"Authorization": f"Bearer {auth.signup()['access_token']}"}
    status, headers, body = call(f"{base_url}/health")
    assert (status, body["data"]) == (200, {"database": "ok"})
    assert headers["X-Content-Type-Options"] == "nosniff"

    payload = json.dumps({"companies": [{"id": 5, "name": "Ifri"}]}).encode()
    json_type = {"Content-Type": "application/json"}
    status, _, body = call(f"{base_url}/companies.add", payload, {**json_type, **token})
    assert status == 200
    status, _, body = call(f"{base_url}/companies.get?q=ifr", headers=token)
    assert [c["name"] for c in body["data"]] == ["Ifri"]


def test_errors_over_http(base_url, auth):
    token = {"Authorization": f"Bearer {auth.signup()['access_token']}"}
    status, headers, body = call(
        f"{base_url}/companies.add", b"{oops", {"Content-Type": "application/json", **token}
    )
    assert (status, body["code"]) == (400, "malformed_json")
    assert body["request_id"] == headers["X-Request-ID"]
