"""The app served by waitress over real HTTP, as in production."""

import json
import urllib.error
import urllib.request

import pytest

from tests.helpers import served_by_waitress


@pytest.fixture
def base_url(app, tmp_path):
    """The app served by waitress in a process of its own, on the test database."""
    env = {
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "INSTANCE_PATH": str(tmp_path / "served"),
        "BCRYPT_ROUNDS": "4",
    }
    with served_by_waitress(env, tmp_path / "waitress.log") as url:
        yield url


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
