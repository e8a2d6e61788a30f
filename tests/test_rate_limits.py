"""Brute force and floods: limits counted in the database, and per address by Flask-Limiter."""

import dataclasses
import os
import socket
import subprocess
import threading
import time

import pytest
import redis

from productinfo.auth import sessions
from productinfo.ratelimit import SweptMemoryStorage
from tests.helpers import PASSWORD, Auth, assert_error, assert_ok

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PER_PAIR = sessions.LOGIN_PER_ACCOUNT_AND_ADDRESS.count


def login(client, email, password, address="10.0.0.1"):
    return client.post(
        "/users.login",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def fail(client, email, count, address="10.0.0.1"):
    for _ in range(count):
        assert_error(login(client, email, "wrong-guess-1", address), 401, "invalid_credentials")


def test_failed_logins_from_one_address_end_in_429(client, auth):
    auth.signup(email="ana@example.com")
    fail(client, "ana@example.com", PER_PAIR)
    response = login(client, "ana@example.com", PASSWORD)
    assert_error(response, 429, "too_many_requests")
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60


def test_a_stranger_cannot_lock_the_owner_out(client, auth):
    auth.signup(email="ana@example.com")
    fail(client, "ana@example.com", PER_PAIR, address="203.0.113.66")
    assert_ok(login(client, "ana@example.com", PASSWORD, address="10.0.0.1"))


def test_guesses_spread_over_addresses_are_limited_per_account(monkeypatch, client, auth):
    monkeypatch.setattr(
        sessions, "LOGIN_PER_ACCOUNT", dataclasses.replace(sessions.LOGIN_PER_ACCOUNT, count=4)
    )
    auth.signup(email="ana@example.com")
    for n in range(4):
        fail(client, "ana@example.com", 1, address=f"10.0.0.{n}")
    assert_error(login(client, "ana@example.com", PASSWORD, "10.9.9.9"), 429, "too_many_requests")


def test_the_limit_holds_across_app_instances(make_app):
    first, second = make_app(), make_app()  # two serverless instances, one database
    Auth(first).signup(email="ana@example.com")
    fail(first.test_client(), "ana@example.com", PER_PAIR)
    assert_error(login(second.test_client(), "ana@example.com", PASSWORD), 429, "too_many_requests")


def test_unknown_accounts_are_limited_alike(client):
    fail(client, "ghost@example.com", PER_PAIR)
    assert_error(login(client, "ghost@example.com", "wrong-guess-1"), 429, "too_many_requests")


def test_a_successful_login_resets_the_count(client, auth):
    auth.signup(email="ana@example.com")
    fail(client, "ana@example.com", PER_PAIR - 1)
    assert_ok(login(client, "ana@example.com", PASSWORD))
    fail(client, "ana@example.com", PER_PAIR - 1)


def test_failed_logins_per_address(monkeypatch, client):
    three = dataclasses.replace(sessions.LOGIN_PER_ADDRESS, count=3)
    monkeypatch.setattr(sessions, "LOGIN_PER_ADDRESS", three)
    for n in range(3):
        fail(client, f"someone{n}@example.com", 1, "10.1.1.1")
    assert_error(
        login(client, "other@example.com", "wrong-guess-1", "10.1.1.1"), 429, "too_many_requests"
    )
    fail(client, "other@example.com", 1, "10.1.1.2")


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


def test_health_is_never_limited_and_429_names_the_request(make_app):
    client = make_app(RATELIMIT_ENABLED=True, RATE_LIMIT="2 per minute").test_client()
    address = {"REMOTE_ADDR": "198.51.100.9"}
    for _ in range(5):
        assert_ok(client.get("/health", environ_base=address))
    for _ in range(2):
        assert_error(client.get("/categories.get", environ_base=address), 401, "not_signed_in")
    limited = client.get("/categories.get", environ_base=address)
    body = assert_error(limited, 429, "too_many_requests")  # checks the X-Request-ID too
    assert body["request_id"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def private_redis(tmp_path):
    """A Redis server of the test's own, which it may stop; the shared one is never touched."""
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp_path)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    connection = redis.Redis(port=port)
    for _ in range(100):
        try:
            connection.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    connection.close()
    yield server, f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=10)


def test_a_redis_that_goes_down_degrades_to_counting_in_memory(make_app, private_redis, caplog):
    server, url = private_redis
    limits = {"RATELIMIT_ENABLED": True, "AUTH_RATE_LIMIT": "3 per minute"}
    client = make_app(**limits, RATELIMIT_STORAGE_URI=url).test_client()
    assert assert_ok(client.get("/health"))["rate_limits"] == "ok"
    assert_error(login(client, "x@example.com", "wrong-guess-1", "198.51.100.3"), 401)

    server.terminate()
    server.wait(timeout=10)
    health = client.get("/health")
    assert assert_ok(health)["rate_limits"] == "degraded"
    assert "each instance" in health.get_json()["message"]
    assert_error(client.get("/categories.get"), 401, "not_signed_in")  # not a 500
    # The limits still hold, counted by this instance alone from now on.
    for _ in range(3):
        assert_error(login(client, "x@example.com", "wrong-guess-1", "198.51.100.3"), 401)
    assert_error(login(client, "x@example.com", "wrong-guess-1", "198.51.100.3"), 429)
    assert "falling back to in-memory storage" in caplog.text


def test_a_redis_down_from_the_start(make_app):
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=url).test_client()
    assert assert_ok(client.get("/health"))["rate_limits"] == "degraded"
    assert_error(client.post("/users.login", json={"email": "x@example.com", "password": "x"}), 401)


def test_a_successful_sign_in_does_not_count_against_the_address(monkeypatch, client, auth):
    three = dataclasses.replace(sessions.LOGIN_PER_ADDRESS, count=3)
    monkeypatch.setattr(sessions, "LOGIN_PER_ADDRESS", three)
    auth.signup(email="ana@example.com")
    fail(client, "someone@example.com", 2, "10.1.1.1")
    assert_ok(login(client, "ana@example.com", PASSWORD, "10.1.1.1"))
    fail(client, "someone@example.com", 1, "10.1.1.1")  # the third failure, still a 401
    assert_error(login(client, "ana@example.com", PASSWORD, "10.1.1.1"), 429, "too_many_requests")


@pytest.mark.parametrize("storage", ["memory", "redis down"])
def test_counting_in_memory_starts_no_thread_in_requests(monkeypatch, make_app, storage):
    uri = "memory://" if storage == "memory" else f"redis://127.0.0.1:{free_port()}/0"
    app = make_app(
        RATELIMIT_ENABLED=True, AUTH_RATE_LIMIT="3 per minute", RATELIMIT_STORAGE_URI=uri
    )
    client = app.test_client()
    started, start = [], threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda self: (started.append(self), start(self)))
    for _ in range(3):
        assert_error(login(client, "x@example.com", "wrong-guess-1", "198.51.100.4"), 401)
    assert_error(login(client, "x@example.com", "wrong-guess-1", "198.51.100.4"), 429)
    assert started == []


def test_expired_counters_are_swept_by_later_requests(monkeypatch):
    monkeypatch.setattr(SweptMemoryStorage, "SWEEP_SECONDS", 0.05)
    storage = SweptMemoryStorage()
    storage.incr("short", expiry=0.05)
    storage.incr("long", expiry=60)
    time.sleep(0.1)
    storage.incr("long", expiry=60)  # a later request sweeps what expired meanwhile
    assert "short" not in storage.storage
    assert "short" not in storage.expirations
    assert storage.get("long") == 2
