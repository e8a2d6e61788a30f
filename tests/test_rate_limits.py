"""Brute force and floods: limits counted in the database, and per address by Flask-Limiter."""

import dataclasses
import os

import pytest
import redis

from productinfo.auth import service
from tests.helpers import PASSWORD, Auth, assert_error, assert_ok

LOGIN_LIMIT_PER_ACCOUNT = service.LOGIN_PER_ACCOUNT.count

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def login(client, email, password, address="10.0.0.1"):
    return client.post(
        "/users.login",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_failed_logins_per_account_end_in_429(client, auth):
    auth.signup(email="ana@example.com")
    for attempt in range(LOGIN_LIMIT_PER_ACCOUNT):
        address = f"10.0.0.{attempt}"  # spread over addresses: the account limit still holds
        assert_error(
            login(client, "ana@example.com", "wrong-guess-1", address), 401, "invalid_credentials"
        )
    response = login(client, "ana@example.com", PASSWORD, "10.9.9.9")
    assert_error(response, 429, "too_many_requests")
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60


def test_the_limit_holds_across_app_instances(make_app):
    first, second = make_app(), make_app()  # two serverless instances, one database
    Auth(first).signup(email="ana@example.com")
    for _ in range(LOGIN_LIMIT_PER_ACCOUNT):
        login(first.test_client(), "ana@example.com", "wrong-guess-1")
    assert_error(login(second.test_client(), "ana@example.com", PASSWORD), 429, "too_many_requests")


def test_unknown_accounts_are_limited_alike(client):
    for _ in range(LOGIN_LIMIT_PER_ACCOUNT):
        assert_error(
            login(client, "ghost@example.com", "wrong-guess-1"), 401, "invalid_credentials"
        )
    assert_error(login(client, "ghost@example.com", "wrong-guess-1"), 429, "too_many_requests")


def test_a_successful_login_resets_the_account_count(client, auth):
    auth.signup(email="ana@example.com")
    for _ in range(LOGIN_LIMIT_PER_ACCOUNT - 1):
        login(client, "ana@example.com", "wrong-guess-1")
    assert_ok(login(client, "ana@example.com", PASSWORD))
    for _ in range(LOGIN_LIMIT_PER_ACCOUNT - 1):
        assert_error(login(client, "ana@example.com", "wrong-guess-1"), 401, "invalid_credentials")


def test_failed_logins_per_address(monkeypatch, client):
    from productinfo.auth import service

    monkeypatch.setattr(
        service, "LOGIN_PER_ADDRESS", dataclasses.replace(service.LOGIN_PER_ADDRESS, count=3)
    )
    for n in range(3):
        login(client, f"someone{n}@example.com", "wrong-guess-1", "10.1.1.1")
    assert_error(
        login(client, "other@example.com", "wrong-guess-1", "10.1.1.1"), 429, "too_many_requests"
    )
    assert_error(
        login(client, "other@example.com", "wrong-guess-1", "10.1.1.2"), 401, "invalid_credentials"
    )


@pytest.fixture(params=["memory", "redis"])
def limited_app(request, make_app):
    if request.param == "memory":
        yield make_app(RATELIMIT_ENABLED=True, AUTH_RATE_LIMIT="3 per minute")
        return
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.ConnectionError as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}: {error}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {error}")
    # The test's addresses are from a documentation range, unused by anything else.
    pattern = "LIMITS:*productinfo/198.51.100.*"
    for key in connection.scan_iter(pattern):
        connection.delete(key)
    yield make_app(
        RATELIMIT_ENABLED=True, AUTH_RATE_LIMIT="3 per minute", RATELIMIT_STORAGE_URI=REDIS_URL
    )
    assert list(connection.scan_iter(pattern)), "the counters were not kept in Redis"
    for key in connection.scan_iter(pattern):
        connection.delete(key)


def test_per_address_request_limit(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        assert_error(login(client, "x@example.com", "wrong-guess-1", "198.51.100.1"), 401)
    response = login(client, "x@example.com", "wrong-guess-1", "198.51.100.1")
    assert_error(response, 429, "too_many_requests")
    assert 0 < int(response.headers["Retry-After"]) <= 61
    # Another address is counted apart.
    assert_error(login(client, "x@example.com", "wrong-guess-1", "198.51.100.2"), 401)


def test_client_address_comes_from_the_trusted_proxy(make_app):
    app = make_app(RATELIMIT_ENABLED=True, AUTH_RATE_LIMIT="2 per minute", TRUSTED_PROXIES=1)
    client = app.test_client()

    def through_proxy(client_ip):
        return client.post(
            "/users.login",
            json={"email": "x@example.com", "password": "wrong-guess-1"},
            headers={"X-Forwarded-For": client_ip},
        )

    through_proxy("203.0.113.1")
    through_proxy("203.0.113.1")
    assert_error(through_proxy("203.0.113.1"), 429, "too_many_requests")
    assert_error(through_proxy("203.0.113.2"), 401, "invalid_credentials")
