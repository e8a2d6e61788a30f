"""The app served by waitress over real HTTP, as in production."""

import json

import pytest

from productinfo.auth import sessions
from tests.helpers import PASSWORD
from tests.servers import app_env, call, post_json, readme_waitress_options, waitress


@pytest.fixture
def base_url(app, tmp_path):
    """The app served by waitress in a process of its own, on the test database."""
    with waitress(app_env(app, tmp_path), tmp_path / "waitress.log") as url:
        yield url


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


@pytest.fixture
def behind_proxy(app, tmp_path):
    """The app served by the README's waitress command, behind a proxy at 127.0.0.1."""
    # Flask-Limiter's per-address limit set high: the database's sign-in limits are tested.
    env = app_env(app, tmp_path, AUTH_RATE_LIMIT="600/minute")
    with waitress(env, tmp_path / "proxied.log", args=readme_waitress_options()) as url:
        yield url


def sign_in(url, email, password, *, client: str, peer: str = "127.0.0.1"):
    """Sign in as `client`, through the proxy (peer 127.0.0.1) unless another peer is named."""
    body = {"email": email, "password": password}
    return post_json(url, "/users.login", body, headers={"X-Forwarded-For": client}, source=peer)


def test_behind_a_proxy_limits_count_each_client_apart(behind_proxy, auth):
    auth.signup(email="ana@example.com")
    per_address = sessions.LOGIN_PER_ADDRESS.count
    for n in range(per_address):  # one client guesses, spread over many accounts
        status, _ = sign_in(behind_proxy, f"who{n}@example.com", "wrong-1", client="203.0.113.7")
        assert status == 401
    status, body = sign_in(behind_proxy, "x@example.com", "wrong-1", client="203.0.113.7")
    assert (status, body["code"]) == (429, "too_many_requests")
    # Anyone else still signs in.
    status, _ = sign_in(behind_proxy, "ana@example.com", PASSWORD, client="198.51.100.20")
    assert status == 200


def test_a_client_that_bypasses_the_proxy_cannot_choose_its_address(behind_proxy, auth):
    auth.signup(email="ana@example.com")
    for _ in range(sessions.LOGIN_PER_ACCOUNT_AND_ADDRESS.count):
        # Straight to waitress from another address, claiming to be the owner's.
        status, _ = sign_in(
            behind_proxy, "ana@example.com", "wrong-1", client="198.51.100.20", peer="127.0.0.2"
        )
        assert status == 401
    status, _ = sign_in(behind_proxy, "ana@example.com", PASSWORD, client="198.51.100.20")
    assert status == 200
