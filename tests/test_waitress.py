"""The app served by waitress over real HTTP, as in production."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest


@pytest.fixture
def base_url(app, tmp_path):
    """The app served by waitress in a process of its own, on the test database."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "INSTANCE_PATH": str(tmp_path / "served"),
        "BCRYPT_ROUNDS": "4",
    }
    command = [
        sys.executable,
        "-m",
        "waitress",
        f"--listen=127.0.0.1:{port}",
        "--call",
        "productinfo:create_app",
    ]
    log = tmp_path / "waitress.log"
    with log.open("w") as output:
        server = subprocess.Popen(command, env=env, stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"{url}/", timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"waitress did not start: {log.read_text()}")
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=10)


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
    assert (status, body["data"]) == (200, {"database": "ok", "rate_limits": "ok"})
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
