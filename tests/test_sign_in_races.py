"""Requests that race: guesses sent at the same moment, from threads and from several servers."""

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from productinfo.auth import sessions
from tests.helpers import Auth
from tests.servers import app_env, post_json, waitress

LIMIT = sessions.LOGIN_PER_ACCOUNT_AND_ADDRESS.count  # 10 per account and address
GUESSES = LIMIT + 4
# A bcrypt cost at which a check takes tens of milliseconds, as in production: time enough
# for guesses sent together to overlap while they are checked.
ROUNDS = 10


def all_at_once(count: int, send) -> list[int]:
    """Call `send(n)` from `count` threads released at the same moment; return the statuses."""
    start = threading.Barrier(count)

    def one(n):
        start.wait()
        return send(n)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def counted_guesses(fetch) -> int:
    rows = fetch("SELECT count(*) AS n FROM throttle_events WHERE bucket = 'login:account+address'")
    return rows[0]["n"]


def test_simultaneous_guesses_in_threads_stop_at_the_limit(make_app, fetch):
    app = make_app(BCRYPT_ROUNDS=ROUNDS)
    Auth(app).signup(email="ana@example.com")
    body = {"email": "ana@example.com", "password": "wrong-guess-1"}

    def guess(_):
        client = app.test_client()
        return client.post("/users.login", json=body, environ_base={"REMOTE_ADDR": "10.0.0.1"})

    statuses = [response.status_code for response in all_at_once(GUESSES, guess)]
    # Each 401 is a password bcrypt checked; each 429 was refused before it.
    assert sorted(statuses) == [401] * LIMIT + [429] * (GUESSES - LIMIT)
    assert counted_guesses(fetch) == LIMIT


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_simultaneous_guesses_across_server_processes_stop_at_the_limit(make_app, tmp_path, fetch):
    """Three waitress processes, one database: serverless instances, as far as limits go."""
    app = make_app(BCRYPT_ROUNDS=ROUNDS)  # the password's hash has this cost
    Auth(app).signup(email="ana@example.com")
    body = {"email": "ana@example.com", "password": "wrong-guess-1"}
    with contextlib.ExitStack() as servers:
        env = app_env(app, tmp_path, AUTH_RATE_LIMIT="600/minute")
        urls = [servers.enter_context(waitress(env, tmp_path / f"server{n}.log")) for n in range(3)]
        statuses = all_at_once(
            GUESSES, lambda n: post_json(urls[n % len(urls)], "/users.login", body)[0]
        )
    assert sorted(statuses) == [401] * LIMIT + [429] * (GUESSES - LIMIT)
    assert counted_guesses(fetch) == LIMIT


def test_a_refresh_token_sent_many_times_at_once_keeps_one_chain(make_app, tmp_path):
    """Retries of one refresh token, at the same moment, to two server processes."""
    app = make_app()
    user = Auth(app).signup()
    body = {"refresh_token": user["refresh_token"]}
    with contextlib.ExitStack() as servers:
        urls = [
            servers.enter_context(
                waitress(app_env(app, tmp_path), tmp_path / f"s{n}.log", threads=8)
            )
            for n in range(2)
        ]
        answers = all_at_once(8, lambda n: post_json(urls[n % 2], "/users.refresh", body))
        assert [status for status, _ in answers] == [200] * 8
        successors = {answer["data"]["refresh_token"] for _, answer in answers}
        assert len(successors) == 1  # one chain, whichever answer the app kept
        [successor] = successors
        status, answer = post_json(urls[0], "/users.refresh", {"refresh_token": successor})
        assert status == 200
        following = answer["data"]["refresh_token"]
        # The chain moved on: the first token sent again now ends the session.
        status, answer = post_json(urls[1], "/users.refresh", body)
        assert (status, answer["code"]) == (401, "session_revoked")
        status, answer = post_json(urls[0], "/users.refresh", {"refresh_token": following})
        assert (status, answer["code"]) == (401, "session_revoked")
